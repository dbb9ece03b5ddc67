// emolens-cli as scripts use it: import with --json, the bad-file report, export, info,
// --help on every subcommand, and one-line errors with a non-zero status on unusable input.

#include "TestPaths.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

struct CliResult
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

CliResult runCli(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(EMOLENS_CLI_PATH), args);
    CliResult r;
    if (!p.waitForFinished(300000))
        return r;
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QJsonObject json(const CliResult &r)
{
    return QJsonDocument::fromJson(r.out).object();
}

} // namespace

class CliTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpOnEveryCommand()
    {
        for (const char *command : {"import", "export", "info", "demo"}) {
            const CliResult r = runCli({QString::fromLatin1(command), QStringLiteral("--help")});
            QCOMPARE(r.exitCode, 0);
            QVERIFY2(r.out.contains("--help") && r.out.contains("Usage"), r.out.constData());
        }
        const CliResult top = runCli({QStringLiteral("--help")});
        QCOMPARE(top.exitCode, 0);
        QVERIFY(top.out.contains("import") && top.out.contains("export"));
        QCOMPARE(runCli({QStringLiteral("frobnicate")}).exitCode, 2);
    }

    void importPrintsJsonSummary()
    {
        const QString db = m_dir.filePath(QStringLiteral("cli.emolens"));
        const CliResult r =
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("ravdess")),
                    QStringLiteral("--db"), db, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        QCOMPARE(o[QStringLiteral("format")].toString(), QStringLiteral("ravdess"));
        QVERIFY(o[QStringLiteral("imported")].toInt() > 0);
        QCOMPARE(o[QStringLiteral("skipped")].toArray().size(), 0);
        QCOMPARE(o[QStringLiteral("speakers")].toInt(), 4);
        int labeled = 0;
        const QJsonObject labels = o[QStringLiteral("labels")].toObject();
        for (auto it = labels.begin(); it != labels.end(); ++it)
            labeled += it.value().toInt();
        QCOMPARE(labeled, o[QStringLiteral("imported")].toInt());

        // Again: nothing new.
        const CliResult again =
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("ravdess")),
                    QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(json(again)[QStringLiteral("added")].toInt(), 0);
        QCOMPARE(json(again)[QStringLiteral("unchanged")].toInt(),
                 o[QStringLiteral("imported")].toInt());
    }

    void importReportsBadFilesAndGoesOn()
    {
        const QString db = m_dir.filePath(QStringLiteral("bad.emolens"));
        const CliResult r =
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("bad")),
                    QStringLiteral("--db"), db, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        QCOMPARE(o[QStringLiteral("imported")].toInt(), 6);
        // Each bad file is named, by its own path or (listed but absent) in the reason given
        // for its manifest line.
        QStringList skippedPaths;
        for (const QJsonValue &v : o[QStringLiteral("skipped")].toArray()) {
            QVERIFY(!v.toObject()[QStringLiteral("reason")].toString().isEmpty());
            skippedPaths << v.toObject()[QStringLiteral("path")].toString() + QLatin1Char(' ') +
                                v.toObject()[QStringLiteral("reason")].toString();
        }
        for (const char *bad : {"empty.wav", "header-only.wav", "truncated.wav", "not-audio.wav",
                                "random.wav", "missing.wav"}) {
            bool listed = false;
            for (const QString &p : skippedPaths)
                listed = listed || p.contains(QLatin1String(bad));
            QVERIFY2(listed, bad);
        }
        // The text report names files too.
        const CliResult text =
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("bad")),
                    QStringLiteral("--db"), db});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains("truncated.wav"));
    }

    void unusableInputFailsWithOneLine()
    {
        const QString db = m_dir.filePath(QStringLiteral("none.emolens"));
        const CliResult missing =
            runCli({QStringLiteral("import"), m_dir.filePath(QStringLiteral("no-such-folder")),
                    QStringLiteral("--db"), db});
        QCOMPARE(missing.exitCode, 1);
        QCOMPARE(missing.err.count('\n'), 1);
        QVERIFY(missing.err.contains("no-such-folder"));

        const CliResult badFormat = runCli(
            {QStringLiteral("import"), emolens::test::corpus(QStringLiteral("ravdess")),
             QStringLiteral("--db"), db, QStringLiteral("--format"), QStringLiteral("klingon")});
        QCOMPARE(badFormat.exitCode, 1);
        QVERIFY(badFormat.err.contains("klingon"));

        const CliResult noDb = runCli({QStringLiteral("info"), QStringLiteral("--db"),
                                       m_dir.filePath(QStringLiteral("absent.emolens"))});
        QCOMPARE(noDb.exitCode, 1);
        QVERIFY(noDb.err.contains("absent.emolens"));
    }

    void infoAndExport()
    {
        const QString db = m_dir.filePath(QStringLiteral("cli.emolens"));
        const CliResult info =
            runCli({QStringLiteral("info"), QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(info.exitCode, 0);
        const QJsonArray corpora = json(info)[QStringLiteral("corpora")].toArray();
        QCOMPARE(corpora.size(), 1);
        QCOMPARE(corpora[0].toObject()[QStringLiteral("speakers")].toInt(), 4);
        QVERIFY(json(info)[QStringLiteral("annotators")].toArray().contains(
            QStringLiteral("corpus:ravdess")));

        const QString csv = m_dir.filePath(QStringLiteral("out.csv"));
        const CliResult exported = runCli({QStringLiteral("export"), QStringLiteral("--db"), db,
                                           QStringLiteral("--format"), QStringLiteral("csv"),
                                           QStringLiteral("--out"), csv});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const int lines = f.readAll().count('\n');
        QCOMPARE(lines, corpora[0].toObject()[QStringLiteral("utterances")].toInt() + 1);

        const QString tg = m_dir.filePath(QStringLiteral("textgrids"));
        QCOMPARE(runCli({QStringLiteral("export"), QStringLiteral("--db"), db,
                         QStringLiteral("--format"), QStringLiteral("textgrid"),
                         QStringLiteral("--out"), tg})
                     .exitCode,
                 0);
        QCOMPARE(QDir(tg).entryList({QStringLiteral("*.TextGrid")}, QDir::Files).size(), lines - 1);
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(CliTest)
#include "test_cli.moc"
