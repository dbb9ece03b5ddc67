// emolens: the desktop application. Opens the workspace named on the command line, else the
// last one used, else shows the window's empty state (New / Open / Import).

#include "BlasKernels.h"
#include "FirstRunSetup.h"
#include "MainWindow.h"
#include "OutOfMemory.h"
#include "common/WorkspaceLocation.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QMessageBox>
#include <QSettings>

int main(int argc, char *argv[])
{
    // Before anything else: OpenBLAS's own kernels for this CPU (may start the program again).
    emolens::useFastBlasKernels(argv);
    // Before any tensor exists: LibTorch's CPU allocation failures then arrive as std::bad_alloc.
    emolens::guardCpuAllocations();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("EmoLens"));
    QApplication::setApplicationName(QStringLiteral("EmoLens"));
    QApplication::setApplicationDisplayName(QStringLiteral("EmoLens"));
    QApplication::setApplicationVersion(QStringLiteral(EMOLENS_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.emolens.EmoLens"));
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("io.github.emolens.EmoLens")));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Speech emotion recognition research and annotation"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("workspace"),
        QStringLiteral("The .emolens workspace to open (created if missing)."),
        QStringLiteral("[WORKSPACE.emolens]"));
    parser.process(app);

    emolens::MainWindow window;
    window.show();

    const QStringList args = parser.positionalArguments();
    QString path = args.value(0);
    const bool fromCommandLine = !path.isEmpty();
    if (!fromCommandLine) {
        path = QSettings().value(QStringLiteral("workspace/last")).toString();
        if (emolens::WorkspaceLocation::isMissingFile(path))
            path.clear();
    }
    if (!path.isEmpty()) {
        // A workspace named on the command line that does not exist is created only when the
        // user says so: a mistyped path must not leave an empty workspace behind.
        auto ifMissing = emolens::MainWindow::IfMissing::Refuse;
        if (fromCommandLine && emolens::WorkspaceLocation::isMissingFile(path) &&
            QFileInfo(path).dir().exists()) {
            window.show();
            const auto answer = QMessageBox::question(
                &window, QStringLiteral("EmoLens"),
                QStringLiteral("%1 does not exist.\n\nCreate a new workspace there?")
                    .arg(QDir::toNativeSeparators(QFileInfo(path).absoluteFilePath())));
            if (answer == QMessageBox::Yes)
                ifMissing = emolens::MainWindow::IfMissing::Create;
            else
                path.clear();
        }
        // A team's workspace may ask for a password: the window is there to ask from.
        if (emolens::WorkspaceLocation::isServerUrl(path))
            window.show();
        if (!path.isEmpty())
            if (auto st = window.openWorkspace(path, ifMissing); !st && fromCommandLine)
                QMessageBox::warning(&window, QStringLiteral("EmoLens"), st.error());
    } else if (!QSettings().contains(QStringLiteral("workspace/last"))) {
        // First start: the default workspace with the demo corpus, so there is something to
        // look at and label right away.
        auto *setup =
            new emolens::FirstRunSetup(window, emolens::FirstRunSetup::defaultWorkspacePath(),
                                       emolens::FirstRunSetup::defaultDemoFolder());
        setup->start();
    }
    return app.exec();
}
