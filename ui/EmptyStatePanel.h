#pragma once
// EmptyStatePanel: what the window shows when there is nothing to browse yet - no workspace,
// or a workspace without corpora - so it is never a blank window. Three big buttons lead to
// the actions (the main window's own QActions, so their shortcuts and enabled state match).
// GUI thread only.

#include <QWidget>

class QAction;
class QLabel;
class QPushButton;

namespace emolens {

class EmptyStatePanel : public QWidget
{
    Q_OBJECT

public:
    EmptyStatePanel(QAction *newWorkspace, QAction *openWorkspace, QAction *importCorpus,
                    QWidget *parent = nullptr);

    // No workspace open, or an open workspace without any corpus.
    void setWorkspaceOpen(bool open, const QString &workspaceName = QString());

private:
    QLabel *m_title = nullptr;
    QLabel *m_text = nullptr;
    QPushButton *m_new = nullptr;
    QPushButton *m_open = nullptr;
    QPushButton *m_import = nullptr;
};

} // namespace emolens
