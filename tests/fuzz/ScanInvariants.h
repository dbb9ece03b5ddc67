#pragma once
// checkScan: what every corpus scan must hold whatever its label files say, checked by the
// format fuzz targets after each scan. A broken label file may only cost items and add
// problems; it must never produce an item that points at no file, a label outside the schema
// or a rating that is not a finite number on one of the schema's scales. Aborts (the fuzzer's
// crash) on a violation.

#include "corpus/CorpusFormat.h"

#include <QFileInfo>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace emolens::fuzz {

[[noreturn]] inline void violated(const char *what, const QString &detail)
{
    std::fprintf(stderr, "scan invariant violated: %s: %s\n", what, qPrintable(detail));
    std::abort();
}

// `insideRoot`: items must lie under rootPath (false for manifests, which may name any file).
inline void checkScan(const CorpusScan &scan, const QString &rootPath, bool insideRoot)
{
    const QString prefix = rootPath + QLatin1Char('/');
    for (const ImportItem &item : scan.items) {
        const UtteranceRecord &u = item.utterance;
        if (u.key.isEmpty())
            violated("an item without a key", u.path);
        if (!QFileInfo(u.path).isFile())
            violated("an item whose file does not exist", u.path);
        if (insideRoot && !u.path.startsWith(prefix))
            violated("an item outside the corpus folder", u.path);
        if (!item.label.category.isEmpty() && !scan.schema.classes.contains(item.label.category))
            violated("a label the schema does not list", item.label.category);
        for (auto it = item.label.dimensions.cbegin(); it != item.label.dimensions.cend(); ++it) {
            const QString where = u.path + u' ' + it.key() + u' ' + QString::number(it.value());
            if (!std::isfinite(it.value()))
                violated("a rating that is not a finite number", where);
            const DimensionScale *scale = nullptr;
            for (const DimensionScale &candidate : scan.schema.scales)
                if (candidate.name == it.key())
                    scale = &candidate;
            if (scale == nullptr)
                violated("a rating on a scale the schema does not offer", where);
            if (it.value() < scale->minimum || it.value() > scale->maximum)
                violated("a rating outside its scale", where);
        }
    }
    for (const DimensionScale &scale : scan.schema.scales)
        if (!std::isfinite(scale.minimum) || !std::isfinite(scale.maximum) ||
            scale.minimum > scale.maximum)
            violated("a scale without finite bounds", scale.name);
    for (const ImportProblem &problem : scan.problems)
        if (problem.line < 0 || problem.reason.isEmpty() || !QFileInfo(problem.path).isAbsolute())
            violated("a problem that does not say where or why", problem.reason);
}

} // namespace emolens::fuzz
