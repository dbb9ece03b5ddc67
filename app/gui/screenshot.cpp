// emolens-screenshot WORKSPACE.emolens OUT.png [WIDTHxHEIGHT]: renders the main window on a
// workspace with its first utterance selected and saves it as a PNG. For checking the look
// (and for documentation) on machines without a display: run with QT_QPA_PLATFORM=offscreen.

#include "ClipView.h"
#include "MainWindow.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextStream>
#include <QThread>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    // Own settings, so a screenshot neither reads nor changes the user's window layout.
    QApplication::setOrganizationName(QStringLiteral("EmoLensScreenshot"));
    QApplication::setApplicationName(QStringLiteral("EmoLensScreenshot"));
    QTextStream err(stderr);
    const QStringList args = QApplication::arguments();
    if (args.size() < 3) {
        err << "usage: emolens-screenshot WORKSPACE.emolens OUT.png [WIDTHxHEIGHT] [ROW]\n";
        return 2;
    }
    QSize size(1400, 900);
    if (args.size() > 3) {
        const QStringList parts = args[3].split(QLatin1Char('x'));
        if (parts.size() == 2)
            size = QSize(parts[0].toInt(), parts[1].toInt());
    }
    const int row = args.size() > 4 ? args[4].toInt() : 0;

    emolens::MainWindow window;
    window.resize(size);
    window.show();
    if (auto st = window.openWorkspace(args[1]); !st) {
        err << st.error() << "\n";
        return 1;
    }
    QTableView *table = window.utteranceTable();
    if (table->model()->rowCount() > row)
        table->setCurrentIndex(table->model()->index(row, 0));
    window.resize(size);
    // Let layouts settle and a long clip finish decoding (at most 20 s).
    QElapsedTimer clock;
    clock.start();
    do {
        QApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(20);
    } while ((window.clipView()->isLoading() || clock.elapsed() < 500) && clock.elapsed() < 20000);
    if (!window.grab().save(args[2])) {
        err << args[2] << ": cannot write the PNG\n";
        return 1;
    }
    return 0;
}
