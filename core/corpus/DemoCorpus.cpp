#include "corpus/DemoCorpus.h"

#include "corpus/DelimitedText.h"

#include "corpus/SpeechSynthesizer.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>

#include <iterator>

namespace emolens {

namespace {

const char *const kMarkerFileName = ".emolens-demo-complete";

struct DemoSpeaker
{
    const char *name;
    const char *voice;
    const char *gender;
    int pitchOffset;
    int rateOffsetWpm;
};

// Distinct espeak-ng variants plus small pitch and rate offsets, so each speaker sounds like
// a person of their own and speaker-independent splits mean something.
const DemoSpeaker kSpeakers[] = {
    {"alice", "en+f2", "female", 0, 0},  {"beth", "en+f4", "female", 6, -10},
    {"carol", "en+f3", "female", -5, 8}, {"david", "en+m3", "male", 0, 0},
    {"edward", "en+m1", "male", 6, -8},  {"frank", "en+m6", "male", -6, 10},
};

const char *const kSentences[] = {
    "The train leaves at seven in the morning.",
    "I did not expect to see you here today.",
    "Well, we have to talk about the results.",
    "Please put the boxes next to the door.",
};

} // namespace

bool DemoCorpus::isComplete(const QString &folder)
{
    QFile marker(QDir(folder).filePath(QLatin1String(kMarkerFileName)));
    if (!marker.open(QIODevice::ReadOnly))
        return false;
    return marker.readAll().trimmed() == QByteArray::number(kVersion);
}

Status DemoCorpus::generate(const QString &folder, ProgressSink &progress)
{
    if (isComplete(folder)) {
        progress.setProgress(1.0, QStringLiteral("The demo corpus is ready"));
        return Status::success();
    }
    QDir root(folder);
    if (!root.mkpath(QStringLiteral(".")))
        return Status::failure(QStringLiteral("%1: cannot create the folder").arg(folder));
    // A marker of another version means other clips: start over.
    const QString markerPath = root.filePath(QLatin1String(kMarkerFileName));
    if (QFile::exists(markerPath)) {
        QFile::remove(markerPath);
        QDir(root.filePath(QStringLiteral("audio"))).removeRecursively();
    }

    QList<SpeechJob> jobs;
    QStringList manifest{QStringLiteral("path,label,speaker,gender,transcript")};
    for (const DemoSpeaker &speaker : kSpeakers) {
        const QString name = QLatin1String(speaker.name);
        for (SpeechEmotion emotion : SpeechSynthesizer::emotions()) {
            const QString label = SpeechSynthesizer::emotionName(emotion);
            for (int s = 0; s < int(std::size(kSentences)); ++s) {
                const QString relative =
                    QStringLiteral("audio/%1/%1_%2_%3.wav").arg(name, label).arg(s + 1);
                manifest << delimitedLine({relative, label, name, QLatin1String(speaker.gender),
                                           QLatin1String(kSentences[s])})
                                .chopped(1);
                if (QFile::exists(root.filePath(relative)))
                    continue;
                SpeechJob job;
                job.text = QLatin1String(kSentences[s]);
                job.voice = QLatin1String(speaker.voice);
                job.emotion = emotion;
                job.pitchOffset = speaker.pitchOffset;
                job.rateOffsetWpm = speaker.rateOffsetWpm;
                job.outputPath = root.filePath(relative);
                jobs << job;
            }
        }
    }

    ScaledProgress rendering(progress, 0.0, 0.98);
    Status rendered = SpeechSynthesizer::renderAll(jobs, rendering, 2);
    if (!rendered)
        return rendered;

    QSaveFile manifestFile(root.filePath(manifestFileName()));
    if (!manifestFile.open(QIODevice::WriteOnly | QIODevice::Text))
        return Status::failure(QStringLiteral("%1: cannot write: %2")
                                   .arg(manifestFile.fileName(), manifestFile.errorString()));
    manifestFile.write(manifest.join(QLatin1Char('\n')).toUtf8() + '\n');
    if (!manifestFile.commit())
        return Status::failure(QStringLiteral("%1: cannot write: %2")
                                   .arg(manifestFile.fileName(), manifestFile.errorString()));

    // Written last: its presence means every clip and the manifest are complete.
    QSaveFile marker(markerPath);
    if (!marker.open(QIODevice::WriteOnly) || marker.write(QByteArray::number(kVersion)) < 0 ||
        !marker.commit())
        return Status::failure(QStringLiteral("%1: cannot write").arg(markerPath));
    progress.setProgress(1.0, QStringLiteral("The demo corpus is ready"));
    return Status::success();
}

} // namespace emolens
