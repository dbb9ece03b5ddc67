// emolens-cli agreement: how much the workspace's annotators agree (core/analysis/LabelAgreement),
// as text for people or one JSON object for scripts.

#include "CliCommands.h"

#include "analysis/LabelAgreement.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"

#include <QCommandLineParser>
#include <QFileInfo>
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
    parser.addOption({QStringLiteral("db"), QStringLiteral("The workspace (SQLite file)."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("corpus"), QStringLiteral("Only this corpus (default: all)."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("include-corpus"),
                      QStringLiteral("Count each corpus's own labels as one more annotator.")});
    parser.addOption({QStringLiteral("disagreements"),
                      QStringLiteral("How many clips with disagreement to list per label set "
                                     "(default 20)."),
                      QStringLiteral("N"), QStringLiteral("20")});
    parser.addOption(
        {QStringLiteral("json"), QStringLiteral("Print one JSON object instead of text.")});
    if (int code = parse(parser, arguments,
                         QStringLiteral("How much the annotators agree: Krippendorff's alpha, "
                                        "Fleiss' and Cohen's kappa per label set, class and pair; "
                                        "alpha at every level and the ICC per dimension; the "
                                        "clips they disagree on. Each annotator's current label "
                                        "counts."));
        code >= 0)
        return code;
    const QString path = parser.value(QStringLiteral("db"));
    if (path.isEmpty())
        return fail(QStringLiteral("--db FILE is required"));
    if (!QFileInfo::exists(path))
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
    if (parser.isSet(QStringLiteral("corpus"))) {
        const QString name = parser.value(QStringLiteral("corpus"));
        for (const CorpusRecord &c : CorpusRepository(db).corpora())
            if (c.name == name)
                options.corpusId = c.id;
        if (options.corpusId == 0)
            return fail(QStringLiteral("%1: no corpus named \"%2\"").arg(path, name));
    }
    AgreementReport report;
    if (auto st = labelAgreement(db, options, &report); !st)
        return fail(QStringLiteral("%1: %2").arg(path, st.error()));
    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray sets, dimensions;
        for (const LabelSetAgreement &set : report.labelSets)
            sets.append(labelSetJson(set, disagreements));
        for (const DimensionAgreement &d : report.dimensions)
            dimensions.append(dimensionJson(d));
        const QJsonObject o{
            {QStringLiteral("annotators"), QJsonArray::fromStringList(report.annotators)},
            {QStringLiteral("label_sets"), sets},
            {QStringLiteral("dimensions"), dimensions}};
        std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
        return 0;
    }
    printText(path, report, disagreements);
    return 0;
}

} // namespace emolens::cli
