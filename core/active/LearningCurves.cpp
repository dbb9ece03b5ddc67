#include "active/LearningCurves.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QMap>
#include <algorithm>
#include <cmath>

namespace emolens {

namespace {

struct Run
{
    qint64 id = 0;
    qint64 seed = 0;
    QString strategy;
    double fullUa = 0;
    double fullSeconds = 0;
    double fractionTo95 = -1;
    double secondsTo95 = -1;
    QList<LearningCurvePoint> rounds; // one run's: meanUa is its UA
};

bool readRun(const SimulationRecord &record, Run *run, QString *key, LearningCurveSetup *setup)
{
    QJsonParseError error;
    const QJsonObject o = QJsonDocument::fromJson(record.report.toUtf8(), &error).object();
    if (error.error != QJsonParseError::NoError || !o.value(QStringLiteral("rounds")).isArray())
        return false;
    run->id = record.id;
    run->seed = record.seed;
    run->strategy = record.strategy;
    run->fullUa = o.value(QStringLiteral("full_ua")).toDouble();
    run->fullSeconds = o.value(QStringLiteral("full_seconds")).toDouble();
    double spent = 0;
    for (const QJsonValue &v : o.value(QStringLiteral("rounds")).toArray()) {
        const QJsonObject r = v.toObject();
        LearningCurvePoint p;
        p.labeled = r.value(QStringLiteral("labeled")).toInt();
        p.fraction = r.value(QStringLiteral("labeled_fraction")).toDouble();
        p.meanUa = p.minUa = p.maxUa = r.value(QStringLiteral("ua")).toDouble();
        p.runs = 1;
        spent += r.value(QStringLiteral("train_seconds")).toDouble() +
                 r.value(QStringLiteral("select_seconds")).toDouble();
        if (run->fractionTo95 < 0 && run->fullUa > 0 && p.meanUa >= 0.95 * run->fullUa) {
            run->fractionTo95 = p.fraction;
            run->secondsTo95 = spent;
        }
        run->rounds << p;
    }
    if (run->rounds.isEmpty())
        return false;
    setup->recipe = record.recipe;
    setup->encoder = record.encoder;
    setup->pool = o.value(QStringLiteral("pool")).toInt();
    setup->testClips = o.value(QStringLiteral("test_clips")).toInt();
    *key = QStringLiteral("%1|%2|%3|%4")
               .arg(setup->recipe, setup->encoder)
               .arg(setup->pool)
               .arg(setup->testClips);
    return true;
}

LearningCurve average(const QString &strategy, const QList<Run> &runs)
{
    LearningCurve c;
    c.strategy = strategy;
    QMap<int, LearningCurvePoint> byLabeled;
    QList<double> fractions, seconds;
    for (const Run &run : runs) {
        c.simulationIds << run.id;
        c.seeds << run.seed;
        c.fullUa += run.fullUa / runs.size();
        c.fullSeconds += run.fullSeconds / runs.size();
        if (run.fractionTo95 >= 0) {
            fractions << run.fractionTo95;
            seconds << run.secondsTo95;
        }
        for (const LearningCurvePoint &r : run.rounds) {
            auto it = byLabeled.find(r.labeled);
            if (it == byLabeled.end()) {
                byLabeled.insert(r.labeled, r);
                continue;
            }
            LearningCurvePoint &p = *it;
            p.meanUa += r.meanUa; // a sum until the end
            p.minUa = std::min(p.minUa, r.minUa);
            p.maxUa = std::max(p.maxUa, r.maxUa);
            ++p.runs;
        }
    }
    for (LearningCurvePoint p : std::as_const(byLabeled)) {
        p.meanUa /= p.runs;
        c.points << p;
    }
    c.reached = int(fractions.size());
    if (!fractions.isEmpty()) {
        double mean = 0, sum = 0;
        for (double f : std::as_const(fractions))
            mean += f / fractions.size();
        for (double f : std::as_const(fractions))
            sum += (f - mean) * (f - mean);
        c.fractionTo95 = mean;
        c.fractionTo95Sd = fractions.size() > 1 ? std::sqrt(sum / (fractions.size() - 1)) : 0;
        c.secondsTo95 = 0;
        for (double s : std::as_const(seconds))
            c.secondsTo95 += s / seconds.size();
    }
    return c;
}

} // namespace

QString LearningCurveSetup::title() const
{
    const QLocale locale;
    return QStringLiteral("%1 on %2, %3-clip pool, %4 test clips")
        .arg(recipe, encoder, locale.toString(pool), locale.toString(testClips));
}

QList<LearningCurveSetup> learningCurves(const QList<SimulationRecord> &simulations,
                                         QStringList *problems)
{
    QMap<QString, LearningCurveSetup> setups;
    QMap<QString, QMap<QString, QList<Run>>> runs; // setup key -> strategy -> runs
    for (const SimulationRecord &record : simulations) {
        Run run;
        QString key;
        LearningCurveSetup setup;
        if (!readRun(record, &run, &key, &setup)) {
            if (problems)
                *problems << QStringLiteral("simulation %1 (%2): its report cannot be read")
                                 .arg(record.id)
                                 .arg(record.strategy);
            continue;
        }
        if (!setups.contains(key))
            setups.insert(key, setup);
        runs[key][run.strategy] << run;
    }
    QList<LearningCurveSetup> out;
    for (auto it = setups.begin(); it != setups.end(); ++it) {
        LearningCurveSetup setup = it.value();
        const QMap<QString, QList<Run>> &byStrategy = runs[it.key()];
        if (byStrategy.contains(QStringLiteral("random")))
            setup.curves << average(QStringLiteral("random"), byStrategy[QStringLiteral("random")]);
        for (auto s = byStrategy.begin(); s != byStrategy.end(); ++s)
            if (s.key() != QLatin1String("random"))
                setup.curves << average(s.key(), s.value());
        out << setup;
    }
    return out;
}

} // namespace emolens
