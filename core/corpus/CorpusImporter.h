#pragma once
// CorpusImporter: the import job. Scans a folder with a CorpusFormat, probes every audio
// file (in parallel), reports bad files and lines, and writes the accepted items to the
// store in one transaction. Runs on any thread; opens its own Database connection.
// The CLI and the GUI both call run(); nothing else imports.

#include "common/Progress.h"
#include "common/Status.h"
#include "store/ImportBatch.h"

#include <QList>
#include <QMap>
#include <QString>

namespace emolens {

struct ImportRequest
{
    QString rootPath;
    QString databasePath;
    QString format;        // empty: detect from the layout
    QString labelMapping;  // empty: the format's default
    QString corpusName;    // empty: the scan's default
};

struct ImportReport
{
    QString format;
    QString corpusName;
    ImportOutcome outcome;
    QList<ImportProblem> skipped;
    int speakers = 0;
    QMap<QString, int> labelCounts;  // per mapped label, over the imported items
    bool cancelled = false;          // cancelled before writing: the store is unchanged
    double seconds = 0;

    int imported() const { return outcome.added + outcome.updated + outcome.moved + outcome.unchanged; }
};

class CorpusImporter
{
public:
    // Fails (without touching the store) when the folder is missing, no format recognises
    // it, or the store cannot be written. Bad files are not failures: they are in skipped.
    static Status run(const ImportRequest &request, ProgressSink &progress, ImportReport *report);
};

} // namespace emolens
