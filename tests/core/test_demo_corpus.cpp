// The demo corpus the app opens on first run: generated completely, in the generic layout,
// not redone when complete, redone when an earlier generation was interrupted, and stopped
// promptly when the user cancels.

#include "audio/AudioFile.h"
#include "corpus/DelimitedText.h"
#include "corpus/DemoCorpus.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace emolens;

namespace {

class RecordingProgress final : public ProgressSink
{
public:
    explicit RecordingProgress(int cancelAfter = -1) : m_cancelAfter(cancelAfter) {}
    void setProgress(double fraction, const QString &message) override
    {
        ++calls;
        lastFraction = fraction;
        lastMessage = message;
    }
    bool isCancelled() const override { return m_cancelAfter >= 0 && calls >= m_cancelAfter; }

    int calls = 0;
    double lastFraction = 0;
    QString lastMessage;

private:
    int m_cancelAfter;
};

QByteArray fileHash(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

QStringList manifestLines(const QString &folder)
{
    QFile file(QDir(folder).filePath(DemoCorpus::manifestFileName()));
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    return QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

} // namespace

class TestDemoCorpus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void generatesALargerImbalancedCorpusForExperiments()
    {
        // 2 voices x 2 sentences x 2 renditions x 4 emotions = 32 clips before the imbalance;
        // of each emotion's 8: neutral keeps 8, happy and sad 60 % (4 each), angry 20 % (1).
        QTemporaryDir dir;
        const QString folder = dir.filePath(QStringLiteral("experiment"));
        DemoCorpusOptions options;
        options.speakers = 2;
        options.sentences = 2;
        options.renditions = 2;
        options.imbalanced = true;
        RecordingProgress progress;
        const Status status = DemoCorpus::generate(folder, options, progress);
        QVERIFY2(status.ok(), qPrintable(status.error()));
        QVERIFY(DemoCorpus::isComplete(folder, options));
        QVERIFY2(!DemoCorpus::isComplete(folder), "another size is not the demo");
        const QStringList lines = manifestLines(folder);
        QMap<QString, int> perLabel;
        QSet<QString> files;
        for (int i = 1; i < lines.size(); ++i) {
            const QStringList fields = parseDelimitedText(lines[i], QLatin1Char(','))[0].fields;
            ++perLabel[fields[1]];
            QVERIFY(QFileInfo(QDir(folder).filePath(fields[0])).size() > 1000);
            files.insert(fields[0]);
        }
        QCOMPARE(perLabel.value(QStringLiteral("neutral")), 8);
        QCOMPARE(perLabel.value(QStringLiteral("happy")), 4);
        QCOMPARE(perLabel.value(QStringLiteral("sad")), 4);
        QCOMPARE(perLabel.value(QStringLiteral("angry")), 1);
        QCOMPARE(files.size(), 17);
        // A second rendition of a sentence is a clip of its own, not a copy.
        QVERIFY(files.contains(QStringLiteral("audio/alice/alice_neutral_1_2.wav")));
        QVERIFY(
            fileHash(QDir(folder).filePath(QStringLiteral("audio/alice/alice_neutral_1.wav"))) !=
            fileHash(QDir(folder).filePath(QStringLiteral("audio/alice/alice_neutral_1_2.wav"))));

        DemoCorpusOptions tooMany;
        tooMany.speakers = 13;
        const Status refused =
            DemoCorpus::generate(dir.filePath(QStringLiteral("x")), tooMany, progress);
        QVERIFY(!refused && refused.error().contains(QLatin1String("1 to 12 speakers")));
    }

    void generatesACompleteCorpusOnce()
    {
        QTemporaryDir dir;
        const QString folder = dir.filePath(QStringLiteral("demo"));
        QVERIFY(!DemoCorpus::isComplete(folder));
        RecordingProgress progress;
        const Status status = DemoCorpus::generate(folder, progress);
        QVERIFY2(status.ok(), qPrintable(status.error()));
        QVERIFY(DemoCorpus::isComplete(folder));
        QCOMPARE(progress.lastFraction, 1.0);
        QVERIFY(progress.calls >= DemoCorpus::kClipCount);

        const QStringList lines = manifestLines(folder);
        QCOMPARE(lines.size(), DemoCorpus::kClipCount + 1);
        QCOMPARE(lines.first(), QStringLiteral("path,label,speaker,gender,transcript"));
        QSet<QString> speakers, labels, genders, hashes;
        QMap<QString, QString> genderOf;
        for (int i = 1; i < lines.size(); ++i) {
            // Read as the importer reads it: five fields, the sentence intact (commas and all).
            const QList<DelimitedRecord> records = parseDelimitedText(lines[i], QLatin1Char(','));
            QCOMPARE(records.size(), 1);
            QVERIFY2(records[0].error.isEmpty(), qPrintable(records[0].error));
            const QStringList fields = records[0].fields;
            QCOMPARE(fields.size(), 5);
            QVERIFY2(fields[4].endsWith(QLatin1Char('.')) || fields[4].endsWith(QLatin1Char('?')) ||
                         fields[4].endsWith(QLatin1Char('!')),
                     qPrintable(fields[4]));
            AudioProbe probe;
            const QString clip = QDir(folder).filePath(fields[0]);
            const Status probed = probeAudioFile(clip, &probe);
            QVERIFY2(probed.ok(), qPrintable(clip + QStringLiteral(": ") + probed.error()));
            QCOMPARE(probe.info.sampleRate, 16000);
            QCOMPARE(probe.info.channels, 1);
            labels << fields[1];
            speakers << fields[2];
            genders << fields[3];
            hashes << probe.contentHash;
            QVERIFY(genderOf.value(fields[2], fields[3]) == fields[3]);
            genderOf[fields[2]] = fields[3];
        }
        QCOMPARE(labels, (QSet<QString>{QStringLiteral("neutral"), QStringLiteral("happy"),
                                        QStringLiteral("sad"), QStringLiteral("angry")}));
        QCOMPARE(speakers.size(), 6);
        QCOMPARE(genderOf.keys(QStringLiteral("female")).size(), 3);
        QCOMPARE(genderOf.keys(QStringLiteral("male")).size(), 3);
        QCOMPARE(hashes.size(), DemoCorpus::kClipCount); // no two clips alike

        // Complete: a second call does nothing: no clip is written again.
        QHash<QString, QDateTime> written;
        for (QDirIterator it(folder, QDir::Files, QDirIterator::Subdirectories); it.hasNext();) {
            it.next();
            written.insert(it.filePath(), it.fileInfo().lastModified());
        }
        RecordingProgress again;
        QVERIFY(DemoCorpus::generate(folder, again).ok());
        QCOMPARE(again.calls, 1);
        for (auto it = written.cbegin(); it != written.cend(); ++it)
            QCOMPARE(QFileInfo(it.key()).lastModified(), it.value());
    }

    void redoesAnInterruptedGenerationAndHonoursCancel()
    {
        QTemporaryDir dir;
        const QString folder = dir.filePath(QStringLiteral("demo"));
        RecordingProgress cancelling(/*cancelAfter=*/5);
        const Status cancelled = DemoCorpus::generate(folder, cancelling);
        QVERIFY(!cancelled.ok());
        QVERIFY2(cancelled.error().contains(QStringLiteral("cancelled")),
                 qPrintable(cancelled.error()));
        QVERIFY(!DemoCorpus::isComplete(folder));
        QVERIFY(cancelling.calls < 12); // stopped within a clip or two per process
        QVERIFY(!QFile::exists(QDir(folder).filePath(DemoCorpus::manifestFileName())));

        RecordingProgress progress;
        QVERIFY(DemoCorpus::generate(folder, progress).ok());
        QVERIFY(DemoCorpus::isComplete(folder));
        QCOMPARE(manifestLines(folder).size(), DemoCorpus::kClipCount + 1);
        // The clips the cancelled run finished were kept, not rendered again.
        QVERIFY(progress.calls < DemoCorpus::kClipCount);
    }
};

QTEST_GUILESS_MAIN(TestDemoCorpus)
#include "test_demo_corpus.moc"
