#pragma once
// LabelRepository: label sets (schemas), annotators and label history, and the one rule for
// the label a clip shows.
//
// History is append-only: every change is a new row holding the annotator's whole judgement
// after the change (category, a value per dimension, confidence, note), with what changed and
// whether it was an edit, an undo or a redo. An annotator's newest row, in whatever label set
// it was given, is their current judgement.
//
// The label shown (table, labeling panel, counts, filters, exports):
// - category: the newest non-empty category among the people's current judgements; where no
//   person gave one, the corpus's own label in the corpus's current label set (else in the
//   label set it was last imported with). A person's category is shown as given, also after
//   a re-import with another mapping; where it is not a class of the corpus's current label
//   set, ShownLabel::inLabelSet is false and the views flag it.
// - each dimension: the newest value among the people's judgements, else the corpus's.
// Nothing an import or a mapping change does can hide a person's label.
//
// Threads: use on the thread that owns the Database connection. Read methods that can fail
// return a Status and fill an out-parameter; the ones returning values return empty results
// only for an empty store, and log nothing.

#include "common/Status.h"
#include "store/Records.h"

#include <QHash>
#include <QList>
#include <QMap>
#include <QSet>
#include <optional>

namespace emolens {

class Database;

class LabelRepository
{
public:
    explicit LabelRepository(Database &db);

    // The name under which a corpus's own labels are stored.
    static QString corpusAnnotatorName(const QString &corpusName);

    std::optional<LabelSchema> schema(qint64 schemaId) const;
    // The current label set of the corpus the utterance belongs to.
    std::optional<LabelSchema> schemaForUtterance(qint64 utteranceId) const;

    // Returns the annotator's id, creating the annotator as `kind` if needed; 0 (and the
    // reason in *error) when the store fails or the name belongs to an annotator of another
    // kind (a person cannot sign in under a corpus's name).
    qint64 ensureAnnotator(const QString &name, AnnotatorKind kind = AnnotatorKind::Person,
                           QString *error = nullptr);
    // Every annotator's name (people and corpora), sorted.
    QStringList annotators() const;
    // The kind of the annotator with this name, if there is one.
    std::optional<AnnotatorKind> annotatorKind(const QString &name) const;

    // Appends one history row for a person, in its own transaction: `value` is their whole
    // judgement after the change; what changed is worked out against their current one.
    // newRecordId may be null. clientKey (a UUID the writing program made, or empty): a row
    // with this key is written once - a second write with the same key (a journal replayed
    // after a dropped connection, whose first write may have committed unseen) stores
    // nothing and gives the first row's id.
    Status setLabel(qint64 utteranceId, qint64 schemaId, const QString &annotator,
                    const LabelValue &value, qint64 *newRecordId = nullptr,
                    LabelAction action = LabelAction::Edit, const QString &clientKey = QString());

    // This annotator's current judgement: their newest row in any label set.
    std::optional<LabelRecord> currentLabel(qint64 utteranceId, const QString &annotator) const;
    // The label the utterance shows (origin None when nobody labeled it).
    ShownLabel shownLabel(qint64 utteranceId) const;
    // What the utterance would show if `annotator`'s current judgement were `value` (an edit
    // not yet written): the same rule, with that judgement as the newest row.
    ShownLabel shownLabelWith(qint64 utteranceId, const QString &annotator,
                              const LabelValue &value) const;
    // The shown label of every utterance of a corpus (corpusId 0: all) that has one.
    Status shownLabels(qint64 corpusId, QHash<qint64, ShownLabel> *out) const;
    QHash<qint64, ShownLabel> shownLabels(qint64 corpusId = 0) const;
    // Every row for the utterance, oldest first.
    QList<LabelRecord> history(qint64 utteranceId) const;
    // Every annotator's current judgement (their newest row, in whatever label set) of every
    // utterance of a corpus (corpusId 0: all), people and corpora alike, by utterance id then
    // annotator name: what agreement is measured on.
    Status currentJudgements(qint64 corpusId, QList<LabelRecord> *out) const;

    // Rows stored with an id above afterId (at most `limit`, oldest first): how an open window
    // learns of labels other people or programs wrote. Ids grow with every row; on a server,
    // a row may commit after one with a higher id, so a reader asks again from a little below
    // the highest id it saw (LabelingDesk).
    struct StoredRow
    {
        qint64 id = 0;
        qint64 utteranceId = 0;
        QString annotator;
    };
    Status labelsAfter(qint64 afterId, int limit, QList<StoredRow> *out) const;
    // The highest row id stored (0: none).
    Status newestLabelId(qint64 *out) const;

    // Everything the labeling panel shows for one clip, read together.
    struct ClipJudgements
    {
        ShownLabel shown;
        QString corpusLabel; // the corpus's own category, in its current label set
        QMap<QString, double> corpusDimensions;
        std::optional<LabelRecord> mine; // the annotator's current judgement, if any
        QList<LabelRecord> history;      // oldest first
    };
    Status judgements(qint64 utteranceId, const QString &annotator, ClipJudgements *out) const;
    // Category counts of the labels utterances show, over a corpus (corpusId 0: all).
    QMap<QString, int> labelCounts(qint64 corpusId = 0) const;
    // The utterances (of a corpus; 0: all) whose current judgement by this person has a
    // category.
    QSet<qint64> labeledBy(const QString &annotator, qint64 corpusId = 0) const;

private:
    Database &m_db;
};

} // namespace emolens
