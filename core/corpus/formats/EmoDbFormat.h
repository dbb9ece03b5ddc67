#pragma once
// EmoDbFormat: the Berlin Database of Emotional Speech, wav/SSTTTEV.wav, e.g. 03a01Fa.wav:
// speaker (2 digits), text code (3 characters), emotion letter (W anger, L boredom, E disgust,
// A fear, F happiness, T sadness, N neutral), version letter. Speakers 03 10 11 12 15 are male,
// 08 09 13 14 16 female. The German sentence of a known text code is the transcript.
// Mappings: "original" (default), "4class" (boredom, disgust, fear unlabeled).

#include "corpus/CorpusFormat.h"

namespace emolens {

class EmoDbFormat final : public CorpusFormat
{
public:
    QString name() const override { return QStringLiteral("emodb"); }
    QString displayName() const override { return QStringLiteral("EmoDB"); }
    QStringList labelMappings() const override;
    bool recognises(const QString &rootPath) const override;
    CorpusScan scan(const QString &rootPath, const QString &labelMapping,
                    ProgressSink &progress) const override;
};

} // namespace emolens
