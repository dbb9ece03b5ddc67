#pragma once
// Agreement: how much annotators agree, as the SER literature reports it. Plain numbers in,
// coefficients out; what the store holds is turned into these inputs by LabelAgreement.
//
// - Cohen's kappa (Cohen 1960), two annotators on the same clips.
// - Fleiss' kappa (Fleiss 1971), any number of annotators per clip. Fleiss assumes the same
//   number of ratings per clip; where it differs, each clip's agreement uses its own count
//   (our default, stated in LabelAgreement's report) and clips with fewer than 2 are left out.
// - Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
//   any number of coders, missing ratings allowed, at the nominal, ordinal, interval or ratio
//   level, by the coincidence matrix; per category too (each category against all others).
// - Intraclass correlation (Shrout and Fleiss 1979): the six forms ICC(1,1), (2,1), (3,1),
//   (1,k), (2,k), (3,k) on a complete clips x annotators table, and the one-way ICC(1) for
//   clips rated by different numbers of annotators (Shrout and Fleiss's case 1 with the
//   unbalanced k0 of the one-way ANOVA).
// - Lin's concordance correlation coefficient is training/ClassificationMetrics.h's
//   concordanceCorrelation() (every moment over n, Lin's own estimator), shared with the
//   training metrics.
// - Cronbach's alpha (Cronbach 1951), annotators as items; equals ICC(3,k) on the same table.
//
// Missing values are NaN. A coefficient that is undefined for its input (no variation, too
// few clips) is NaN, never a made-up 0 or 1.
//
// Threads: pure functions, any thread.

#include <cstddef>
#include <vector>

namespace emolens {

// Krippendorff's levels of measurement: which difference between two values counts.
enum class MeasurementLevel { Nominal, Ordinal, Interval, Ratio };
const char *measurementLevelName(MeasurementLevel level); // "nominal", ...

// Ratings in coders x units order: values[coder * units + unit]; NaN = not rated.
struct RatingTable
{
    int coders = 0;
    int units = 0;
    std::vector<double> values;

    RatingTable() = default;
    RatingTable(int coderCount, int unitCount);
    double at(int coder, int unit) const { return values[std::size_t(coder) * units + unit]; }
    double &at(int coder, int unit) { return values[std::size_t(coder) * units + unit]; }
};

struct KrippendorffAlpha
{
    double alpha = 0;                 // NaN when the expected disagreement is 0
    double observedDisagreement = 0;  // D_o
    double expectedDisagreement = 0;  // D_e
    int pairableUnits = 0;            // units with 2 or more ratings
    double pairableValues = 0;        // n: the ratings in those units
    std::vector<double> values;       // the distinct values, ascending
    std::vector<double> coincidences; // values x values, row-major: o_ck
};

KrippendorffAlpha krippendorffAlpha(const RatingTable &ratings, MeasurementLevel level);

// Per category: nominal alpha with every rating recoded as "this category" or "another" (NaN
// for a category nobody used, or one every rating used).
std::vector<double> krippendorffAlphaPerValue(const RatingTable &ratings,
                                              const std::vector<double> &categories);

// Cohen's kappa from a square contingency table (rows: annotator A's category, columns: B's),
// row-major, `categories` x `categories`.
double cohenKappa(const std::vector<double> &table, int categories);

// Fleiss' kappa from counts[unit * categories + category]: how many annotators gave each
// category to each unit.
double fleissKappa(const std::vector<double> &counts, int categories);

struct IntraclassCorrelation
{
    double icc11 = 0, icc21 = 0, icc31 = 0; // single rating
    double icc1k = 0, icc2k = 0, icc3k = 0; // mean of the k ratings
    int targets = 0;
    int judges = 0;
};

// The six Shrout-Fleiss forms on a complete table: values[target * judges + judge], no NaN.
IntraclassCorrelation intraclassCorrelation(const std::vector<double> &values, int targets,
                                            int judges);

struct OneWayIcc
{
    double single = 0;  // ICC(1): the reliability of one annotator's rating
    double average = 0; // ICC(1,k0): of the mean of k0 ratings
    double k0 = 0;      // the effective number of ratings per clip
    int targets = 0;    // clips with 2 or more ratings
    int ratings = 0;
};

// One-way ICC over clips rated by any number of annotators: groups[i] holds clip i's ratings;
// clips with fewer than 2 are left out.
OneWayIcc oneWayIcc(const std::vector<std::vector<double>> &groups);

// Cronbach's alpha, items[item][case]; every item has every case (no NaN).
double cronbachAlpha(const std::vector<std::vector<double>> &items);

} // namespace emolens
