#pragma once
// LearningCurves: the stored simulations (SelectionRepository) as learning curves - what the
// GUI's plot and the label-efficiency table show. Simulations of the same setup (recipe,
// encoder, pool size, test clips) are grouped by strategy; each curve is the UA on held-out
// speakers against the fraction of the pool labeled, averaged over its runs (seeds) round by
// round, with the lowest and highest run beside the mean.
//
// Per curve, as seed 002 reports its result: the fraction of labels each run needed to reach
// 95 % of the UA of the same recipe trained on every label (mean and standard deviation over
// the runs that reached it, and how many did), and the seconds spent until then (training and
// selection of the rounds up to that one) against training on every label.
//
// Threads: any; pure functions.

#include "store/SelectionRepository.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace emolens {

struct LearningCurvePoint
{
    int labeled = 0;
    double fraction = 0; // of the pool
    double meanUa = 0, minUa = 0, maxUa = 0;
    int runs = 0;
};

struct LearningCurve
{
    QString strategy;
    QList<qint64> simulationIds;
    QList<qint64> seeds;
    QList<LearningCurvePoint> points;
    double fullUa = 0;                            // mean over the runs
    int reached = 0;                              // runs that reached 95 % of their full UA
    double fractionTo95 = -1, fractionTo95Sd = 0; // over the runs that reached it (-1: none)
    double secondsTo95 = -1;                      // mean, of the runs that reached it
    double fullSeconds = 0;                       // mean seconds of training on every label
    int runs() const { return int(simulationIds.size()); }
};

struct LearningCurveSetup
{
    QString recipe;
    QString encoder;
    int pool = 0;
    int testClips = 0;
    QList<LearningCurve> curves; // random first, then by name
    QString title() const;       // e.g. "baseline on fbank, 1,512-clip pool, 504 test clips"
};

// Groups and averages the simulations; a record whose report cannot be read is left out and
// named in `problems` (may be null).
QList<LearningCurveSetup> learningCurves(const QList<SimulationRecord> &simulations,
                                         QStringList *problems = nullptr);

} // namespace emolens
