#pragma once
// SaveeFormat: Surrey Audio-Visual Expressed Emotion, AudioData/<SPK>/<code><NN>.wav, or the
// flat variant <SPK>_<code><NN>.wav (in the root, AudioData/ or ALL/). Codes a anger,
// d disgust, f fear, h happiness, n neutral, sa sadness, su surprise; speakers DC, JE, JK, KL,
// all male. Mappings: "original" (default), "4class".

#include "corpus/CorpusFormat.h"

namespace emolens {

class SaveeFormat final : public CorpusFormat
{
public:
    QString name() const override { return QStringLiteral("savee"); }
    QString displayName() const override { return QStringLiteral("SAVEE"); }
    QStringList labelMappings() const override;
    bool recognises(const QString &rootPath) const override;
    CorpusScan scan(const QString &rootPath, const QString &labelMapping,
                    ProgressSink &progress) const override;
};

} // namespace emolens
