#pragma once
// ImportReportDialog: what an import did - counts, labels, and a table of every file or line
// it skipped (path, line, reason) so the user can fix the corpus and import again.
// Non-modal; deletes itself on close. GUI thread only.

#include "corpus/CorpusImporter.h"

#include <QDialog>

class QTableWidget;

namespace emolens {

class ImportReportDialog : public QDialog
{
    Q_OBJECT

public:
    ImportReportDialog(const ImportReport &report, const QString &rootPath,
                       QWidget *parent = nullptr);

    QTableWidget *skippedTable() const { return m_table; }

private:
    QTableWidget *m_table = nullptr;
};

} // namespace emolens
