#pragma once
// LabelAgreement: how much the workspace's annotators agree - the figures, the
// annotator-by-annotator confusion matrices and the clips they disagree on - for the
// Agreement view and `emolens-cli agreement`.
//
// What is compared: each annotator's current judgement of each clip (their newest label row).
// - Categories, per label set (the one each judgement was given in): Krippendorff's nominal
//   alpha (missing ratings allowed) and per class, Fleiss' kappa, the observed agreement (the
//   share of agreeing pairs of ratings), and per pair of annotators Cohen's kappa and their
//   confusion matrix. Only clips with a category from 2 or more annotators count.
//   Fleiss assumed the same number of ratings per clip; where it differs, each clip's
//   agreement is over its own ratings (our default where the paper is silent).
// - Each dimension (arousal, valence, ...), across label sets: Krippendorff's alpha at all four
//   levels and the one-way ICC (each clip is rated by whichever annotators it got: Shrout and
//   Fleiss's case 1).
// People only by default; the corpus's own labels can count as one more annotator.
//
// Threads: on the thread that owns the Database.

#include "analysis/Agreement.h"
#include "analysis/TraceFusion.h"
#include "common/Status.h"

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>
#include <array>
#include <limits>

namespace emolens {

class Database;

struct AgreementOptions
{
    qint64 corpusId = 0;              // 0: every corpus
    bool includeCorpusLabels = false; // the corpus's own labels as an annotator
};

struct AnnotatorPairAgreement
{
    QString first, second; // by name, first < second
    int clips = 0;         // clips both gave a category in the label set
    double observedAgreement = std::numeric_limits<double>::quiet_NaN();
    double cohenKappa = std::numeric_limits<double>::quiet_NaN();
    QList<QList<int>> confusion; // [first's class][second's class], classes as the label set's
};

struct ClassAgreement
{
    QString name;
    int ratings = 0; // how often annotators gave it, on the compared clips
    double alpha = std::numeric_limits<double>::quiet_NaN(); // this class against the others
};

struct DisagreedClip
{
    qint64 utteranceId = 0;
    QString key;
    QMap<QString, QString> categories; // annotator -> category
    double observedAgreement = 0;      // the share of its pairs of ratings that agree
};

struct LabelSetAgreement
{
    qint64 schemaId = 0;
    QString name;
    QStringList classes;    // the label set's, then categories given outside it
    QStringList annotators; // who gave a category on a compared clip
    int clips = 0;          // clips with a category from 2 or more annotators
    int ratings = 0;        // categories on those clips
    double observedAgreement = std::numeric_limits<double>::quiet_NaN();
    double fleissKappa = std::numeric_limits<double>::quiet_NaN();
    double alpha = std::numeric_limits<double>::quiet_NaN(); // Krippendorff, nominal
    QList<ClassAgreement> perClass;
    QList<AnnotatorPairAgreement> pairs;
    QList<QList<double>> coincidences;  // Krippendorff's, [class][class], over every annotator
    QList<DisagreedClip> disagreements; // least agreement first, then by key
};

struct DimensionAgreement
{
    QString name;
    QStringList annotators;
    int clips = 0;                 // clips with a value from 2 or more annotators
    int ratings = 0;               // values on those clips
    std::array<double, 4> alpha{}; // by MeasurementLevel: nominal, ordinal, interval, ratio
    OneWayIcc icc;
};

struct AgreementReport
{
    QStringList annotators; // every annotator compared, sorted
    QList<LabelSetAgreement> labelSets;
    QList<DimensionAgreement> dimensions;
};

Status labelAgreement(Database &db, const AgreementOptions &options, AgreementReport *out);

// Agreement over time-continuous traces, per dimension: every clip that two or more people
// traced is fused (TraceFusion, with `fusion`'s lag compensation) and its figures averaged
// over the clips.
struct TraceDimensionAgreement
{
    QString dimension;
    QStringList annotators;
    int clips = 0;  // clips traced by 2 or more annotators
    int traces = 0; // their traces
    double pairConcordance = std::numeric_limits<double>::quiet_NaN();  // mean pairwise CCC
    double fusedConcordance = std::numeric_limits<double>::quiet_NaN(); // mean CCC with the EWE
    double cronbachAlpha = std::numeric_limits<double>::quiet_NaN();    // mean over clips
};

Status traceAgreement(Database &db, qint64 corpusId, const TraceFusionOptions &fusion,
                      QList<TraceDimensionAgreement> *out);

} // namespace emolens
