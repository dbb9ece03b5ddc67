#pragma once
// ClassificationMetrics: how well predicted categories match the truth, in the figures SER
// papers report - UA (unweighted accuracy: the mean of per-class recall, "balanced accuracy"),
// WA (weighted accuracy: plain accuracy), macro F1 - with per-class precision, recall and F1
// and the confusion matrix (rows: true class, columns: predicted, in `labels` order). Pooled
// over folds by adding confusion matrices (fromConfusion of the sum).
//
// Conventions, as scikit-learn's (the reference the tests and benchmarks compare with): UA
// averages recall over the classes that occur in the truth; macro F1 averages over the classes
// that occur in the truth or the predictions; a class never predicted has precision 0.
//
// Also the concordance correlation coefficient for dimensional attributes (arousal, valence,
// dominance), with population (1/N) moments as in the CCC loss.
//
// Pure functions and values: any thread.

#include <QList>
#include <QString>
#include <QStringList>
#include <vector>

namespace emolens {

struct ClassScores
{
    QString label;
    int support = 0;   // clips whose true class this is
    int predicted = 0; // clips predicted as this class
    double precision = 0;
    double recall = 0;
    double f1 = 0;
};

struct ClassificationMetrics
{
    QStringList labels;
    QList<QList<int>> confusion; // [true][predicted]
    int count = 0;               // clips scored
    double ua = 0;
    double wa = 0;
    double macroF1 = 0;
    QList<ClassScores> perClass; // in labels order

    // truth[i] and predicted[i] index labels; pairs with an index out of range are not scored.
    static ClassificationMetrics compute(const QStringList &labels, const QList<int> &truth,
                                         const QList<int> &predicted);
    // From a square confusion matrix (labels.size() rows of labels.size() counts).
    static ClassificationMetrics fromConfusion(const QStringList &labels,
                                               const QList<QList<int>> &confusion);
    // The element-wise sum of two matrices over the same labels (pooling folds).
    static QList<QList<int>> addConfusion(const QList<QList<int>> &a, const QList<QList<int>> &b);
};

// Lin's concordance correlation coefficient; 0 when either side has no variance or the
// lengths differ or are empty.
double concordanceCorrelation(const std::vector<double> &truth,
                              const std::vector<double> &predicted);

} // namespace emolens
