#pragma once
// TessFormat: the Toronto emotional speech set. Folders <SPEAKER>_<emotion>/ (OAF_angry,
// YAF_pleasant_surprised, ...) holding <SPEAKER>_<word>_<emotion>.wav, e.g. OAF_back_angry.wav.
// Emotions angry, disgust, fear, happy, neutral, ps / pleasant surprise (-> surprise), sad.
// Both speakers (OAF older, YAF younger) are female. The word is the transcript.
// Mappings: "original" (default), "4class".

#include "corpus/CorpusFormat.h"

namespace emolens {

class TessFormat final : public CorpusFormat
{
public:
    QString name() const override { return QStringLiteral("tess"); }
    QString displayName() const override { return QStringLiteral("TESS"); }
    QStringList labelMappings() const override;
    bool recognises(const QString &rootPath) const override;
    CorpusScan scan(const QString &rootPath, const QString &labelMapping,
                    ProgressSink &progress) const override;
};

} // namespace emolens
