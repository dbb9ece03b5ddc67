// emolens-cli agreement: how much the workspace's annotators agree (core/analysis/LabelAgreement),
// as text for people or one JSON object for scripts; emolens-cli traces: time-continuous traces
// to CSV and back (core/corpus/TraceCsv).

#include "CliCommands.h"

#include "analysis/LabelAgreement.h"
#include "common/WorkspaceLocation.h"
#include "corpus/TraceCsv.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>
#include <cstdio>

namespace emolens::cli {

namespace {

// NaN (undefined) as JSON null.
QJsonValue number(double v)
{
    return std::isfinite(v) ? QJsonValue(v) : QJsonValue();
}

QString figure(double v)
{
    return std::isfinite(v) ? QString::number(v, 'f', 3) : QStringLiteral("-");
}

QJsonArray matrix(const QList<QList<double>> &m)
{
    QJsonArray rows;
    for (const QList<double> &row : m) {
        QJsonArray r;
        for (double v : row)
            r.append(v);
        rows.append(r);
    }
    return rows;
}

QJsonObject labelSetJson(const LabelSetAgreement &set, int disagreements)
{
    QJsonArray perClass, pairs, clips;
    for (const ClassAgreement &c : set.perClass)
        perClass.append(QJsonObject{{QStringLiteral("class"), c.name},
                                    {QStringLiteral("ratings"), c.ratings},
                                    {QStringLiteral("alpha"), number(c.alpha)}});
    for (const AnnotatorPairAgreement &p : set.pairs) {
        QJsonArray confusion;
        for (const QList<int> &row : p.confusion) {
            QJsonArray r;
            for (int v : row)
                r.append(v);
            confusion.append(r);
        }
        pairs.append(
            QJsonObject{{QStringLiteral("first"), p.first},
                        {QStringLiteral("second"), p.second},
                        {QStringLiteral("clips"), p.clips},
                        {QStringLiteral("observed_agreement"), number(p.observedAgreement)},
                        {QStringLiteral("cohen_kappa"), number(p.cohenKappa)},
                        {QStringLiteral("confusion"), confusion}});
    }
    for (int i = 0; i < set.disagreements.size() && i < disagreements; ++i) {
        const DisagreedClip &d = set.disagreements[i];
        QJsonObject given;
        for (auto it = d.categories.cbegin(); it != d.categories.cend(); ++it)
            given.insert(it.key(), it.value());
        clips.append(QJsonObject{{QStringLiteral("id"), d.utteranceId},
                                 {QStringLiteral("key"), d.key},
                                 {QStringLiteral("observed_agreement"), d.observedAgreement},
                                 {QStringLiteral("labels"), given}});
    }
    return {{QStringLiteral("label_set"), set.name},
            {QStringLiteral("classes"), QJsonArray::fromStringList(set.classes)},
            {QStringLiteral("annotators"), QJsonArray::fromStringList(set.annotators)},
            {QStringLiteral("clips"), set.clips},
            {QStringLiteral("ratings"), set.ratings},
            {QStringLiteral("observed_agreement"), number(set.observedAgreement)},
            {QStringLiteral("krippendorff_alpha_nominal"), number(set.alpha)},
            {QStringLiteral("fleiss_kappa"), number(set.fleissKappa)},
            {QStringLiteral("per_class"), perClass},
            {QStringLiteral("pairs"), pairs},
            {QStringLiteral("coincidences"), matrix(set.coincidences)},
            {QStringLiteral("disagreements"), int(set.disagreements.size())},
            {QStringLiteral("disagreed_clips"), clips}};
}

QJsonObject dimensionJson(const DimensionAgreement &d)
{
    QJsonObject alpha;
    for (MeasurementLevel level : {MeasurementLevel::Nominal, MeasurementLevel::Ordinal,
                                   MeasurementLevel::Interval, MeasurementLevel::Ratio})
        alpha.insert(QString::fromLatin1(measurementLevelName(level)),
                     number(d.alpha[size_t(level)]));
    return {{QStringLiteral("dimension"), d.name},
            {QStringLiteral("annotators"), QJsonArray::fromStringList(d.annotators)},
            {QStringLiteral("clips"), d.clips},
            {QStringLiteral("ratings"), d.ratings},
            {QStringLiteral("krippendorff_alpha"), alpha},
            {QStringLiteral("icc1"), number(d.icc.single)},
            {QStringLiteral("icc1k"), number(d.icc.average)},
            {QStringLiteral("icc_k0"), number(d.icc.k0)}};
}

QJsonObject traceJson(const TraceDimensionAgreement &t)
{
    return {{QStringLiteral("dimension"), t.dimension},
            {QStringLiteral("annotators"), QJsonArray::fromStringList(t.annotators)},
            {QStringLiteral("clips"), t.clips},
            {QStringLiteral("traces"), t.traces},
            {QStringLiteral("pair_ccc"), number(t.pairConcordance)},
            {QStringLiteral("fused_ccc"), number(t.fusedConcordance)},
            {QStringLiteral("cronbach_alpha"), number(t.cronbachAlpha)}};
}

void printTraces(const QList<TraceDimensionAgreement> &traces)
{
    for (const TraceDimensionAgreement &t : traces) {
        std::printf("\nTraces of %s: %d clips traced by 2 or more (%d traces, %d annotators)\n",
                    qPrintable(t.dimension), t.clips, t.traces, int(t.annotators.size()));
        if (t.clips > 0)
            std::printf("  Lin's CCC per pair %s, with the fused (EWE) trace %s; Cronbach's "
                        "alpha %s (means over the clips)\n",
                        qPrintable(figure(t.pairConcordance)),
                        qPrintable(figure(t.fusedConcordance)),
                        qPrintable(figure(t.cronbachAlpha)));
    }
}

void printText(const QString &workspace, const AgreementReport &report, int disagreements)
{
    std::printf("%s: %d annotators compared (%s)\n", qPrintable(workspace),
                int(report.annotators.size()), qPrintable(report.annotators.join(u", ")));
    if (report.labelSets.isEmpty() && report.dimensions.isEmpty())
        std::printf("No clip has labels from two annotators yet.\n");
    for (const LabelSetAgreement &set : report.labelSets) {
        std::printf("\nLabel set %s: %d clips with 2 or more categories (%d ratings, %d "
                    "annotators)\n",
                    qPrintable(set.name), set.clips, set.ratings, int(set.annotators.size()));
        if (set.clips == 0)
            continue;
        std::printf("  Krippendorff's alpha (nominal) %s   Fleiss' kappa %s   observed "
                    "agreement %s\n",
                    qPrintable(figure(set.alpha)), qPrintable(figure(set.fleissKappa)),
                    qPrintable(figure(set.observedAgreement)));
        std::printf("  Per class (alpha, this class against the others):\n");
        for (const ClassAgreement &c : set.perClass)
            std::printf("    %-16s %s  (%d ratings)\n", qPrintable(c.name),
                        qPrintable(figure(c.alpha)), c.ratings);
        std::printf("  Pairs (Cohen's kappa, observed agreement, clips both labeled):\n");
        for (const AnnotatorPairAgreement &p : set.pairs)
            std::printf("    %s / %s: %s  %s  %d\n", qPrintable(p.first), qPrintable(p.second),
                        qPrintable(figure(p.cohenKappa)), qPrintable(figure(p.observedAgreement)),
                        p.clips);
        std::printf("  %d clips with disagreement%s\n", int(set.disagreements.size()),
                    set.disagreements.isEmpty() ? "" : ", least agreement first:");
        for (int i = 0; i < set.disagreements.size() && i < disagreements; ++i) {
            const DisagreedClip &d = set.disagreements[i];
            QStringList given;
            for (auto it = d.categories.cbegin(); it != d.categories.cend(); ++it)
                given << QStringLiteral("%1=%2").arg(it.key(), it.value());
            std::printf("    %s: %s\n", qPrintable(d.key), qPrintable(given.join(u' ')));
        }
        if (set.disagreements.size() > disagreements)
            std::printf("    ... %d more (--disagreements N)\n",
                        int(set.disagreements.size()) - disagreements);
    }
    for (const DimensionAgreement &d : report.dimensions) {
        std::printf("\nDimension %s: %d clips with 2 or more values (%d ratings, %d annotators)\n",
                    qPrintable(d.name), d.clips, d.ratings, int(d.annotators.size()));
        if (d.clips == 0)
            continue;
        std::printf("  Krippendorff's alpha: interval %s, ordinal %s, ratio %s, nominal %s\n",
                    qPrintable(figure(d.alpha[size_t(MeasurementLevel::Interval)])),
                    qPrintable(figure(d.alpha[size_t(MeasurementLevel::Ordinal)])),
                    qPrintable(figure(d.alpha[size_t(MeasurementLevel::Ratio)])),
                    qPrintable(figure(d.alpha[size_t(MeasurementLevel::Nominal)])));
        std::printf("  ICC(1) one rating %s, mean of %.1f ratings %s\n",
                    qPrintable(figure(d.icc.single)), d.icc.k0, qPrintable(figure(d.icc.average)));
    }
}

} // namespace

int agreementCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(workspaceOption());
    parser.addOption({QStringLiteral("corpus"), QStringLiteral("Only this corpus (default: all)."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("include-corpus"),
                      QStringLiteral("Count each corpus's own labels as one more annotator.")});
    parser.addOption({QStringLiteral("disagreements"),
                      QStringLiteral("How many clips with disagreement to list per label set "
                                     "(default 20)."),
                      QStringLiteral("N"), QStringLiteral("20")});
    parser.addOption({QStringLiteral("lag"),
                      QStringLiteral("Traces: read every trace this many seconds later, for the "
                                     "annotators' reaction time (default 0)."),
                      QStringLiteral("SECONDS"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("estimate-lag"),
                      QStringLiteral("Traces: estimate each annotator's reaction lag (0 to 3 s "
                                     "more than --lag) from the others' traces.")});
    parser.addOption(jsonOption());
    if (int code = parse(parser, arguments,
                         QStringLiteral("How much the annotators agree: Krippendorff's alpha, "
                                        "Fleiss' and Cohen's kappa per label set, class and pair; "
                                        "alpha at every level and the ICC per dimension; the "
                                        "clips they disagree on; Lin's CCC and Cronbach's alpha "
                                        "over time-continuous traces. Each annotator's current "
                                        "label and trace counts."));
        code >= 0)
        return code;
    const QString path = parser.value(QStringLiteral("db"));
    if (path.isEmpty())
        return fail(QStringLiteral("--db FILE is required"));
    if (WorkspaceLocation::isMissingFile(path))
        return fail(QStringLiteral("%1: no such workspace file").arg(path));
    bool ok = false;
    const int disagreements = parser.value(QStringLiteral("disagreements")).toInt(&ok);
    if (!ok || disagreements < 0)
        return fail(QStringLiteral("--disagreements needs a whole number, 0 or more"));
    Database db(path);
    if (auto st = db.open(); !st)
        return fail(st.error());
    AgreementOptions options;
    options.includeCorpusLabels = parser.isSet(QStringLiteral("include-corpus"));
    if (int code = corpusArgument(parser, db, &options.corpusId); code != 0)
        return code;
    bool okLag = false;
    TraceFusionOptions fusion;
    fusion.fixedLagSeconds = parser.value(QStringLiteral("lag")).toDouble(&okLag);
    fusion.estimateLag = parser.isSet(QStringLiteral("estimate-lag"));
    if (!okLag || fusion.fixedLagSeconds < 0 || fusion.fixedLagSeconds > 10)
        return fail(QStringLiteral("--lag needs seconds from 0 to 10"));
    AgreementReport report;
    if (auto st = labelAgreement(db, options, &report); !st)
        return fail(QStringLiteral("%1: %2").arg(path, st.error()));
    QList<TraceDimensionAgreement> traces;
    if (auto st = traceAgreement(db, options.corpusId, fusion, &traces); !st)
        return fail(QStringLiteral("%1: %2").arg(path, st.error()));
    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray sets, dimensions, traceFigures;
        for (const TraceDimensionAgreement &t : traces)
            traceFigures.append(traceJson(t));
        for (const LabelSetAgreement &set : report.labelSets)
            sets.append(labelSetJson(set, disagreements));
        for (const DimensionAgreement &d : report.dimensions)
            dimensions.append(dimensionJson(d));
        const QJsonObject o{
            {QStringLiteral("annotators"), QJsonArray::fromStringList(report.annotators)},
            {QStringLiteral("label_sets"), sets},
            {QStringLiteral("dimensions"), dimensions},
            {QStringLiteral("traces"), traceFigures}};
        std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
        return 0;
    }
    printText(path, report, disagreements);
    printTraces(traces);
    return 0;
}

int tracesCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(workspaceOption());
    parser.addOption({QStringLiteral("export"),
                      QStringLiteral("Write every current trace as CSV: key, annotator, "
                                     "dimension, time_seconds, value."),
                      QStringLiteral("FILE.csv")});
    parser.addOption({QStringLiteral("import"),
                      QStringLiteral("Read traces from such a CSV (one trace per clip, annotator "
                                     "and dimension; evenly spaced times, values -1 to 1)."),
                      QStringLiteral("FILE.csv")});
    parser.addOption({QStringLiteral("corpus"),
                      QStringLiteral("Export only this corpus (default: all)."),
                      QStringLiteral("NAME")});
    parser.addOption(jsonOption());
    if (int code = parse(parser, arguments,
                         QStringLiteral("Time-continuous traces (arousal, valence, ... over a "
                                        "clip) to CSV and back. Bad rows are reported by line "
                                        "and skipped; a trace the workspace already holds is "
                                        "not stored twice."));
        code >= 0)
        return code;
    const QString path = parser.value(QStringLiteral("db"));
    const bool exporting = parser.isSet(QStringLiteral("export"));
    const bool importing = parser.isSet(QStringLiteral("import"));
    if (path.isEmpty())
        return fail(QStringLiteral("--db FILE is required"));
    if (exporting == importing)
        return fail(QStringLiteral("traces needs --export FILE.csv or --import FILE.csv"));
    if (WorkspaceLocation::isMissingFile(path))
        return fail(QStringLiteral("%1: no such workspace file").arg(path));
    Database db(path);
    if (auto st = db.open(); !st)
        return fail(st.error());
    if (exporting) {
        qint64 corpusId = 0;
        if (int code = corpusArgument(parser, db, &corpusId); code != 0)
            return code;
        const QString out = parser.value(QStringLiteral("export"));
        int written = 0;
        if (auto st = exportTraceCsv(db, corpusId, out, &written); !st)
            return fail(st.error());
        if (parser.isSet(QStringLiteral("json")))
            std::fputs(QJsonDocument(QJsonObject{{QStringLiteral("exported"), written},
                                                 {QStringLiteral("out"), out}})
                           .toJson(QJsonDocument::Indented)
                           .constData(),
                       stdout);
        else
            std::printf("Exported %d traces to %s\n", written, qPrintable(out));
        return 0;
    }
    const QString in = parser.value(QStringLiteral("import"));
    TraceImportReport report;
    if (auto st = importTraceCsv(db, in, &report); !st)
        return fail(st.error());
    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray problems;
        for (const ImportProblem &p : std::as_const(report.problems))
            problems.append(QJsonObject{{QStringLiteral("path"), p.path},
                                        {QStringLiteral("line"), p.line},
                                        {QStringLiteral("reason"), p.reason}});
        std::fputs(QJsonDocument(QJsonObject{{QStringLiteral("added"), report.added},
                                             {QStringLiteral("unchanged"), report.unchanged},
                                             {QStringLiteral("skipped"), problems}})
                       .toJson(QJsonDocument::Indented)
                       .constData(),
                   stdout);
    } else {
        std::printf("Imported %d traces from %s (%d already in the workspace)\n", report.added,
                    qPrintable(in), report.unchanged);
        if (!report.problems.isEmpty())
            std::printf("Skipped %d:\n", int(report.problems.size()));
        for (const ImportProblem &p : std::as_const(report.problems))
            std::printf("  %s:%d: %s\n", qPrintable(p.path), p.line, qPrintable(p.reason));
    }
    return 0;
}

} // namespace emolens::cli
