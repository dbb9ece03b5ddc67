#pragma once
// LabelRepository: label schemas, annotators and label history.
// History is append-only: setting a label inserts a row; the newest row per
// (utterance, schema, annotator) is that annotator's current value. Clearing a label
// inserts a row with an empty value.

#include "common/Status.h"
#include "store/Records.h"

#include <QHash>
#include <QList>
#include <QMap>
#include <optional>

namespace emolens {

class Database;

class LabelRepository
{
public:
    explicit LabelRepository(Database &db);

    std::optional<LabelSchema> schema(qint64 schemaId) const;
    // The schema of the corpus the utterance belongs to.
    std::optional<LabelSchema> schemaForUtterance(qint64 utteranceId) const;

    // Returns the annotator's id, creating the annotator if needed.
    qint64 ensureAnnotator(const QString &name);
    QStringList annotators() const;

    // Appends one history row in its own transaction. newRecordId may be null.
    Status setLabel(qint64 utteranceId, qint64 schemaId, const QString &annotator,
                    const LabelValue &value, qint64 *newRecordId = nullptr);

    // This annotator's current value (empty value when none).
    std::optional<LabelRecord> currentLabel(qint64 utteranceId, qint64 schemaId,
                                            const QString &annotator) const;
    // The label the utterance shows: among every annotator's current value, the newest
    // non-empty one (so an annotator who clears a label falls back to the others').
    std::optional<LabelRecord> latestLabel(qint64 utteranceId, qint64 schemaId) const;
    // Every row for the utterance, oldest first.
    QList<LabelRecord> history(qint64 utteranceId) const;
    // Category counts over a corpus (corpusId 0: all) of the labels utterances show (see
    // latestLabel); unlabeled utterances are not counted.
    QMap<QString, int> labelCounts(qint64 corpusId = 0) const;

    struct ShownLabel
    {
        qint64 labelId = 0;
        QString category;
        QString annotatorName;
    };
    // The shown label of every labeled utterance of a corpus (corpusId 0: all), by utterance id.
    QHash<qint64, ShownLabel> shownLabels(qint64 corpusId = 0) const;

private:
    Database &m_db;
};

} // namespace emolens
