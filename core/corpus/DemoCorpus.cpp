#include "corpus/DemoCorpus.h"

#include "corpus/DelimitedText.h"

#include "corpus/SpeechSynthesizer.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>

#include <iterator>
#include <map>

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
    {"alice", "en+f2", "female", 0, 0},
    {"beth", "en+f4", "female", 6, -10},
    {"carol", "en+f3", "female", -5, 8},
    {"david", "en+m3", "male", 0, 0},
    {"edward", "en+m1", "male", 6, -8},
    {"frank", "en+m6", "male", -6, 10},
    // Beyond the demo's six (DemoCorpusOptions::speakers).
    {"grace", "en+f1", "female", 3, 5},
    {"helen", "en+f5", "female", -3, -6},
    {"irene", "en-us+f2", "female", 9, 4},
    {"james", "en+m2", "male", -3, 6},
    {"kevin", "en+m4", "male", 4, -4},
    {"louis", "en-us+m3", "male", -8, -6},
};

const char *const kSentences[] = {
    "The train leaves at seven in the morning.",
    "I did not expect to see you here today.",
    "Well, we have to talk about the results.",
    "Please put the boxes next to the door.",
    // Beyond the demo's four (DemoCorpusOptions::sentences).
    "The meeting was moved to Thursday afternoon.",
    "She told me the keys were on the table.",
    "We will know more when the letter arrives.",
    "He has been working in the garden all day.",
    "Nobody answered when I called the office.",
    "The children are waiting outside the school.",
    "I think it is going to rain again tonight.",
    "They sold the old house last summer.",
    "You can take the second road on the left.",
    "My brother bought a new car yesterday.",
    "The shop closes at six on Saturdays.",
    "We watched the film until the very end.",
    "The doctor will see you in a moment.",
    "I left my phone at home this morning.",
    "The river is higher than it was last year.",
    "Your parcel was delivered to the neighbours.",
    "The kitchen needs to be painted soon.",
    "Our team played the final match on Sunday.",
    "There is still some coffee in the pot.",
    "He wrote the number on the back of the card.",
};

// Of each emotion's clips, how many in a hundred an imbalanced corpus keeps (neutral, happy,
// sad, angry).
int keptPercent(SpeechEmotion emotion)
{
    switch (emotion) {
    case SpeechEmotion::Neutral:
        return 100;
    case SpeechEmotion::Happy:
    case SpeechEmotion::Sad:
        return 60;
    case SpeechEmotion::Angry:
        return 20;
    }
    return 100;
}

} // namespace

QString DemoCorpusOptions::describe() const
{
    return QStringLiteral("speakers=%1 sentences=%2 renditions=%3 imbalanced=%4")
        .arg(speakers)
        .arg(sentences)
        .arg(renditions)
        .arg(imbalanced ? 1 : 0);
}

namespace {

// The marker's text: the version, and for a corpus other than the demo its options.
QByteArray markerText(const DemoCorpusOptions &options)
{
    QByteArray text = QByteArray::number(DemoCorpus::kVersion);
    if (!options.isDemo())
        text += ' ' + options.describe().toUtf8();
    return text;
}

} // namespace

bool DemoCorpus::isComplete(const QString &folder)
{
    return isComplete(folder, DemoCorpusOptions());
}

bool DemoCorpus::isComplete(const QString &folder, const DemoCorpusOptions &options)
{
    QFile marker(QDir(folder).filePath(QLatin1String(kMarkerFileName)));
    if (!marker.open(QIODevice::ReadOnly))
        return false;
    return marker.readAll().trimmed() == markerText(options);
}

Status DemoCorpus::generate(const QString &folder, ProgressSink &progress)
{
    return generate(folder, DemoCorpusOptions(), progress);
}

Status DemoCorpus::generate(const QString &folder, const DemoCorpusOptions &options,
                            ProgressSink &progress)
{
    if (options.speakers < 1 || options.speakers > int(std::size(kSpeakers)) ||
        options.sentences < 1 || options.sentences > int(std::size(kSentences)) ||
        options.renditions < 1 || options.renditions > 8)
        return Status::failure(
            QStringLiteral("a generated corpus has 1 to %1 speakers, 1 to %2 sentences and 1 to "
                           "8 renditions (asked: %3)")
                .arg(std::size(kSpeakers))
                .arg(std::size(kSentences))
                .arg(options.describe()));
    if (isComplete(folder, options)) {
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
    std::map<SpeechEmotion, int> counters; // the imbalance rule's running count, per emotion
    for (int k = 0; k < options.speakers; ++k) {
        const DemoSpeaker &speaker = kSpeakers[k];
        const QString name = QLatin1String(speaker.name);
        for (SpeechEmotion emotion : SpeechSynthesizer::emotions()) {
            const QString label = SpeechSynthesizer::emotionName(emotion);
            for (int s = 0; s < options.sentences; ++s) {
                for (int v = 0; v < options.renditions; ++v) {
                    // Imbalanced: keep keptPercent of the clips, spread evenly over the order.
                    const int counter = ++counters[emotion];
                    if (options.imbalanced && (counter * keptPercent(emotion)) / 100 ==
                                                  ((counter - 1) * keptPercent(emotion)) / 100)
                        continue;
                    const QString relative =
                        v == 0 ? QStringLiteral("audio/%1/%1_%2_%3.wav").arg(name, label).arg(s + 1)
                               : QStringLiteral("audio/%1/%1_%2_%3_%4.wav")
                                     .arg(name, label)
                                     .arg(s + 1)
                                     .arg(v + 1);
                    manifest << delimitedLine({relative, label, name, QLatin1String(speaker.gender),
                                               QLatin1String(kSentences[s])})
                                    .chopped(1);
                    if (QFile::exists(root.filePath(relative)))
                        continue;
                    SpeechJob job;
                    job.text = QLatin1String(kSentences[s]);
                    job.voice = QLatin1String(speaker.voice);
                    job.emotion = emotion;
                    // Renditions after the first: the pitch and rate moved by a fixed pattern,
                    // as one person never says a sentence the same way twice.
                    job.pitchOffset = speaker.pitchOffset + (v == 0 ? 0 : ((v * 7) % 11) - 5);
                    job.rateOffsetWpm = speaker.rateOffsetWpm + (v == 0 ? 0 : ((v * 13) % 21) - 10);
                    job.outputPath = root.filePath(relative);
                    jobs << job;
                }
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
    if (!marker.open(QIODevice::WriteOnly) || marker.write(markerText(options)) < 0 ||
        !marker.commit())
        return Status::failure(QStringLiteral("%1: cannot write").arg(markerPath));
    progress.setProgress(1.0, QStringLiteral("The demo corpus is ready"));
    return Status::success();
}

} // namespace emolens
