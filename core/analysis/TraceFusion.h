#pragma once
// TraceFusion: several annotators' time-continuous traces of one clip and dimension, on one
// time grid - compensated for reaction lag, fused into one trace, and measured for agreement.
//
// - The grid: rateHz (default 25 Hz, as traces are recorded) over [0, the clip's duration).
//   Each trace is read at the grid's times by linear interpolation; outside what it recorded,
//   or across a gap (NaN), it has no value.
// - Reaction lag: annotators move later than the speech that moved them, so a compensated
//   trace is read `lag` seconds later: x'(t) = x(t + lag). By a fixed shift for everyone
//   (fixedLagSeconds), or estimated per annotator (estimateLag): the shift in
//   [0, maxLagSeconds], in grid steps, whose trace correlates best (Pearson) with the mean of
//   the others' unshifted traces - our default where the papers leave the estimator open.
// - Fusion: the mean of the annotators at each grid point, and the evaluator weighted
//   estimator (EWE, Grimm and Kroschel 2005): each annotator weighted by the correlation of
//   their trace with the mean of all annotators' (the paper's maximum likelihood estimate).
//   Negative weights count as 0 and, where every weight is 0 or undefined, the EWE is the
//   mean (our defaults; the paper is silent).
// - Agreement: Lin's CCC per pair of annotators and of each annotator with the EWE, over the
//   grid points both have; Cronbach's alpha with annotators as items and the grid points
//   every annotator has as cases.
//
// Threads: pure functions, any thread.

#include "store/Records.h"

#include <QList>
#include <QStringList>
#include <vector>

namespace emolens {

struct TraceFusionOptions
{
    double rateHz = 25;
    double fixedLagSeconds = 0;
    bool estimateLag = false;
    double maxLagSeconds = 3;
};

struct FusedTraces
{
    double rateHz = 25;
    QStringList annotators;                // in the order of the traces given
    std::vector<std::vector<double>> grid; // per annotator, lag-compensated, NaN = no value
    std::vector<double> lagSeconds;        // per annotator, as applied
    std::vector<double> weights;           // per annotator: the EWE's (before normalising)
    std::vector<double> mean;              // per grid point (NaN where nobody has a value)
    std::vector<double> ewe;
    std::vector<std::vector<double>> pairConcordance; // [a][b], Lin's CCC (NaN: undefined)
    std::vector<double> concordanceWithEwe;           // per annotator
    double cronbachAlpha = 0;                         // NaN with fewer than 2 annotators
};

// Reads one trace on the grid: frames points from time 0, every 1 / rateHz, the trace read
// `lagSeconds` later.
std::vector<double> traceOnGrid(const TraceRecord &trace, double rateHz, int frames,
                                double lagSeconds);

// Fuses the traces (one clip, one dimension, one per annotator) over a clip of
// durationSeconds.
FusedTraces fuseTraces(const QList<TraceRecord> &traces, double durationSeconds,
                       const TraceFusionOptions &options = {});

// Pearson's correlation over the points both have (NaN with fewer than 2, or no variance).
double pearsonCorrelation(const std::vector<double> &x, const std::vector<double> &y);

} // namespace emolens
