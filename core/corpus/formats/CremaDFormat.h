#pragma once
// CremaDFormat: CREMA-D, AudioWAV/AAAA_SSS_EEE_II.wav (actor, sentence, emotion, intensity).
// Emotions ANG angry, DIS disgust, FEA fear, HAP happy, NEU neutral, SAD sad; intensity LO, MD,
// HI, XX (unspecified). Gender, age, race and ethnicity come from VideoDemographics.csv
// (ActorID,Age,Sex,Race,Ethnicity) in the root or next to AudioWAV when it is there; without
// it the gender is unknown. The sentence code's text is the transcript.
// Mappings: "original" (default), "4class" (disgust and fear unlabeled).

#include "corpus/CorpusFormat.h"

namespace emolens {

class CremaDFormat final : public CorpusFormat
{
public:
    QString name() const override { return QStringLiteral("cremad"); }
    QString displayName() const override { return QStringLiteral("CREMA-D"); }
    QStringList labelMappings() const override;
    bool recognises(const QString &rootPath) const override;
    CorpusScan scan(const QString &rootPath, const QString &labelMapping,
                    ProgressSink &progress) const override;
};

} // namespace emolens
