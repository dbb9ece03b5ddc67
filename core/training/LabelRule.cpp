#include "training/LabelRule.h"

#include "store/LabelRepository.h"

#include <QMap>

namespace emolens {

QString LabelRule::name() const
{
    switch (kind) {
    case Newest:
        return QStringLiteral("newest");
    case Majority:
        return QStringLiteral("majority");
    case Reviewer:
        return QStringLiteral("reviewer:%1").arg(reviewer);
    case Soft:
        return QStringLiteral("soft");
    }
    return QString();
}

Status LabelRule::parse(const QString &text, LabelRule *out)
{
    const QString t = text.trimmed();
    LabelRule rule;
    if (t.isEmpty() || t == QLatin1String("newest")) {
        rule.kind = Newest;
    } else if (t == QLatin1String("majority")) {
        rule.kind = Majority;
    } else if (t == QLatin1String("soft")) {
        rule.kind = Soft;
    } else if (t.startsWith(QLatin1String("reviewer:")) && !t.mid(9).trimmed().isEmpty()) {
        rule.kind = Reviewer;
        rule.reviewer = t.mid(9).trimmed();
    } else {
        return Status::failure(QStringLiteral("unknown label rule \"%1\": use newest, majority, "
                                              "reviewer:NAME or soft")
                                   .arg(text));
    }
    *out = rule;
    return Status::success();
}

Status trainingCategories(Database &db, const LabelRule &rule, qint64 corpusId,
                          const QStringList &classes, QHash<qint64, QString> *out,
                          QHash<qint64, QList<float>> *shares)
{
    out->clear();
    if (shares != nullptr)
        shares->clear();
    if (rule.kind == LabelRule::Newest)
        return Status::success();
    QList<LabelRecord> judgements;
    if (auto st = LabelRepository(db).currentJudgements(corpusId, &judgements); !st)
        return st;
    // Per clip: each category's votes and its newest row (for ties), and the reviewer's.
    struct Votes
    {
        QMap<QString, QPair<int, qint64>> byCategory; // category -> (votes, newest row id)
        QString reviewed;
    };
    QHash<qint64, Votes> clips;
    for (const LabelRecord &r : judgements) {
        if (r.annotatorKind != AnnotatorKind::Person || !classes.contains(r.value.category))
            continue;
        Votes &v = clips[r.utteranceId];
        auto &entry = v.byCategory[r.value.category];
        entry.first += 1;
        entry.second = std::max(entry.second, r.id);
        if (rule.kind == LabelRule::Reviewer && r.annotatorName == rule.reviewer)
            v.reviewed = r.value.category;
    }
    for (auto it = clips.cbegin(); it != clips.cend(); ++it) {
        if (!it->reviewed.isEmpty()) {
            out->insert(it.key(), it->reviewed);
            continue;
        }
        QString best;
        QPair<int, qint64> bestVotes{0, 0};
        for (auto c = it->byCategory.cbegin(); c != it->byCategory.cend(); ++c)
            if (c->first > bestVotes.first ||
                (c->first == bestVotes.first && c->second > bestVotes.second)) {
                best = c.key();
                bestVotes = *c;
            }
        out->insert(it.key(), best);
        if (rule.kind == LabelRule::Soft && shares != nullptr && it->byCategory.size() > 1) {
            int votes = 0;
            for (const auto &v : it->byCategory)
                votes += v.first;
            QList<float> share(classes.size(), 0.0f);
            for (auto c = it->byCategory.cbegin(); c != it->byCategory.cend(); ++c)
                share[classes.indexOf(c.key())] = float(c->first) / float(votes);
            shares->insert(it.key(), share);
        }
    }
    return Status::success();
}

} // namespace emolens
