#pragma once
// A fresh workspace with one of the generated test corpora imported (a real SQLite file), for
// Qt Test suites that link emolens::core.

#include "TestPaths.h"
#include "common/Progress.h"
#include "corpus/CorpusImporter.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"

#include <algorithm>
#include <memory>

namespace emolens::test {

// Imports the corpus `layout` into `databasePath` and opens it; *clips (when not null) gets
// its utterances sorted by key. Null when the import or the store fails.
inline std::unique_ptr<Database> importedWorkspace(const QString &layout,
                                                   const QString &databasePath,
                                                   QList<UtteranceRecord> *clips = nullptr)
{
    ImportRequest request;
    request.rootPath = corpus(layout);
    request.databasePath = databasePath;
    SilentProgress progress;
    ImportReport report;
    if (!CorpusImporter::run(request, progress, &report))
        return nullptr;
    auto db = std::make_unique<Database>(databasePath);
    if (!db->open())
        return nullptr;
    if (clips) {
        if (!CorpusRepository(*db).utterances(0, clips))
            return nullptr;
        std::sort(clips->begin(), clips->end(),
                  [](const UtteranceRecord &a, const UtteranceRecord &b) { return a.key < b.key; });
    }
    return db;
}

} // namespace emolens::test
