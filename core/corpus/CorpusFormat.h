#pragma once
// CorpusFormat: one corpus layout (IEMOCAP, RAVDESS, ...). A format recognises its layout
// from the folder and scans it into candidate items (paths + labels + metadata) and
// problems (unparsable label lines, file names that do not follow the layout, labels a
// mapping does not know). Scanning reads text files and file names only; the audio itself
// is probed afterwards by CorpusImporter. Formats are stateless and thread-safe.

#include "common/Progress.h"
#include "store/ImportBatch.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <memory>

namespace emolens {

struct CorpusScan
{
    QString corpusName;  // default: the folder name
    LabelSchema schema;  // classes after mapping, plus dimensional scales the corpus has
    QList<ImportItem> items;  // utterance.path absolute; audio fields still empty
    QList<ImportProblem> problems;
};

class CorpusFormat
{
public:
    virtual ~CorpusFormat() = default;
    virtual QString name() const = 0;         // e.g. "iemocap" (the --format value)
    virtual QString displayName() const = 0;  // e.g. "IEMOCAP"
    // Label mappings this format offers, the first is the default. Every format offers
    // "original" (labels as the corpus spells them).
    virtual QStringList labelMappings() const = 0;
    // True when rootPath looks like this format's layout.
    virtual bool recognises(const QString &rootPath) const = 0;
    virtual CorpusScan scan(const QString &rootPath, const QString &labelMapping,
                            ProgressSink &progress) const = 0;
};

// All known formats, most specific first (the generic layout last).
const QList<std::shared_ptr<const CorpusFormat>> &corpusFormats();
std::shared_ptr<const CorpusFormat> corpusFormat(const QString &name);
// The first format that recognises the folder, or null.
std::shared_ptr<const CorpusFormat> detectCorpusFormat(const QString &rootPath);

} // namespace emolens
