#pragma once
// SpeechSynthesizer: renders short emotional utterances with espeak-ng and sox, for the demo
// corpus and the test corpora. Each emotion is a prosody recipe (pitch, pitch range, speaking
// rate, loudness) chosen so the emotions differ clearly and measurably: a classifier trained
// on them has something real to learn, and tests can check louder / slower / higher.
// Output: 16 kHz mono 16-bit WAV, written under a temporary name and renamed, so a file at
// the output path is always complete. Deterministic: the same job gives the same bytes.
//
// Thread-safety: all functions are reentrant; render() runs two child processes and blocks
// until they finish, so call it from a worker thread, not the GUI thread.

#include "common/Progress.h"
#include "common/Status.h"

#include <QList>
#include <QString>

namespace emolens {

enum class SpeechEmotion { Neutral, Happy, Sad, Angry };

// How one emotion is spoken. Pitch and range are espeak-ng's 0-99 scales; rate in words per
// minute; amplitude espeak-ng's 0-200; peakDbfs the level sox normalises the peak to.
struct EmotionProsody
{
    int pitch = 50;
    int pitchRange = 50;
    int wordsPerMinute = 165;
    int amplitude = 100;
    double peakDbfs = -3;
};

struct SpeechJob
{
    QString text;
    QString voice; // espeak-ng voice + variant, e.g. "en+f2", "en+m3"
    SpeechEmotion emotion = SpeechEmotion::Neutral;
    int pitchOffset = 0;   // added to the emotion's pitch, to tell apart speakers of one voice
    int rateOffsetWpm = 0; // added to the emotion's rate, likewise
    QString outputPath;    // .wav
};

class SpeechSynthesizer
{
public:
    static constexpr int kSampleRate = 16000;

    static QList<SpeechEmotion> emotions();            // neutral, happy, sad, angry
    static QString emotionName(SpeechEmotion emotion); // "neutral", "happy", "sad", "angry"
    static EmotionProsody prosody(SpeechEmotion emotion);

    // Success when espeak-ng and sox can be run; otherwise names the missing program and the
    // Debian package that provides it.
    static Status checkTools();

    // Renders one job; creates the output's folder.
    static Status render(const SpeechJob &job);

    // Renders every job, parallelProcesses at a time, reporting progress after each and
    // stopping (with a "cancelled" failure) when the sink is cancelled. Jobs already started
    // finish; outputs already written stay. The first failure is returned.
    static Status renderAll(const QList<SpeechJob> &jobs, ProgressSink &progress,
                            int parallelProcesses = 2);
};

} // namespace emolens
