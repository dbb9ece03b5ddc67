#pragma once
// LabelRule: which label a clip trains on when several people labeled it - the rule the
// Agreement view and `--label-rule` choose, recorded with each run (settings "label_rule").
//
// - newest (the default, and what every view shows): the newest category among the people's
//   current labels, else the corpus's own (LabelRepository's shown-label rule).
// - majority: the category most people currently give it, of the label set's classes. A tie
//   goes to the tied category given most recently (our default; majority voting papers leave
//   ties open). A clip no person labeled keeps the corpus's label.
// - reviewer:NAME: the reviewer's current category where they gave one (adjudication), else
//   the majority.
// - soft: all labels as soft targets - a clip people disagree on trains on the share of their
//   votes per category (cross-entropy against that distribution, models/EmotionAdapter's
//   softClassificationLoss); its majority category (ties as for majority) is what validation,
//   the folds and the test scores compare with. A clip everyone gave one category trains as a
//   hard label.
// Only people's labels vote; the corpus's own label is the fallback, never a vote.
//
// Threads: value type; trainingCategories() on the thread that owns the Database.

#include "common/Status.h"

#include <QHash>
#include <QString>
#include <QStringList>
#include <optional>

namespace emolens {

class Database;

struct LabelRule
{
    enum Kind { Newest, Majority, Reviewer, Soft };
    Kind kind = Newest;
    QString reviewer; // the adjudicating annotator, for Reviewer

    QString name() const; // "newest", "majority", "reviewer:NAME", "soft"
    // Parses name(); fails, saying what is accepted, for anything else.
    static Status parse(const QString &text, LabelRule *out);
    bool operator==(const LabelRule &o) const { return kind == o.kind && reviewer == o.reviewer; }
};

// The category each utterance (of a corpus; 0: all) trains on under a rule other than newest,
// where the people's labels decide it: utterance id -> category, for the clips at least one
// person labeled with a category of `classes`. Clips not in the result keep their shown label.
// Under the soft rule, *shares (when given) gets, for each clip whose people gave more than one
// category, the share of the votes per class of `classes` (in that order, summing to 1).
Status trainingCategories(Database &db, const LabelRule &rule, qint64 corpusId,
                          const QStringList &classes, QHash<qint64, QString> *out,
                          QHash<qint64, QList<float>> *shares = nullptr);

} // namespace emolens
