#pragma once
// LearningCurvesDialog: Model > Learning Curves - active learning's evidence from the stored
// simulations (emolens-cli simulate): UA on held-out speakers against the fraction of the pool
// labeled, one line per strategy (the mean over its runs, each run's round as a faint point),
// random dashed grey as the baseline, the UA of training on every label as a black line and
// 95 % of it dotted. Under the plot, per strategy: runs, the fraction of labels to reach 95 %
// of the full UA (mean and spread, and how many runs reached it), the last round's UA, and
// the seconds until then against training on every label. Several setups (recipe, encoder,
// pool) are chosen from a list. Save Image writes the plot as PNG, Save Table as CSV.
//
// Ownership and threads: GUI thread; reads the workspace when shown and on reload().

#include "active/LearningCurves.h"

#include <QDialog>

class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace emolens {

class Database;

class LearningCurvesDialog : public QDialog
{
    Q_OBJECT

public:
    LearningCurvesDialog(Database *db, QWidget *parent = nullptr);

    void reload();
    const QList<LearningCurveSetup> &setups() const { return m_setups; }
    QComboBox *setupCombo() const { return m_setupCombo; }
    QChart *chart() const { return m_chart; }
    QChartView *chartView() const { return m_view; }
    QTableWidget *table() const { return m_table; }
    QLabel *messageLabel() const { return m_message; }
    // The plot as PNG; the table as CSV. False when it cannot be
    // written; the message label says why.
    bool saveImage(const QString &path);
    bool saveTable(const QString &path);

private:
    void showSetup(int index);

    Database *m_db = nullptr;
    QList<LearningCurveSetup> m_setups;
    QComboBox *m_setupCombo = nullptr;
    QChart *m_chart = nullptr;
    QChartView *m_view = nullptr;
    QTableWidget *m_table = nullptr;
    QLabel *m_message = nullptr;
    QPushButton *m_saveImage = nullptr;
    QPushButton *m_saveTable = nullptr;
};

} // namespace emolens
