#pragma once
// TraceCsv: time-continuous traces to CSV and back, one row per sample:
//   key,annotator,dimension,time_seconds,value
// (value empty where nothing was traced). What exportTraceCsv writes, importTraceCsv reads
// back unchanged. On import, the rows of one clip, annotator and dimension make one trace; its
// times must rise evenly (the rate is 1 / the step), its values lie in -1..1. A bad row or
// group is reported with the file, the line and the reason and skipped; the rest is imported.
// A group identical to the annotator's current trace is not stored again, so importing a file
// twice adds nothing. Each trace is appended in its own transaction (TraceRepository).
//
// Threads: on the thread that owns the Database connection.

#include "common/Status.h"
#include "store/ImportBatch.h"
#include "store/Records.h"

#include <QHash>
#include <QList>

namespace emolens {

class Database;

// The CSV text of the traces; keys maps their utterance ids to clip keys.
QString traceCsv(const QList<TraceRecord> &traces, const QHash<qint64, QString> &keys);

// Writes every current trace of a corpus's clips (0: all) to path; *written counts them.
Status exportTraceCsv(Database &db, qint64 corpusId, const QString &path, int *written);

struct TraceImportReport
{
    int added = 0;     // traces stored
    int unchanged = 0; // already the annotator's current trace
    QList<ImportProblem> problems;
};

// Reads path and appends its traces. Fails only when the file cannot be read or has no header
// it knows; bad rows and groups are in report->problems.
Status importTraceCsv(Database &db, const QString &path, TraceImportReport *report);

} // namespace emolens
