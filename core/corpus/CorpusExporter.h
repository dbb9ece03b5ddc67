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
    QString format; // csv | jsonl | textgrid | eaf | audacity
    QString outPath;
    qint64 corpusId = 0; // 0: every corpus
};

// What an export wrote, for the report the user sees.
struct ExportReport
{
    int utterances = 0;      // rows (csv, jsonl) or files (textgrid, eaf, audacity) written
    int labeledByPeople = 0; // of those, whose label is a person's
    int corpusLabels = 0;    // whose label is the corpus's own
    int unlabeled = 0;       // with no label at all
    int corpora = 0;         // corpora they come from
};

class CorpusExporter
{
public:
    static QStringList formats();
    // One line per format for a chooser: "CSV: one row per clip (spreadsheets, pandas)".
    static QString describeFormat(const QString &format);
    // True when the format writes one file per utterance into a folder.
    static bool writesAFolder(const QString &format);
    static Status run(Database &db, const ExportRequest &request, ProgressSink &progress,
                      int *exportedCount = nullptr);
    // As above; report (when given) counts what was written, also on failure.
    static Status run(Database &db, const ExportRequest &request, ProgressSink &progress,
                      ExportReport *report);
};

} // namespace emolens
