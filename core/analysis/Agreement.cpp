#include "analysis/Agreement.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace emolens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// delta^2 between the values with indices c and k, for the level; `marginals` are n_c (the
// ordinal metric ranks by them).
double squaredDifference(MeasurementLevel level, const std::vector<double> &values,
                         const std::vector<double> &marginals, size_t c, size_t k)
{
    if (c == k)
        return 0;
    switch (level) {
    case MeasurementLevel::Nominal:
        return 1;
    case MeasurementLevel::Ordinal: {
        const size_t lo = std::min(c, k), hi = std::max(c, k);
        double sum = 0;
        for (size_t g = lo; g <= hi; ++g)
            sum += marginals[g];
        const double d = sum - (marginals[lo] + marginals[hi]) / 2;
        return d * d;
    }
    case MeasurementLevel::Interval: {
        const double d = values[c] - values[k];
        return d * d;
    }
    case MeasurementLevel::Ratio: {
        const double sum = values[c] + values[k];
        if (sum == 0)
            return 0; // both 0: the same value
        const double d = (values[c] - values[k]) / sum;
        return d * d;
    }
    }
    return 1;
}

} // namespace

const char *measurementLevelName(MeasurementLevel level)
{
    switch (level) {
    case MeasurementLevel::Nominal:
        return "nominal";
    case MeasurementLevel::Ordinal:
        return "ordinal";
    case MeasurementLevel::Interval:
        return "interval";
    case MeasurementLevel::Ratio:
        return "ratio";
    }
    return "";
}

RatingTable::RatingTable(int coderCount, int unitCount)
    : coders(coderCount), units(unitCount), values(size_t(coderCount) * unitCount, kNaN)
{
}

KrippendorffAlpha krippendorffAlpha(const RatingTable &ratings, MeasurementLevel level)
{
    KrippendorffAlpha out;
    for (double v : ratings.values)
        if (!std::isnan(v))
            out.values.push_back(v);
    std::sort(out.values.begin(), out.values.end());
    out.values.erase(std::unique(out.values.begin(), out.values.end()), out.values.end());
    const size_t V = out.values.size();
    out.coincidences.assign(V * V, 0.0);
    const auto indexOf = [&](double v) {
        return size_t(std::lower_bound(out.values.begin(), out.values.end(), v) -
                      out.values.begin());
    };
    // Each pairable unit adds its m_u (m_u - 1) ordered pairs of ratings, each weighted
    // 1 / (m_u - 1): every rating in it counts once in the coincidence matrix.
    std::vector<double> unitCounts(V);
    std::vector<size_t> used;
    for (int u = 0; u < ratings.units; ++u) {
        used.clear();
        int m = 0;
        for (int c = 0; c < ratings.coders; ++c) {
            const double v = ratings.at(c, u);
            if (std::isnan(v))
                continue;
            const size_t i = indexOf(v);
            if (unitCounts[i] == 0)
                used.push_back(i);
            unitCounts[i] += 1;
            ++m;
        }
        if (m >= 2) {
            ++out.pairableUnits;
            for (size_t a : used)
                for (size_t b : used)
                    out.coincidences[a * V + b] +=
                        unitCounts[a] * (a == b ? unitCounts[b] - 1 : unitCounts[b]) / (m - 1);
        }
        for (size_t i : used)
            unitCounts[i] = 0;
    }
    std::vector<double> marginals(V, 0.0);
    for (size_t c = 0; c < V; ++c)
        for (size_t k = 0; k < V; ++k)
            marginals[c] += out.coincidences[c * V + k];
    double n = 0;
    for (double m : marginals)
        n += m;
    out.pairableValues = n;
    if (n < 2) {
        out.alpha = kNaN;
        return out;
    }
    double observed = 0, expected = 0;
    for (size_t c = 0; c < V; ++c)
        for (size_t k = 0; k < V; ++k) {
            if (c == k)
                continue;
            const double d2 = squaredDifference(level, out.values, marginals, c, k);
            observed += out.coincidences[c * V + k] * d2;
            expected += marginals[c] * marginals[k] * d2;
        }
    out.observedDisagreement = observed / n;
    out.expectedDisagreement = expected / (n * (n - 1));
    out.alpha = out.expectedDisagreement > 0
                    ? 1 - out.observedDisagreement / out.expectedDisagreement
                    : kNaN;
    return out;
}

std::vector<double> krippendorffAlphaPerValue(const RatingTable &ratings,
                                              const std::vector<double> &categories)
{
    std::vector<double> out;
    out.reserve(categories.size());
    RatingTable binary(ratings.coders, ratings.units);
    for (double category : categories) {
        for (size_t i = 0; i < ratings.values.size(); ++i) {
            const double v = ratings.values[i];
            binary.values[i] = std::isnan(v) ? kNaN : (v == category ? 1.0 : 0.0);
        }
        out.push_back(krippendorffAlpha(binary, MeasurementLevel::Nominal).alpha);
    }
    return out;
}

double cohenKappa(const std::vector<double> &table, int categories)
{
    double total = 0, agreed = 0;
    std::vector<double> rows(categories, 0.0), columns(categories, 0.0);
    for (int a = 0; a < categories; ++a)
        for (int b = 0; b < categories; ++b) {
            const double count = table[size_t(a) * categories + b];
            total += count;
            rows[a] += count;
            columns[b] += count;
            if (a == b)
                agreed += count;
        }
    if (total <= 0)
        return kNaN;
    double chance = 0;
    for (int c = 0; c < categories; ++c)
        chance += rows[c] * columns[c];
    chance /= total * total;
    const double observed = agreed / total;
    return chance < 1 ? (observed - chance) / (1 - chance) : kNaN;
}

double fleissKappa(const std::vector<double> &counts, int categories)
{
    if (categories <= 0)
        return kNaN;
    const size_t units = counts.size() / size_t(categories);
    std::vector<double> totals(categories, 0.0);
    double agreementSum = 0, ratings = 0;
    int used = 0;
    for (size_t u = 0; u < units; ++u) {
        const double *row = counts.data() + u * categories;
        double n = 0, squares = 0;
        for (int c = 0; c < categories; ++c) {
            n += row[c];
            squares += row[c] * row[c];
        }
        if (n < 2)
            continue;
        agreementSum += (squares - n) / (n * (n - 1));
        for (int c = 0; c < categories; ++c)
            totals[c] += row[c];
        ratings += n;
        ++used;
    }
    if (used == 0)
        return kNaN;
    const double observed = agreementSum / used;
    double chance = 0;
    for (double t : totals)
        chance += (t / ratings) * (t / ratings);
    return chance < 1 ? (observed - chance) / (1 - chance) : kNaN;
}

IntraclassCorrelation intraclassCorrelation(const std::vector<double> &values, int targets,
                                            int judges)
{
    IntraclassCorrelation out;
    out.targets = targets;
    out.judges = judges;
    out.icc11 = out.icc21 = out.icc31 = out.icc1k = out.icc2k = out.icc3k = kNaN;
    if (targets < 2 || judges < 2 || values.size() != size_t(targets) * judges)
        return out;
    double grand = 0;
    for (double v : values)
        grand += v;
    grand /= double(values.size());
    std::vector<double> rowMean(targets, 0.0), columnMean(judges, 0.0);
    for (int t = 0; t < targets; ++t)
        for (int j = 0; j < judges; ++j) {
            rowMean[t] += values[size_t(t) * judges + j] / judges;
            columnMean[j] += values[size_t(t) * judges + j] / targets;
        }
    double total = 0, rows = 0, columns = 0;
    for (double v : values)
        total += (v - grand) * (v - grand);
    for (double m : rowMean)
        rows += judges * (m - grand) * (m - grand);
    for (double m : columnMean)
        columns += targets * (m - grand) * (m - grand);
    const double n = targets, k = judges;
    const double bms = rows / (n - 1);
    const double wms = (total - rows) / (n * (k - 1));
    const double jms = columns / (k - 1);
    const double ems = (total - rows - columns) / ((n - 1) * (k - 1));
    const auto ratio = [](double num, double den) { return den != 0 ? num / den : kNaN; };
    out.icc11 = ratio(bms - wms, bms + (k - 1) * wms);
    out.icc21 = ratio(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n);
    out.icc31 = ratio(bms - ems, bms + (k - 1) * ems);
    out.icc1k = ratio(bms - wms, bms);
    out.icc2k = ratio(bms - ems, bms + (jms - ems) / n);
    out.icc3k = ratio(bms - ems, bms);
    return out;
}

OneWayIcc oneWayIcc(const std::vector<std::vector<double>> &groups)
{
    OneWayIcc out;
    out.single = out.average = kNaN;
    double sum = 0, sumSquaredSizes = 0;
    for (const auto &g : groups) {
        if (g.size() < 2)
            continue;
        ++out.targets;
        out.ratings += int(g.size());
        sumSquaredSizes += double(g.size()) * double(g.size());
        for (double v : g)
            sum += v;
    }
    if (out.targets < 2 || out.ratings <= out.targets)
        return out;
    const double N = out.ratings;
    const double grand = sum / N;
    double between = 0, within = 0;
    for (const auto &g : groups) {
        if (g.size() < 2)
            continue;
        double mean = 0;
        for (double v : g)
            mean += v;
        mean /= double(g.size());
        between += double(g.size()) * (mean - grand) * (mean - grand);
        for (double v : g)
            within += (v - mean) * (v - mean);
    }
    const double msb = between / (out.targets - 1);
    const double msw = within / (N - out.targets);
    out.k0 = (N - sumSquaredSizes / N) / (out.targets - 1);
    const double single = msb + (out.k0 - 1) * msw;
    out.single = single != 0 ? (msb - msw) / single : kNaN;
    out.average = msb != 0 ? (msb - msw) / msb : kNaN;
    return out;
}

double cronbachAlpha(const std::vector<std::vector<double>> &items)
{
    const size_t k = items.size();
    if (k < 2)
        return kNaN;
    const size_t cases = items.front().size();
    for (const auto &item : items)
        if (item.size() != cases)
            return kNaN;
    if (cases < 2)
        return kNaN;
    const auto variance = [cases](const std::vector<double> &v) {
        double mean = 0;
        for (double x : v)
            mean += x;
        mean /= double(cases);
        double s = 0;
        for (double x : v)
            s += (x - mean) * (x - mean);
        return s / double(cases - 1);
    };
    std::vector<double> totals(cases, 0.0);
    double itemVariances = 0;
    for (const auto &item : items) {
        itemVariances += variance(item);
        for (size_t i = 0; i < cases; ++i)
            totals[i] += item[i];
    }
    const double totalVariance = variance(totals);
    if (totalVariance <= 0)
        return kNaN;
    return double(k) / double(k - 1) * (1 - itemVariances / totalVariance);
}

} // namespace emolens
