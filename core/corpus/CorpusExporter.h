#pragma once
// CorpusExporter: writes the store's utterances with their current labels in exchange
// formats. csv and jsonl write one file at outPath; textgrid, eaf and audacity write one
// file per utterance into the folder outPath (created if needed), named <key>.<ext>.

#include "common/Progress.h"
#include "common/Status.h"

#include <QString>
#include <QStringList>

namespace emolens {

class Database;

struct ExportRequest
{
    QString format;  // csv | jsonl | textgrid | eaf | audacity
    QString outPath;
    qint64 corpusId = 0;  // 0: every corpus
};

class CorpusExporter
{
public:
    static QStringList formats();
    static Status run(Database &db, const ExportRequest &request, ProgressSink &progress,
                      int *exportedCount = nullptr);
};

} // namespace emolens
