#pragma once
// ImportBatch: everything an import writes to the store, prepared off the store by the
// corpus scanner and the audio probe, then applied in one transaction by
// CorpusRepository::applyImport().

#include "store/Records.h"

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace emolens {

// One audio file the importer found and the probe accepted.
struct ImportItem
{
    UtteranceRecord utterance; // id/corpusId/speakerId are filled by the store
    QString speakerCode;       // empty: the store uses "unknown"
    Gender gender = Gender::Unknown;
    LabelValue label; // the corpus's label after mapping; empty = unlabeled
};

// A file or line that was skipped, and why. line is 0 when the problem is not in a text file.
struct ImportProblem
{
    QString path;
    int line = 0;
    QString reason;
};

struct ImportBatch
{
    QString corpusName;
    QString rootPath; // absolute
    QString format;
    QString labelMapping;
    LabelSchema schema; // classes/scales of the mapped labels (id ignored)
    QList<ImportItem> items;
};

// What applyImport() did. Counts are utterances.
struct ImportOutcome
{
    qint64 corpusId = 0;
    int added = 0;     // new utterances
    int unchanged = 0; // same key, same content
    int updated = 0;   // same key, content changed
    int moved = 0;     // new path, content matched an utterance whose file is gone
    QList<QPair<QString, QString>> movedPaths; // per moved utterance: old path, new path
    QStringList updatedPaths;                  // per updated utterance: its path
    int labelsAdded = 0;
};

} // namespace emolens
