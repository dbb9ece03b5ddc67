#pragma once
// ShortcutsDialog: Help > Keyboard Shortcuts - every menu action with its keys, grouped by
// menu, read from the menu bar itself so the list can never drift from the real shortcuts.
// GUI thread only.

#include <QDialog>

class QMenuBar;

namespace emolens {

class ShortcutsDialog : public QDialog
{
    Q_OBJECT

public:
    explicit ShortcutsDialog(const QMenuBar *menuBar, QWidget *parent = nullptr);
};

} // namespace emolens
