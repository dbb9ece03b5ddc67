#include "training/ClassificationMetrics.h"

namespace emolens {

ClassificationMetrics ClassificationMetrics::compute(const QStringList &labels,
                                                     const QList<int> &truth,
                                                     const QList<int> &predicted)
{
    const int n = int(labels.size());
    QList<QList<int>> confusion(n, QList<int>(n, 0));
    const qsizetype pairs = std::min(truth.size(), predicted.size());
    for (qsizetype i = 0; i < pairs; ++i) {
        const int t = truth[i];
        const int p = predicted[i];
        if (t >= 0 && t < n && p >= 0 && p < n)
            ++confusion[t][p];
    }
    return fromConfusion(labels, confusion);
}

ClassificationMetrics ClassificationMetrics::fromConfusion(const QStringList &labels,
                                                           const QList<QList<int>> &confusion)
{
    ClassificationMetrics m;
    m.labels = labels;
    const int n = int(labels.size());
    m.confusion = QList<QList<int>>(n, QList<int>(n, 0));
    for (int t = 0; t < n && t < confusion.size(); ++t)
        for (int p = 0; p < n && p < confusion[t].size(); ++p)
            m.confusion[t][p] = confusion[t][p];

    int correct = 0;
    double recallSum = 0, f1Sum = 0;
    int recallClasses = 0, f1Classes = 0;
    for (int c = 0; c < n; ++c) {
        ClassScores s;
        s.label = labels[c];
        for (int j = 0; j < n; ++j) {
            s.support += m.confusion[c][j];
            s.predicted += m.confusion[j][c];
        }
        const int hits = m.confusion[c][c];
        correct += hits;
        m.count += s.support;
        s.precision = s.predicted > 0 ? double(hits) / s.predicted : 0.0;
        s.recall = s.support > 0 ? double(hits) / s.support : 0.0;
        s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall)
                                          : 0.0;
        if (s.support > 0) {
            recallSum += s.recall;
            ++recallClasses;
        }
        if (s.support > 0 || s.predicted > 0) {
            f1Sum += s.f1;
            ++f1Classes;
        }
        m.perClass.append(s);
    }
    m.wa = m.count > 0 ? double(correct) / m.count : 0.0;
    m.ua = recallClasses > 0 ? recallSum / recallClasses : 0.0;
    m.macroF1 = f1Classes > 0 ? f1Sum / f1Classes : 0.0;
    return m;
}

QList<QList<int>> ClassificationMetrics::addConfusion(const QList<QList<int>> &a,
                                                      const QList<QList<int>> &b)
{
    if (a.isEmpty())
        return b;
    QList<QList<int>> sum = a;
    for (qsizetype t = 0; t < sum.size() && t < b.size(); ++t)
        for (qsizetype p = 0; p < sum[t].size() && p < b[t].size(); ++p)
            sum[t][p] += b[t][p];
    return sum;
}

double concordanceCorrelation(const std::vector<double> &truth,
                              const std::vector<double> &predicted)
{
    const std::size_t n = truth.size();
    if (n == 0 || predicted.size() != n)
        return 0;
    double meanT = 0, meanP = 0;
    for (std::size_t i = 0; i < n; ++i) {
        meanT += truth[i];
        meanP += predicted[i];
    }
    meanT /= double(n);
    meanP /= double(n);
    double varT = 0, varP = 0, cov = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double dt = truth[i] - meanT;
        const double dp = predicted[i] - meanP;
        varT += dt * dt;
        varP += dp * dp;
        cov += dt * dp;
    }
    varT /= double(n);
    varP /= double(n);
    cov /= double(n);
    const double denominator = varT + varP + (meanT - meanP) * (meanT - meanP);
    return denominator > 0 ? 2 * cov / denominator : 0;
}

} // namespace emolens
