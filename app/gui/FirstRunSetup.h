#pragma once
// FirstRunSetup: what a new user sees on the very first start, instead of an empty window.
// Creates the default workspace, generates the demo corpus (espeak-ng + sox) off the GUI
// thread with a cancellable progress dialog, then imports it through the window's normal
// import. Lives on the GUI thread; deletes itself when done.

#include <QObject>
#include <QString>

class QProgressDialog;

namespace emolens {

class JobRunner;
class MainWindow;

class FirstRunSetup : public QObject
{
    Q_OBJECT

public:
    FirstRunSetup(MainWindow &window, QString workspacePath, QString demoFolder);

    // Where the defaults live: the per-user application data folder.
    static QString defaultWorkspacePath();
    static QString defaultDemoFolder();

    void start();

private:
    void onGenerated(bool ok, const QString &error);

    MainWindow &m_window;
    QString m_workspacePath;
    QString m_demoFolder;
    JobRunner *m_runner = nullptr;
    QProgressDialog *m_dialog = nullptr;
};

} // namespace emolens
