#pragma once
// IemocapFormat: the IEMOCAP release layout.
//   Session1..5/dialog/EmoEvaluation/<dialog>.txt   label lines
//       "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]"
//       (the bracket triple is valence, arousal, dominance on 1..5)
//   Session1..5/dialog/transcriptions/<dialog>.txt  "Ses01F_impro01_F000 [006.2901-008.2357]: text"
//   Session1..5/sentences/wav/<dialog>/<utterance>.wav
// Speaker "Ses01F" (session + the letter after the utterance id's last "_"), session key
// "Session1" (the fold for leave-one-session-out), style from the dialog name.
// Mappings: "4class" (default; ang -> angry, hap and exc -> happy, neu -> neutral,
// sad -> sad, the rest unlabeled) and "original" (the codes ang dis exc fea fru hap neu oth
// sad sur). "xxx" (no majority) is unlabeled under both. V/A/D are kept under both.

#include "corpus/CorpusFormat.h"

namespace emolens {

class IemocapFormat final : public CorpusFormat
{
public:
    QString name() const override { return QStringLiteral("iemocap"); }
    QString displayName() const override { return QStringLiteral("IEMOCAP"); }
    QStringList labelMappings() const override;
    bool recognises(const QString &rootPath) const override;
    CorpusScan scan(const QString &rootPath, const QString &labelMapping,
                    ProgressSink &progress) const override;
};

} // namespace emolens
