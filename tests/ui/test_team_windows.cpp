// Two EmoLens windows and the CLI on one PostgreSQL workspace at once: two members label from
// the keyboard, each under the user they signed in as, while the CLI extracts features and
// trains; then the server is stopped and started again under one of them, whose window says
// it is offline and writes the kept labels once it is back. Runs on the PostgreSQL test server
// (ui_test_team_windows_postgresql); the SQLite run says so and skips.

#include "ImportedWorkspace.h"
#include "LabelingController.h"
#include "LabelingDesk.h"
#include "MainWindow.h"
#include "TestPaths.h"
#include "TestWorkspace.h"
#include "UtteranceTableModel.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/TeamRepository.h"

#include <QAction>
#include <QApplication>
#include <QLabel>
#include <QProcess>
#include <QSettings>
#include <QSqlQuery>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace emolens;

namespace {

// The clips this window's table shows as labeled by `who`.
int shownAsLabeledBy(MainWindow &window, const QString &who)
{
    int n = 0;
    for (const UtteranceRow &row : window.utteranceModel()->rows())
        n += row.labeledByPeople.contains(who) ? 1 : 0;
    return n;
}

int labelsBy(const QString &workspace, const QString &who)
{
    Database db(workspace);
    if (!db.open())
        return -1;
    QSqlQuery q(db.connection());
    if (!q.prepare(QStringLiteral("SELECT count(*) FROM labels l JOIN annotators a ON "
                                  "a.id=l.annotator_id WHERE a.name=?")))
        return -1;
    q.addBindValue(who);
    if (!q.exec() || !q.next())
        return -1;
    return q.value(0).toInt();
}

// Labels `count` clips from row `from` with the action of the number key 1 (each moves on to
// the next clip). Two windows cannot both be the active one, which a key press needs; the
// action is what the key fires.
void labelFromRow(MainWindow &window, int from, int count)
{
    QAction *one = nullptr;
    for (QAction *action : window.findChildren<QAction *>())
        if (action->shortcut() == QKeySequence(Qt::Key_1))
            one = action;
    QVERIFY(one != nullptr);
    QTableView *table = window.utteranceTable();
    table->setCurrentIndex(table->model()->index(from, 0));
    for (int i = 0; i < count; ++i) {
        const qint64 before = window.currentUtteranceId();
        one->trigger();
        QTRY_VERIFY(window.currentUtteranceId() != before);
    }
}

} // namespace

class TestTeamWindows : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("EmoLensTest"));
        QCoreApplication::setApplicationName(QStringLiteral("team-windows"));
        QSettings().clear();
        // A number key labels the clip and moves on to the next.
        QSettings().setValue(QStringLiteral("labeling/autoAdvance"), true);
        // Journals and feature caches of server workspaces go to the test's folder.
        qputenv("XDG_CACHE_HOME", m_dir.path().toUtf8());
    }
    void twoWindowsAndTheCliLabelOneServerWorkspace();

private:
    QTemporaryDir m_dir;
};

void TestTeamWindows::twoWindowsAndTheCliLabelOneServerWorkspace()
{
    if (!test::onPostgres())
        QSKIP("needs the PostgreSQL test server (ui_test_team_windows_postgresql)");
    const QString url = test::newWorkspace(QDir(m_dir.path()), QStringLiteral("windows"));
    const QString suffix = QString::number(QCoreApplication::applicationPid());
    const QString ana = QStringLiteral("ana_gui_") + suffix;
    const QString bo = QStringLiteral("bo_gui_") + suffix;
    {
        auto owner = test::importedWorkspace(QStringLiteral("ravdess"), url);
        QVERIFY(owner);
        TeamRepository team(*owner);
        QVERIFY(team.setUp());
        QVERIFY(team.addMember(ana, TeamRole::Annotator, QStringLiteral("pw-ana")));
        QVERIFY(team.addMember(bo, TeamRole::Annotator, QStringLiteral("pw-bo")));
    }

    MainWindow anaWindow, boWindow;
    anaWindow.resize(1280, 800);
    boWindow.resize(1280, 800);
    anaWindow.show();
    boWindow.show();
    QVERIFY(anaWindow.openWorkspace(test::signedInAs(url, ana, QStringLiteral("pw-ana"))));
    QVERIFY(boWindow.openWorkspace(test::signedInAs(url, bo, QStringLiteral("pw-bo"))));
    // Each labels as who they signed in as; no password shows anywhere.
    QCOMPARE(anaWindow.labeling()->annotatorName(), ana);
    QCOMPARE(boWindow.labeling()->annotatorName(), bo);
    QVERIFY2(anaWindow.workspacePathLabel()->text().contains(ana) &&
                 !anaWindow.workspacePathLabel()->text().contains(QStringLiteral("pw-")),
             qPrintable(anaWindow.workspacePathLabel()->text()));
    QVERIFY(!anaWindow.windowTitle().contains(QStringLiteral("pw-")));
    QVERIFY(!QSettings()
                 .value(QStringLiteral("workspace/recent"))
                 .toString()
                 .contains(QStringLiteral("pw-")));
    QVERIFY(!QSettings()
                 .value(QStringLiteral("workspace/recent"))
                 .toStringList()
                 .join(QLatin1Char(' '))
                 .contains(QStringLiteral("pw-")));

    // The CLI extracts and trains on the same workspace meanwhile (as its owner).
    QProcess cli;
    cli.setProcessChannelMode(QProcess::MergedChannels);
    cli.start(QStringLiteral("/bin/sh"),
              {QStringLiteral("-c"),
               QStringLiteral("'%1' extract --db '%2' && '%1' train --db '%2' --recipe baseline "
                              "--epochs 2")
                   .arg(QStringLiteral(EMOLENS_CLI_PATH), url)});
    QVERIFY(cli.waitForStarted());

    labelFromRow(anaWindow, 0, 6);
    labelFromRow(boWindow, 0, 6);
    QTRY_COMPARE_WITH_TIMEOUT(anaWindow.labeling()->unsavedCount(), 0, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(boWindow.labeling()->unsavedCount(), 0, 20000);
    QCOMPARE(labelsBy(url, ana), 6);
    QCOMPARE(labelsBy(url, bo), 6);
    QCOMPARE(shownAsLabeledBy(anaWindow, ana), 6);
    QCOMPARE(shownAsLabeledBy(boWindow, bo), 6);
    // Ana's window shows Bo's labels, which he typed after hers, within seconds, without
    // reading the workspace again.
    QTRY_COMPARE_WITH_TIMEOUT(shownAsLabeledBy(anaWindow, bo), 6,
                              3 * LabelingDesk::kLivePollMs + 2000);
    QVERIFY(cli.waitForFinished(300000));
    QVERIFY2(cli.exitStatus() == QProcess::NormalExit && cli.exitCode() == 0,
             cli.readAll().constData());

    // The server goes away under Ana's window; she goes on labeling.
    QVERIFY(test::controlServer("pause"));
    labelFromRow(anaWindow, 6, 4); // clips she has not labeled
    QTRY_VERIFY_WITH_TIMEOUT(anaWindow.labeling()->isOffline(), 15000);
    QTRY_VERIFY_WITH_TIMEOUT(
        anaWindow.workspacePathLabel()->text().startsWith(QStringLiteral("Offline")), 5000);
    QVERIFY(anaWindow.labeling()->unsavedCount() > 0);
    // Her table keeps what she labeled before and shows what she labels now.
    QCOMPARE(shownAsLabeledBy(anaWindow, ana), 10);
    QVERIFY(test::controlServer("resume"));
    QTRY_COMPARE_WITH_TIMEOUT(anaWindow.labeling()->unsavedCount(), 0, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(
        !anaWindow.workspacePathLabel()->text().startsWith(QStringLiteral("Offline")), 5000);
    QCOMPARE(labelsBy(url, ana), 10);
    QCOMPARE(labelsBy(url, bo), 6);
    // Bo's window got its connection back too and goes on.
    QTRY_VERIFY_WITH_TIMEOUT(!boWindow.labeling()->isOffline(), 15000);
    labelFromRow(boWindow, 6, 2);
    QTRY_COMPARE_WITH_TIMEOUT(boWindow.labeling()->unsavedCount(), 0, 30000);
    QCOMPARE(labelsBy(url, bo), 8);
    // Label > Next Clip to Label hands each a clip nobody has labeled (one person per clip by
    // default) and that the other does not hold.
    anaWindow.claimNextAction()->trigger();
    boWindow.claimNextAction()->trigger();
    const qint64 anaClip = anaWindow.currentUtteranceId();
    const qint64 boClip = boWindow.currentUtteranceId();
    QVERIFY(anaClip != 0 && boClip != 0);
    QVERIFY(anaClip != boClip);
    {
        Database check(url);
        QVERIFY(check.open());
        LabelRepository labels(check);
        for (const qint64 clip : {anaClip, boClip})
            QVERIFY(!labels.currentLabel(clip, ana) && !labels.currentLabel(clip, bo));
    }

    // Following the hand-out: each number key labels the handed-out clip and, once the label
    // is stored, brings the next one nobody has labeled.
    {
        QAction *one = nullptr;
        for (QAction *action : anaWindow.findChildren<QAction *>())
            if (action->shortcut() == QKeySequence(Qt::Key_1))
                one = action;
        QVERIFY(one);
        QList<qint64> handedOut{anaClip};
        for (int i = 0; i < 3; ++i) {
            one->trigger();
            QTRY_VERIFY_WITH_TIMEOUT(anaWindow.currentUtteranceId() != handedOut.last(), 10000);
            QVERIFY(!handedOut.contains(anaWindow.currentUtteranceId()));
            handedOut << anaWindow.currentUtteranceId();
        }
        QTRY_COMPARE_WITH_TIMEOUT(anaWindow.labeling()->unsavedCount(), 0, 10000);
        Database check(url);
        QVERIFY(check.open());
        LabelRepository labels(check);
        for (int i = 0; i < 3; ++i) // labeled by her, by nobody before
            QVERIFY(labels.currentLabel(handedOut[i], ana) &&
                    !labels.currentLabel(handedOut[i], bo));
        QVERIFY(handedOut.last() != boClip); // Bo holds his
        // Picking a clip by hand ends it: the key moves to the next row again.
        QTableView *table = anaWindow.utteranceTable();
        table->setCurrentIndex(table->model()->index(0, 0));
        const qint64 first = anaWindow.currentUtteranceId();
        one->trigger();
        QTRY_COMPARE(
            anaWindow.currentUtteranceId(),
            table->model()->index(1, 0).data(UtteranceTableModel::UtteranceIdRole).toLongLong());
        QVERIFY(first != anaWindow.currentUtteranceId());
        QTRY_COMPARE_WITH_TIMEOUT(anaWindow.labeling()->unsavedCount(), 0, 10000);
    }

    // Both windows say they are connected again.
    for (MainWindow *window : {&anaWindow, &boWindow})
        QTRY_VERIFY_WITH_TIMEOUT(
            !window->workspacePathLabel()->text().startsWith(QStringLiteral("Offline")), 15000);
    QCOMPARE(shownAsLabeledBy(anaWindow, ana), 13); // 10, then 3 handed out (row 0 again)
    QCOMPARE(shownAsLabeledBy(boWindow, bo), 8);

    anaWindow.close();
    boWindow.close();
}

QTEST_MAIN(TestTeamWindows)
#include "test_team_windows.moc"
