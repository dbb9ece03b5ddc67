#pragma once
// PathMapDialog: File > Audio Folders on This Machine - where this machine finds the audio a
// workspace names, when the team's machines mount the shared audio at different places
// (common/PathMap). One row per folder: as the workspace names it, and on this machine. Below
// the table, how many of the workspace's clips are found with the rows as they stand, and
// the corpus folders that are missing here (Add proposes the first of them).
// GUI thread only.

#include "common/PathMap.h"

#include <QDialog>
#include <QStringList>

class QLabel;
class QPushButton;
class QTableWidget;

namespace emolens {

class PathMapDialog : public QDialog
{
    Q_OBJECT

public:
    // storedClipPaths: every clip's path as the workspace stores it; storedRoots: the corpora's
    // folders as stored.
    PathMapDialog(const PathMap &current, QStringList storedClipPaths, QStringList storedRoots,
                  QWidget *parent = nullptr);

    // The rows as a map (valid rows only; see error()).
    PathMap pathMap() const;
    // Why the rows are not a valid map (names the row), or empty.
    QString error() const;

    // For tests: the table and its buttons.
    QTableWidget *table() const { return m_table; }
    QPushButton *addButton() const { return m_add; }
    QLabel *foundLabel() const { return m_found; }

private:
    void addRow(const QString &stored, const QString &local);
    void browse();
    void updateFound();

    QStringList m_clips;
    QStringList m_roots;
    QTableWidget *m_table = nullptr;
    QPushButton *m_add = nullptr;
    QPushButton *m_remove = nullptr;
    QPushButton *m_browse = nullptr;
    QPushButton *m_ok = nullptr;
    QLabel *m_found = nullptr;
};

} // namespace emolens
