#pragma once
// Shared by the GUI suites: drives a MainWindow's jobs the way a user would and waits for
// them without blocking the event loop.

#include "MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QSignalSpy>
#include <QString>
#include <QTableView>
#include <QTest>

namespace emolens::test {

// Imports a corpus folder through the window; true when the import ran and succeeded.
inline bool importInto(MainWindow &window, const QString &folder)
{
    QSignalSpy finished(&window, &MainWindow::importFinished);
    ImportRequest request;
    request.rootPath = folder;
    if (!window.startImport(request))
        return false;
    if (!window.isImporting())
        return false;
    if (!finished.wait(120000) && finished.isEmpty())
        return false;
    return finished.first().first().value<Status>().ok();
}

// Features > Extract Features through the window; true when the extraction ran and succeeded.
inline bool runExtraction(MainWindow &window, int timeoutMs = 180000)
{
    QSignalSpy finished(&window, &MainWindow::extractionFinished);
    window.extractFeaturesAction()->trigger();
    if (!window.isExtracting())
        return false;
    if (!finished.wait(timeoutMs) && finished.isEmpty())
        return false;
    return finished.first().first().value<Status>().ok();
}

// Shows the window as the active one, creates a workspace at `workspace`, imports `folder` into
// it and puts the keyboard on the table's first clip, as a user starting to label would.
inline bool labelingFromFirstClip(MainWindow &window, const QString &workspace,
                                  const QString &folder)
{
    window.show();
    QApplication::setActiveWindow(&window);
    if (!QTest::qWaitForWindowActive(&window) || !window.createWorkspace(workspace).ok() ||
        !importInto(window, folder))
        return false;
    QTableView *table = window.utteranceTable();
    table->setFocus();
    table->setCurrentIndex(table->model()->index(0, 0));
    return window.currentUtteranceId() != 0;
}

} // namespace emolens::test
