#pragma once
// DemoCorpus: the small corpus the app opens on first run, so there is something to look at,
// label and train on before the user has a corpus of their own. Six synthetic speakers
// (three female, three male voices) say four sentences in four emotions (neutral, happy,
// sad, angry): 96 clips of 16 kHz mono WAV, rendered with espeak-ng and sox.
// Layout (the generic one): audio/<speaker>/<speaker>_<emotion>_<n>.wav and manifest.csv
// with the columns path,label,speaker,gender,transcript.
//
// Thread-safety: generate() blocks for a few seconds; call it from a worker thread. Two
// generations into the same folder at once are not supported.

#include "common/Progress.h"
#include "common/Status.h"

#include <QString>

namespace emolens {

// A larger generated corpus for experiments (the ablation, active learning's label-efficiency
// runs): more voices, more sentences, each said in more renditions, optionally with the class
// imbalance of real SER corpora. The default is the demo itself.
struct DemoCorpusOptions
{
    int speakers = 6;   // 1 to 12: the demo's six, then six more espeak-ng voices
    int sentences = 4;  // 1 to 24 per emotion
    int renditions = 1; // each sentence said this many times, pitch and rate varied
    // Real corpora are neutral-heavy and anger is rare: keep every neutral clip, 60 % of the
    // happy and sad ones and 20 % of the angry ones (by a fixed rule, the same every run).
    bool imbalanced = false;

    bool isDemo() const
    {
        return speakers == 6 && sentences == 4 && renditions == 1 && !imbalanced;
    }
    // "speakers=12 sentences=24 renditions=2 imbalanced=0", kept in the completion marker.
    QString describe() const;
};

class DemoCorpus
{
public:
    // Bumped whenever the speakers, sentences or recipes change: an older corpus is redone.
    static constexpr int kVersion = 2;
    static constexpr int kClipCount = 96;

    static QString manifestFileName() { return QStringLiteral("manifest.csv"); }

    // True when folder holds a complete demo corpus of this version (its marker file, which
    // generation writes last, is there).
    static bool isComplete(const QString &folder);

    // Renders the corpus into folder (created if needed) unless it is already complete.
    // Clips left by an interrupted run of this version are kept, so a rerun resumes.
    // Reports progress per clip and stops with a "cancelled" failure when cancelled.
    static Status generate(const QString &folder, ProgressSink &progress);
    // The same for a corpus of another size (see DemoCorpusOptions); a folder that holds one of
    // other options is redone. Fails for options out of range.
    static Status generate(const QString &folder, const DemoCorpusOptions &options,
                           ProgressSink &progress);
    static bool isComplete(const QString &folder, const DemoCorpusOptions &options);
};

} // namespace emolens
