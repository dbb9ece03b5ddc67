#pragma once
// CorpusRepository: corpora, speakers and utterances. Owns no connection: it works on the
// Database it is given, in that Database's thread.

#include "common/Status.h"
#include "store/ImportBatch.h"
#include "store/Records.h"

#include <QList>
#include <optional>

namespace emolens {

class Database;

class CorpusRepository
{
public:
    explicit CorpusRepository(Database &db);

    // Writes a whole import in one transaction. Idempotent: re-applying the same batch
    // adds nothing. Utterances are matched by key; a file whose content hash matches an
    // utterance of the corpus whose file no longer exists is recorded as moved. Corpus
    // labels are stored under the annotator "corpus:<corpusName>" and only added when they
    // differ from that annotator's current label. On failure nothing is written.
    Status applyImport(const ImportBatch &batch, ImportOutcome *outcome);

    // The reads that jobs, exports and views build on come in two forms: one that fills *out
    // and fails with the reason when the store cannot be read (use it wherever an empty
    // result would be taken for an empty workspace), and a shorthand that returns an empty
    // list then.
    Status corpora(QList<CorpusRecord> *out) const;
    QList<CorpusRecord> corpora() const;
    std::optional<CorpusRecord> corpus(qint64 corpusId) const;
    QList<SpeakerRecord> speakers(qint64 corpusId) const;
    std::optional<UtteranceRecord> utterance(qint64 utteranceId) const;
    // All utterances of a corpus (corpusId 0: of all corpora), ordered by corpus and key.
    Status utterances(qint64 corpusId, QList<UtteranceRecord> *out) const;
    QList<UtteranceRecord> utterances(qint64 corpusId = 0) const;
    // The table view's rows: utterance + speaker + shown label (corpusId 0: all), in natural
    // order of corpus and key.
    Status utteranceRows(qint64 corpusId, QList<UtteranceRow> *out) const;
    QList<UtteranceRow> utteranceRows(qint64 corpusId = 0) const;
    int utteranceCount(qint64 corpusId = 0) const;

private:
    Database &m_db;
};

} // namespace emolens
