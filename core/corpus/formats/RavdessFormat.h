#pragma once
// RavdessFormat: RAVDESS audio, Actor_01..Actor_24/MM-CC-EE-II-SS-RR-AA.wav
// (modality, vocal channel, emotion, intensity, statement, repetition, actor).
// Emotion codes 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful (-> fear),
// 07 disgust, 08 surprised (-> surprise). Odd actors are male, even ones female.
// The statement text is the transcript; intensity, statement, repetition, modality and vocal
// channel go to metadata. A name off the pattern, or with a field out of range, is a problem
// naming the field. Mappings: "original" (default), "4class" (calm, fear, disgust and
// surprise unlabeled).

#include "corpus/CorpusFormat.h"

namespace emolens {

class RavdessFormat final : public CorpusFormat
{
public:
    QString name() const override { return QStringLiteral("ravdess"); }
    QString displayName() const override { return QStringLiteral("RAVDESS"); }
    QStringList labelMappings() const override;
    bool recognises(const QString &rootPath) const override;
    CorpusScan scan(const QString &rootPath, const QString &labelMapping,
                    ProgressSink &progress) const override;
};

} // namespace emolens
