#include "corpus/TraceCsv.h"

#include "corpus/DelimitedText.h"
#include "store/CorpusRepository.h"
#include "store/TraceRepository.h"

#include <QFile>
#include <QSaveFile>
#include <algorithm>
#include <cmath>

namespace emolens {

namespace {

const QStringList kHeader = {QStringLiteral("key"), QStringLiteral("annotator"),
                             QStringLiteral("dimension"), QStringLiteral("time_seconds"),
                             QStringLiteral("value")};

// Samples as written: 9 significant digits read back as the same float32.
QString sampleText(float v)
{
    return std::isnan(v) ? QString() : QString::number(double(v), 'g', 9);
}

bool sameSamples(const std::vector<float> &a, const std::vector<float> &b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))))
            return false;
    return true;
}

struct Group
{
    QString key, annotator, dimension;
    int firstLine = 0;
    std::vector<double> times;
    std::vector<float> values;
    QString problem; // the first reason this group cannot be imported
    int problemLine = 0;
};

} // namespace

QString traceCsv(const QList<TraceRecord> &traces, const QHash<qint64, QString> &keys)
{
    QString text = delimitedLine(kHeader);
    for (const TraceRecord &t : traces) {
        const QString key = keys.value(t.utteranceId);
        for (std::size_t i = 0; i < t.samples.size(); ++i)
            text += delimitedLine({key, t.annotatorName, t.dimension,
                                   QString::number(t.startSeconds + double(i) / t.rateHz, 'g', 10),
                                   sampleText(t.samples[i])});
    }
    return text;
}

Status exportTraceCsv(Database &db, qint64 corpusId, const QString &path, int *written)
{
    QList<TraceRecord> traces;
    if (auto st = TraceRepository(db).allCurrentTraces(corpusId, &traces); !st)
        return st;
    QList<UtteranceRecord> utterances;
    if (auto st = CorpusRepository(db).utterances(corpusId, &utterances); !st)
        return st;
    QHash<qint64, QString> keys;
    for (const UtteranceRecord &u : utterances)
        keys.insert(u.id, u.key);
    QSaveFile file(path);
    const QByteArray text = traceCsv(traces, keys).toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.commit())
        return Status::failure(
            QStringLiteral("%1: cannot write: %2").arg(path, file.errorString()));
    if (written)
        *written = int(traces.size());
    return Status::success();
}

Status importTraceCsv(Database &db, const QString &path, TraceImportReport *report)
{
    *report = TraceImportReport();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Status::failure(QStringLiteral("%1: cannot read: %2").arg(path, file.errorString()));
    const QList<DelimitedRecord> records =
        parseDelimitedText(QString::fromUtf8(file.readAll()), QLatin1Char(','));
    if (records.isEmpty() || records.first().fields != kHeader)
        return Status::failure(QStringLiteral("%1: not a trace file: the first line must be \"%2\"")
                                   .arg(path, kHeader.join(QLatin1Char(','))));
    const auto problem = [&](int line, const QString &reason) {
        report->problems.append({path, line, reason});
    };

    // Rows into groups by clip, annotator and dimension, in the order they first appear.
    QList<Group> groups;
    QHash<QString, int> groupIndex;
    for (qsizetype r = 1; r < records.size(); ++r) {
        const DelimitedRecord &rec = records[r];
        if (!rec.error.isEmpty()) {
            problem(rec.line, rec.error);
            continue;
        }
        if (rec.fields.size() != kHeader.size()) {
            problem(rec.line, QStringLiteral("expected 5 fields (%1), found %2")
                                  .arg(kHeader.join(QStringLiteral(", ")))
                                  .arg(rec.fields.size()));
            continue;
        }
        const QString id = rec.fields[0] + QChar(0) + rec.fields[1] + QChar(0) + rec.fields[2];
        auto it = groupIndex.find(id);
        if (it == groupIndex.end()) {
            Group g;
            g.key = rec.fields[0];
            g.annotator = rec.fields[1].trimmed();
            g.dimension = rec.fields[2].trimmed();
            g.firstLine = rec.line;
            groups.append(g);
            it = groupIndex.insert(id, int(groups.size()) - 1);
        }
        Group &g = groups[*it];
        if (!g.problem.isEmpty())
            continue;
        bool okTime = false, okValue = true;
        const double time = rec.fields[3].toDouble(&okTime);
        const QString valueText = rec.fields[4].trimmed();
        const double value = valueText.isEmpty() ? std::nan("") : valueText.toDouble(&okValue);
        if (!okTime || !std::isfinite(time) || time < 0) {
            g.problem = QStringLiteral("time \"%1\" is not a number of seconds").arg(rec.fields[3]);
        } else if (!okValue || (!std::isnan(value) && (value < -1 || value > 1))) {
            g.problem = QStringLiteral("value \"%1\" is not a number from -1 to 1").arg(valueText);
        } else if (!g.times.empty() && time <= g.times.back()) {
            g.problem =
                QStringLiteral("time %1 does not come after %2").arg(time).arg(g.times.back());
        } else {
            g.times.push_back(time);
            g.values.push_back(float(value));
            continue;
        }
        g.problemLine = rec.line;
    }

    CorpusRepository corpora(db);
    QHash<QString, qint64> ids;
    for (const UtteranceRecord &u : corpora.utterances())
        ids.insert(u.key, u.id);
    TraceRepository traces(db);
    // What the workspace holds already, read once: (clip, annotator, dimension) -> trace.
    QList<TraceRecord> held;
    if (auto st = traces.allCurrentTraces(0, &held); !st)
        return st;
    QHash<QString, TraceRecord> current;
    const auto heldKey = [](qint64 clip, const QString &annotator, const QString &dimension) {
        return QStringLiteral("%1").arg(clip) + QChar(0) + annotator + QChar(0) + dimension;
    };
    for (TraceRecord &h : held)
        current.insert(heldKey(h.utteranceId, h.annotatorName, h.dimension), std::move(h));
    for (Group &g : groups) {
        const QString what =
            QStringLiteral("%1's %2 trace of %3").arg(g.annotator, g.dimension, g.key);
        if (!g.problem.isEmpty()) {
            problem(g.problemLine, QStringLiteral("%1: %2").arg(what, g.problem));
            continue;
        }
        const qint64 utteranceId = ids.value(g.key);
        if (utteranceId == 0) {
            problem(g.firstLine,
                    QStringLiteral("%1: no clip with this key in the workspace").arg(what));
            continue;
        }
        // Evenly spaced: every step within 1 % of the median step.
        double rate = 25;
        if (g.times.size() >= 2) {
            std::vector<double> steps;
            for (std::size_t i = 1; i < g.times.size(); ++i)
                steps.push_back(g.times[i] - g.times[i - 1]);
            std::vector<double> sorted = steps;
            std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
            const double median = sorted[sorted.size() / 2];
            const auto uneven = std::find_if(steps.begin(), steps.end(), [median](double s) {
                return std::abs(s - median) > 0.01 * median;
            });
            if (uneven != steps.end()) {
                problem(g.firstLine,
                        QStringLiteral("%1: the times are not evenly spaced (a step of %2 s where "
                                       "most are %3 s)")
                            .arg(what)
                            .arg(*uneven)
                            .arg(median));
                continue;
            }
            rate = std::round(1e6 / median) / 1e6; // 0.04 s steps: 25 Hz, not 24.9999999
        }
        TraceRecord t;
        t.utteranceId = utteranceId;
        t.annotatorName = g.annotator;
        t.dimension = g.dimension;
        t.rateHz = rate;
        t.startSeconds = g.times.front();
        t.samples = g.values;
        t.input = QStringLiteral("import");
        const auto c = current.constFind(heldKey(utteranceId, t.annotatorName, t.dimension));
        if (c != current.constEnd() && std::abs(c->rateHz - t.rateHz) < 1e-6 * t.rateHz &&
            std::abs(c->startSeconds - t.startSeconds) < 1e-6 &&
            sameSamples(c->samples, t.samples)) {
            ++report->unchanged;
            continue;
        }
        if (auto st = traces.addTrace(&t); !st) {
            problem(g.firstLine, QStringLiteral("%1: %2").arg(what, st.error()));
            continue;
        }
        ++report->added;
    }
    return Status::success();
}

} // namespace emolens
