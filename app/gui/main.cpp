// emolens: the desktop application. Opens the workspace named on the command line, else the
// last one used, else shows the window's empty state (New / Open / Import).

#include "FirstRunSetup.h"
#include "MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QMessageBox>
#include <QSettings>

int main(int argc, char *argv[])
{
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
        if (!QFileInfo::exists(path))
            path.clear();
    }
    if (!path.isEmpty()) {
        if (auto st = window.openWorkspace(path); !st && fromCommandLine)
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
