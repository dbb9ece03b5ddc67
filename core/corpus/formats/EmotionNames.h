#pragma once
// EmotionNames: the shared class vocabulary of the corpus formats, so that labels from
// different corpora can be compared. Every format's "original" mapping (IEMOCAP excepted, it
// keeps its own codes) uses these lowercase names: angry, boredom, calm, contempt, disgust,
// fear, happy, neutral, sad, surprise. Every "4class" mapping keeps angry, happy, neutral and
// sad and drops the rest (dropped items are imported unlabeled, their originalLabel kept).
// Schema classes are listed in alphabetical order, which is the 1..9 key order in the
// labeling panel. Pure functions, any thread.

#include "store/Records.h"

#include <QString>
#include <QStringList>

namespace emolens::emotion {

inline QString originalMapping()
{
    return QStringLiteral("original");
}
inline QString fourClassMapping()
{
    return QStringLiteral("4class");
}

// angry, happy, neutral, sad.
QStringList fourClasses();
// The category a class name gets under a mapping ("original" or "4class"); empty: dropped.
QString mapped(const QString &className, const QString &mapping);
// The schema for a format: name "<format>-<mapping>", classes the mapping keeps from
// classNames, sorted; scales as given.
LabelSchema schemaFor(const QString &formatName, const QString &mapping,
                      const QStringList &classNames, const QList<DimensionScale> &scales = {});
// Best-effort reading of free-form spellings (Anger, ANG, happiness, Neutral ...) into the
// shared vocabulary, for manifests; empty when the spelling is not recognised.
QString fromSpelling(const QString &spelling);

} // namespace emolens::emotion
