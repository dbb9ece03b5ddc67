#pragma once
// MspPodcastFormat: MSP-Podcast, Audios/*.wav plus Labels/labels_consensus.json
// {file name: {EmoClass, EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set}} (or the same
// columns in Labels/labels_consensus.csv with a FileName column).
// EmoClass A angry, S sad, H happy, U surprise, F fear, D disgust, C contempt, N neutral;
// O (other) and X (no agreement) are unlabeled under every mapping. EmoAct/EmoVal/EmoDom are
// arousal/valence/dominance on 1..7. Split_Set goes to metadata. Audio files that have no
// label entry are imported unlabeled; a labelled file missing from Audios/ is a problem.
// Mappings: "original" (default), "4class".

#include "corpus/CorpusFormat.h"

namespace emolens {

class MspPodcastFormat final : public CorpusFormat
{
public:
    QString name() const override { return QStringLiteral("msp-podcast"); }
    QString displayName() const override { return QStringLiteral("MSP-Podcast"); }
    QStringList labelMappings() const override;
    bool recognises(const QString &rootPath) const override;
    CorpusScan scan(const QString &rootPath, const QString &labelMapping,
                    ProgressSink &progress) const override;
};

} // namespace emolens
