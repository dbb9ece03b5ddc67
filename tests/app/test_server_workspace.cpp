// emolens-cli on a PostgreSQL workspace, end to end: the same commands as on a file (import,
// info, extract, train, select, agreement, traces, export), a team set up, and two members
// labeling through the store at once while the CLI trains. Runs on the PostgreSQL test server
// (app_test_server_workspace_postgresql); the SQLite run says so and skips.

#include "CliRun.h"
#include "TestPaths.h"
#include "TestWorkspace.h"
#include "common/WorkspaceLocation.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/ModelRepository.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUrl>
#include <atomic>

using namespace emolens;

namespace {

using emolens::test::CliResult;
using emolens::test::json;
using emolens::test::runCli;

} // namespace

class ServerWorkspaceTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // The feature cache of a server workspace is this machine's (~/.cache/emolens/...):
        // here, the test's folder, for the CLI runs too.
        qputenv("XDG_CACHE_HOME", m_dir.path().toUtf8());
    }
    void theCommandsWorkOnAServerWorkspace();

private:
    QTemporaryDir m_dir;
};

void ServerWorkspaceTest::theCommandsWorkOnAServerWorkspace()
{
    if (!test::onPostgres())
        QSKIP("needs the PostgreSQL test server (app_test_server_workspace_postgresql)");
    const QString db = test::newWorkspace(QDir(m_dir.path()), QStringLiteral("cli"));
    const CliResult imported =
        runCli({QStringLiteral("import"), test::corpus(QStringLiteral("ravdess")),
                QStringLiteral("--db"), db, QStringLiteral("--json")});
    QVERIFY2(imported.exitCode == 0, imported.err.constData());
    QCOMPARE(json(imported)[QStringLiteral("imported")].toInt(), 48);
    const CliResult info = runCli({QStringLiteral("info"), QStringLiteral("--db"), db});
    QVERIFY2(info.exitCode == 0, info.err.constData());
    QVERIFY2(info.out.contains("48"), info.out.constData());

    // The team: two annotators, passwords from standard input, never on the command line.
    const QString suffix = QString::number(QCoreApplication::applicationPid());
    const QString ana = QStringLiteral("ana_cli_") + suffix;
    const QString bo = QStringLiteral("bo_cli_") + suffix;
    QCOMPARE(
        runCli({QStringLiteral("team"), QStringLiteral("--db"), db, QStringLiteral("--set-up")})
            .exitCode,
        0);
    for (const QString &member : {ana, bo}) {
        const CliResult added =
            runCli({QStringLiteral("team"), QStringLiteral("--db"), db, QStringLiteral("--add"),
                    member, QStringLiteral("--password-stdin")},
                   300000, QStringLiteral("pw-%1\n").arg(member).toUtf8());
        QVERIFY2(added.exitCode == 0, added.err.constData());
    }
    const CliResult team =
        runCli({QStringLiteral("team"), QStringLiteral("--db"), db, QStringLiteral("--json")});
    QVERIFY2(team.exitCode == 0, team.err.constData());
    QCOMPARE(json(team)[QStringLiteral("members")].toArray().size(), 2);
    const CliResult onFile = runCli({QStringLiteral("team"), QStringLiteral("--db"),
                                     m_dir.filePath(QStringLiteral("solo.emolens"))});
    QCOMPARE(onFile.exitCode, 1);
    QVERIFY2(onFile.err.contains("PostgreSQL workspace"), onFile.err.constData());

    // Features and a first model, as on a file; the cache is this machine's.
    const CliResult extracted = runCli({QStringLiteral("extract"), QStringLiteral("--db"), db});
    QVERIFY2(extracted.exitCode == 0, extracted.err.constData());
    const QString cache = WorkspaceLocation::parse(db).companionPath(QStringLiteral(".features"));
    QVERIFY2(cache.startsWith(m_dir.path()) && QDir(cache).exists(), qPrintable(cache));

    // Ana and Bo label every clip at once, each over their own connection, while the CLI
    // trains on the same workspace.
    QList<UtteranceRecord> clips;
    qint64 schemaId = 0;
    {
        Database owner(db);
        QVERIFY(owner.open());
        QVERIFY(CorpusRepository(owner).utterances(0, &clips));
        schemaId = CorpusRepository(owner).corpus(clips[0].corpusId)->labelSchemaId;
    }
    std::atomic<int> failures{0};
    QList<QThread *> annotators;
    for (const QString &member : {ana, bo}) {
        annotators << QThread::create([&, member] {
            Database mine(test::signedInAs(db, member, QStringLiteral("pw-") + member));
            if (!mine.open()) {
                ++failures;
                return;
            }
            LabelRepository labels(mine);
            for (const UtteranceRecord &clip : std::as_const(clips))
                if (!labels.setLabel(clip.id, schemaId, member,
                                     LabelValue::ofCategory(member == ana
                                                                ? QStringLiteral("sad")
                                                                : QStringLiteral("happy"))))
                    ++failures;
        });
        annotators.last()->start();
    }
    const CliResult trained =
        runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
                QStringLiteral("baseline"), QStringLiteral("--epochs"), QStringLiteral("2"),
                QStringLiteral("--json")});
    for (QThread *t : annotators) {
        t->wait();
        delete t;
    }
    QVERIFY2(trained.exitCode == 0, trained.err.constData());
    QCOMPARE(failures.load(), 0);
    {
        Database owner(db);
        QVERIFY(owner.open());
        LabelRepository labels(owner);
        int anas = 0, bos = 0;
        for (const UtteranceRecord &clip : std::as_const(clips)) {
            anas += labels.currentLabel(clip.id, ana)->value.category == QLatin1String("sad");
            bos += labels.currentLabel(clip.id, bo)->value.category == QLatin1String("happy");
        }
        QCOMPARE(anas, int(clips.size()));
        QCOMPARE(bos, int(clips.size()));
        QVERIFY(ModelRepository(owner).activeModel().has_value());
    }

    // The rest reads what the team wrote.
    const CliResult selected =
        runCli({QStringLiteral("select"), QStringLiteral("--db"), db, QStringLiteral("--count"),
                QStringLiteral("5"), QStringLiteral("--json")});
    QVERIFY2(selected.exitCode == 0, selected.err.constData());
    const CliResult agreement =
        runCli({QStringLiteral("agreement"), QStringLiteral("--db"), db, QStringLiteral("--json")});
    QVERIFY2(agreement.exitCode == 0, agreement.err.constData());
    QVERIFY2(agreement.out.contains(ana.toUtf8()) && agreement.out.contains(bo.toUtf8()),
             agreement.out.constData());
    const QString csv = m_dir.filePath(QStringLiteral("labels.csv"));
    const CliResult exported =
        runCli({QStringLiteral("export"), QStringLiteral("--db"), db, QStringLiteral("--format"),
                QStringLiteral("csv"), QStringLiteral("--out"), csv});
    QVERIFY2(exported.exitCode == 0, exported.err.constData());
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll().count('\n'), 49); // header + 48 clips

    // What the user sees never holds a password.
    const CliResult withPassword = runCli({QStringLiteral("info"), QStringLiteral("--db"),
                                           test::signedInAs(db, ana, QStringLiteral("pw-") + ana)});
    QVERIFY2(withPassword.exitCode == 0, withPassword.err.constData());
    QVERIFY(!withPassword.out.contains("pw-") && !withPassword.err.contains("pw-"));
    const CliResult wrong = runCli({QStringLiteral("info"), QStringLiteral("--db"),
                                    test::signedInAs(db, ana, QStringLiteral("not-the-password"))});
    QCOMPARE(wrong.exitCode, 1);
    QVERIFY2(wrong.err.contains("password authentication failed") &&
                 !wrong.err.contains("not-the-password"),
             wrong.err.constData());
}

QTEST_GUILESS_MAIN(ServerWorkspaceTest)
#include "test_server_workspace.moc"
