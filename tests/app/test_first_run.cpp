// The README's launch path: `emolens` started for the first time by a new user (fresh
// settings and data folders) creates the default workspace, generates the demo corpus and
// imports it, with no interaction. Runs the real executable on the offscreen platform.

#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace emolens;

class FirstRunTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void firstStartOpensTheDemoCorpus()
    {
        QTemporaryDir home;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), home.path());
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
        env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
        env.insert(QStringLiteral("XDG_CACHE_HOME"), home.filePath(QStringLiteral("cache")));
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        QProcess app;
        app.setProcessEnvironment(env);
        app.setProcessChannelMode(QProcess::MergedChannels);
        app.start(QStringLiteral(EMOLENS_GUI_PATH), {});
        QVERIFY2(app.waitForStarted(10000), qPrintable(app.errorString()));

        const QString workspace =
            home.filePath(QStringLiteral("data/EmoLens/EmoLens/default.emolens"));
        int utterances = 0;
        QDeadlineTimer deadline(180000);
        while (!deadline.hasExpired() && app.state() == QProcess::Running) {
            if (QFileInfo::exists(workspace)) {
                Database db(workspace);
                if (db.open())
                    utterances = CorpusRepository(db).utteranceCount();
                if (utterances == 96)
                    break;
            }
            QThread::msleep(500);
        }
        const bool stillRunning = app.state() == QProcess::Running;
        app.kill();
        app.waitForFinished(10000);
        QVERIFY2(stillRunning, app.readAll().constData()); // it did not crash
        QCOMPARE(utterances, 96);

        Database db(workspace);
        QVERIFY(db.open());
        const auto corpora = CorpusRepository(db).corpora();
        QCOMPARE(corpora.size(), 1);
        QCOMPARE(corpora.first().name, QStringLiteral("Demo corpus"));
        const auto counts = LabelRepository(db).labelCounts();
        QCOMPARE(counts.value(QStringLiteral("angry")), 24);
        QCOMPARE(counts.value(QStringLiteral("sad")), 24);
        QCOMPARE(CorpusRepository(db).speakers(corpora.first().id).size(), 6);
    }
};

QTEST_GUILESS_MAIN(FirstRunTest)
#include "test_first_run.moc"
