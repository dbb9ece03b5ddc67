#include "analysis/LabelAgreement.h"

#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/TraceRepository.h"

#include <QHash>
#include <QSet>
#include <algorithm>
#include <cmath>

namespace emolens {

namespace {

// One label set's categories: per clip, annotator -> class index.
struct CategoryRatings
{
    QStringList classes;
    QMap<qint64, QMap<QString, int>> clips;

    int classIndex(const QString &category)
    {
        int i = int(classes.indexOf(category));
        if (i < 0) {
            classes.append(category);
            i = int(classes.size()) - 1;
        }
        return i;
    }
};

// The clips (keys of `byClip`) that two or more annotators rated, and every annotator who
// rated one of them, sorted.
template <typename Value>
QList<qint64> pairableClips(const QMap<qint64, QMap<QString, Value>> &byClip,
                            QStringList *annotators)
{
    QList<qint64> clips;
    QSet<QString> people;
    for (auto it = byClip.cbegin(); it != byClip.cend(); ++it)
        if (it.value().size() >= 2) {
            clips.append(it.key());
            for (auto r = it.value().cbegin(); r != it.value().cend(); ++r)
                people.insert(r.key());
        }
    *annotators = QStringList(people.cbegin(), people.cend());
    std::sort(annotators->begin(), annotators->end());
    return clips;
}

LabelSetAgreement categoryAgreement(qint64 schemaId, const QString &name,
                                    const CategoryRatings &ratings,
                                    const QHash<qint64, QString> &keys)
{
    LabelSetAgreement out;
    out.schemaId = schemaId;
    out.name = name;
    out.classes = ratings.classes;
    const int C = int(ratings.classes.size());

    // The clips two or more annotators categorised, and who rated them.
    const QList<qint64> clips = pairableClips(ratings.clips, &out.annotators);
    out.clips = int(clips.size());
    if (clips.isEmpty())
        return out;

    RatingTable table(int(out.annotators.size()), int(clips.size()));
    std::vector<double> counts(size_t(clips.size()) * C, 0.0);
    double agreeingPairs = 0, pairs = 0;
    for (int u = 0; u < clips.size(); ++u) {
        const QMap<QString, int> &given = ratings.clips[clips[u]];
        std::vector<int> perClass(C, 0);
        for (auto r = given.cbegin(); r != given.cend(); ++r) {
            table.at(int(out.annotators.indexOf(r.key())), u) = r.value();
            counts[size_t(u) * C + r.value()] += 1;
            ++perClass[r.value()];
        }
        out.ratings += int(given.size());
        double agreeing = 0;
        for (int c : perClass)
            agreeing += double(c) * (c - 1);
        const double m = double(given.size());
        agreeingPairs += agreeing;
        pairs += m * (m - 1);
        if (agreeing < m * (m - 1)) {
            DisagreedClip d;
            d.utteranceId = clips[u];
            d.key = keys.value(clips[u]);
            for (auto r = given.cbegin(); r != given.cend(); ++r)
                d.categories.insert(r.key(), ratings.classes[r.value()]);
            d.observedAgreement = agreeing / (m * (m - 1));
            out.disagreements.append(d);
        }
    }
    std::sort(out.disagreements.begin(), out.disagreements.end(),
              [](const DisagreedClip &a, const DisagreedClip &b) {
                  return a.observedAgreement != b.observedAgreement
                             ? a.observedAgreement < b.observedAgreement
                             : a.key < b.key;
              });
    out.observedAgreement = agreeingPairs / pairs;
    out.fleissKappa = fleissKappa(counts, C);
    const KrippendorffAlpha alpha = krippendorffAlpha(table, MeasurementLevel::Nominal);
    out.alpha = alpha.alpha;

    // The coincidence matrix and per-class alpha over the label set's classes (alpha's own
    // matrix holds only the classes given).
    std::vector<double> classIds(C);
    for (int c = 0; c < C; ++c)
        classIds[c] = c;
    const std::vector<double> perClass = krippendorffAlphaPerValue(table, classIds);
    out.coincidences = QList<QList<double>>(C, QList<double>(C, 0.0));
    const size_t V = alpha.values.size();
    for (size_t a = 0; a < V; ++a)
        for (size_t b = 0; b < V; ++b)
            out.coincidences[int(alpha.values[a])][int(alpha.values[b])] =
                alpha.coincidences[a * V + b];
    for (int c = 0; c < C; ++c) {
        ClassAgreement ca;
        ca.name = ratings.classes[c];
        for (int u = 0; u < clips.size(); ++u)
            ca.ratings += int(counts[size_t(u) * C + c]);
        ca.alpha = perClass[c];
        out.perClass.append(ca);
    }

    // Every pair of annotators over the clips both categorised.
    for (int a = 0; a < out.annotators.size(); ++a)
        for (int b = a + 1; b < out.annotators.size(); ++b) {
            AnnotatorPairAgreement p;
            p.first = out.annotators[a];
            p.second = out.annotators[b];
            p.confusion = QList<QList<int>>(C, QList<int>(C, 0));
            std::vector<double> contingency(size_t(C) * C, 0.0);
            int agreed = 0;
            for (int u = 0; u < clips.size(); ++u) {
                const double x = table.at(a, u), y = table.at(b, u);
                if (std::isnan(x) || std::isnan(y))
                    continue;
                ++p.clips;
                ++p.confusion[int(x)][int(y)];
                contingency[size_t(x) * C + size_t(y)] += 1;
                agreed += x == y ? 1 : 0;
            }
            if (p.clips > 0) {
                p.observedAgreement = double(agreed) / p.clips;
                p.cohenKappa = cohenKappa(contingency, C);
            }
            out.pairs.append(p);
        }
    return out;
}

DimensionAgreement dimensionAgreement(const QString &name,
                                      const QMap<qint64, QMap<QString, double>> &values)
{
    DimensionAgreement out;
    out.name = name;
    out.alpha.fill(std::nan(""));
    const QList<qint64> clips = pairableClips(values, &out.annotators);
    out.clips = int(clips.size());
    if (clips.isEmpty())
        return out;
    RatingTable table(int(out.annotators.size()), int(clips.size()));
    std::vector<std::vector<double>> groups;
    for (int u = 0; u < clips.size(); ++u) {
        std::vector<double> group;
        const QMap<QString, double> &given = values[clips[u]];
        for (auto r = given.cbegin(); r != given.cend(); ++r) {
            table.at(int(out.annotators.indexOf(r.key())), u) = r.value();
            group.push_back(r.value());
        }
        out.ratings += int(given.size());
        groups.push_back(std::move(group));
    }
    for (MeasurementLevel level : {MeasurementLevel::Nominal, MeasurementLevel::Ordinal,
                                   MeasurementLevel::Interval, MeasurementLevel::Ratio})
        out.alpha[size_t(level)] = krippendorffAlpha(table, level).alpha;
    out.icc = oneWayIcc(groups);
    return out;
}

} // namespace

Status labelAgreement(Database &db, const AgreementOptions &options, AgreementReport *out)
{
    *out = AgreementReport();
    LabelRepository labels(db);
    QList<LabelRecord> judgements;
    if (auto st = labels.currentJudgements(options.corpusId, &judgements); !st)
        return st;
    QList<UtteranceRecord> utterances;
    if (auto st = CorpusRepository(db).utterances(options.corpusId, &utterances); !st)
        return st;
    QHash<qint64, QString> keys;
    for (const UtteranceRecord &u : utterances)
        keys.insert(u.id, u.key);

    QMap<qint64, CategoryRatings> bySchema;
    QMap<QString, QMap<qint64, QMap<QString, double>>> byDimension;
    QSet<QString> everyone;
    for (const LabelRecord &r : judgements) {
        if (r.annotatorKind == AnnotatorKind::Corpus && !options.includeCorpusLabels)
            continue;
        bool used = false;
        if (!r.value.category.isEmpty()) {
            auto it = bySchema.find(r.schemaId);
            if (it == bySchema.end()) {
                it = bySchema.insert(r.schemaId, CategoryRatings());
                if (const auto schema = labels.schema(r.schemaId))
                    it->classes = schema->classes;
            }
            it->clips[r.utteranceId].insert(r.annotatorName, it->classIndex(r.value.category));
            used = true;
        }
        for (auto d = r.value.dimensions.cbegin(); d != r.value.dimensions.cend(); ++d)
            if (std::isfinite(d.value())) {
                byDimension[d.key()][r.utteranceId].insert(r.annotatorName, d.value());
                used = true;
            }
        if (used)
            everyone.insert(r.annotatorName);
    }
    out->annotators = QStringList(everyone.cbegin(), everyone.cend());
    std::sort(out->annotators.begin(), out->annotators.end());
    for (auto it = bySchema.cbegin(); it != bySchema.cend(); ++it) {
        const auto schema = labels.schema(it.key());
        out->labelSets.append(categoryAgreement(
            it.key(), schema ? schema->name : QStringLiteral("label set %1").arg(it.key()),
            it.value(), keys));
    }
    for (auto it = byDimension.cbegin(); it != byDimension.cend(); ++it)
        out->dimensions.append(dimensionAgreement(it.key(), it.value()));
    return Status::success();
}

Status traceAgreement(Database &db, qint64 corpusId, const TraceFusionOptions &fusion,
                      QList<TraceDimensionAgreement> *out)
{
    out->clear();
    QList<TraceRecord> traces;
    if (auto st = TraceRepository(db).allCurrentTraces(corpusId, &traces); !st)
        return st;
    QList<UtteranceRecord> utterances;
    if (auto st = CorpusRepository(db).utterances(corpusId, &utterances); !st)
        return st;
    QHash<qint64, double> duration;
    for (const UtteranceRecord &u : utterances)
        duration.insert(u.id, u.durationSeconds);
    // dimension -> clip -> its traces
    QMap<QString, QMap<qint64, QList<TraceRecord>>> groups;
    for (TraceRecord &t : traces)
        groups[t.dimension][t.utteranceId].append(std::move(t));
    for (auto d = groups.cbegin(); d != groups.cend(); ++d) {
        TraceDimensionAgreement a;
        a.dimension = d.key();
        QSet<QString> people;
        double pairSum = 0, fusedSum = 0, alphaSum = 0;
        int pairN = 0, fusedN = 0, alphaN = 0;
        for (auto c = d.value().cbegin(); c != d.value().cend(); ++c) {
            if (c.value().size() < 2)
                continue;
            ++a.clips;
            a.traces += int(c.value().size());
            double length = duration.value(c.key());
            for (const TraceRecord &t : c.value())
                length = std::max(length, t.endSeconds());
            const FusedTraces f = fuseTraces(c.value(), length, fusion);
            for (const QString &name : f.annotators)
                people.insert(name);
            for (std::size_t i = 0; i < f.pairConcordance.size(); ++i) {
                for (std::size_t j = i + 1; j < f.pairConcordance.size(); ++j)
                    if (std::isfinite(f.pairConcordance[i][j])) {
                        pairSum += f.pairConcordance[i][j];
                        ++pairN;
                    }
                if (std::isfinite(f.concordanceWithEwe[i])) {
                    fusedSum += f.concordanceWithEwe[i];
                    ++fusedN;
                }
            }
            if (std::isfinite(f.cronbachAlpha)) {
                alphaSum += f.cronbachAlpha;
                ++alphaN;
            }
        }
        a.annotators = QStringList(people.cbegin(), people.cend());
        std::sort(a.annotators.begin(), a.annotators.end());
        if (pairN > 0)
            a.pairConcordance = pairSum / pairN;
        if (fusedN > 0)
            a.fusedConcordance = fusedSum / fusedN;
        if (alphaN > 0)
            a.cronbachAlpha = alphaSum / alphaN;
        out->append(a);
    }
    return Status::success();
}

} // namespace emolens
