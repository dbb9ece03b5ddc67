#pragma once
// Shared by the GUI suites: drives a MainWindow's jobs the way a user would and waits for
// them without blocking the event loop.

#include "MainWindow.h"

#include <QSignalSpy>
#include <QString>

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

} // namespace emolens::test
