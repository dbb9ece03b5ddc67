#include "CliCommands.h"

#include "active/Selection.h"
#include "common/EtaEstimator.h"
#include "common/Progress.h"
#include "common/WorkspaceLocation.h"
#include "corpus/CorpusExporter.h"
#include "corpus/CorpusFormat.h"
#include "corpus/CorpusImporter.h"
#include "corpus/DelimitedText.h"
#include "corpus/DemoCorpus.h"
#include "features/FeatureCache.h"
#include "jobs/EvaluateJob.h"
#include "jobs/ExportJob.h"
#include "jobs/ExtractFeaturesJob.h"
#include "jobs/ImportJob.h"
#include "jobs/JobQueue.h"
#include "jobs/PretrainJob.h"
#include "jobs/SelectJob.h"
#include "jobs/SimulateJob.h"
#include "jobs/TrainJob.h"
#include "jobs/TsneJob.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "store/LabelRepository.h"
#include "store/ModelRepository.h"
#include "training/ClipPosteriors.h"
#include "training/PretrainedBackbones.h"
#include "training/Recipes.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTemporaryDir>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace emolens::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

// Prints progress on one refreshed stderr line when stderr is a terminal; Ctrl+C cancels.
class TerminalProgress final : public ProgressSink
{
public:
    TerminalProgress() : m_tty(isatty(fileno(stderr)) != 0)
    {
        std::signal(SIGINT, [](int) { g_interrupted = 1; });
    }
    ~TerminalProgress() override
    {
        if (m_tty && m_printed)
            std::fputs("\r\033[K", stderr);
        std::signal(SIGINT, SIG_DFL);
    }
    void setProgress(double fraction, const QString &message) override
    {
        if (!m_tty)
            return;
        const QString eta = EtaEstimator::describe(m_eta.remainingSeconds(fraction));
        std::fprintf(stderr, "\r\033[K[%3d%%] %s%s%s", int(fraction * 100 + 0.5),
                     qPrintable(message), eta.isEmpty() ? "" : "  ", qPrintable(eta));
        std::fflush(stderr);
        m_printed = true;
    }
    bool isCancelled() const override { return g_interrupted != 0; }

private:
    bool m_tty;
    bool m_printed = false;
    EtaEstimator m_eta;
};

void printJson(const QJsonObject &o)
{
    std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
}

Status openWorkspace(Database &db, bool mustExist)
{
    if (db.filePath().isEmpty())
        return Status::failure(QStringLiteral("--db FILE is required"));
    if (mustExist && WorkspaceLocation::isMissingFile(db.filePath()))
        return Status::failure(QStringLiteral("%1: no such workspace file").arg(db.filePath()));
    return db.open();
}

const QCommandLineOption kDbOption(QStringList{QStringLiteral("db")},
                                   QStringLiteral("The workspace: an SQLite file, or a "
                                                  "PostgreSQL database "
                                                  "(postgresql://USER@HOST/DATABASE)."),
                                   QStringLiteral("FILE"));
const QCommandLineOption kJsonOption(QStringList{QStringLiteral("json")},
                                     QStringLiteral("Print one JSON object instead of text."));

// Options the training commands (evaluate, train, pretrain) share.
const QCommandLineOption kFeaturesEncoderOption(
    QStringLiteral("encoder"),
    QStringLiteral("Whose cached features: fbank (default), or the name or folder of an "
                   "extracted model."),
    QStringLiteral("NAME"), QStringLiteral("fbank"));
const QCommandLineOption kSeedOption(QStringLiteral("seed"), QStringLiteral("Seed (default 1)."),
                                     QStringLiteral("N"), QStringLiteral("1"));
const QCommandLineOption kAcousticOption(
    QStringLiteral("acoustic"),
    QStringLiteral("F0, voicing and energy as extra frame inputs: on, off, or auto (on for "
                   "fbank; the default)."),
    QStringLiteral("on|off|auto"), QStringLiteral("auto"));
const QCommandLineOption kTrainingDeviceOption(QStringLiteral("device"),
                                               QStringLiteral("cpu (default), cuda or cuda:N."),
                                               QStringLiteral("DEVICE"), QStringLiteral("cpu"));
const QCommandLineOption kThreadsOption(QStringLiteral("threads"),
                                        QStringLiteral("CPU threads (default: one per core)."),
                                        QStringLiteral("N"), QStringLiteral("0"));

// --acoustic as a request's acousticInputs (-1 auto, 1 on, 0 off); false for another value.
bool acousticArgument(const QCommandLineParser &parser, int *out)
{
    const QString acoustic = parser.value(kAcousticOption);
    if (acoustic != u"on" && acoustic != u"off" && acoustic != u"auto")
        return false;
    *out = acoustic == u"auto" ? -1 : acoustic == u"on" ? 1 : 0;
    return true;
}

// A run that a crash left "running" is marked interrupted, before a command lists or resumes
// runs.
Status markInterruptedRuns(const QString &databasePath)
{
    Database db(databasePath);
    if (auto st = db.open(); !st)
        return st;
    return ModelRepository(db).markInterruptedRuns();
}

// --resume RUN of a command whose runs keep checkpoints (train, pretrain): the run id, refused
// together with any option the run takes from itself. 0 to go on, else the exit code.
int resumeArgument(const QCommandLineParser &parser,
                   std::initializer_list<const char *> ownSettings, qint64 *runId)
{
    if (!parser.isSet(QStringLiteral("resume")))
        return 0;
    bool ok = false;
    *runId = parser.value(QStringLiteral("resume")).toLongLong(&ok);
    if (!ok || *runId <= 0)
        return fail(QStringLiteral("--resume needs a run id (emolens-cli models lists the "
                                   "interrupted runs; a run's id is printed when it starts)"));
    for (const char *option : ownSettings)
        if (parser.isSet(QString::fromLatin1(option)))
            return fail(QStringLiteral("--resume continues a run with its own settings: "
                                       "leave out --%1")
                            .arg(QString::fromLatin1(option)));
    return 0;
}

// Runs a job whose runs are recorded (a crash's leftovers are marked interrupted first) to its
// end, with progress on the terminal. Null, with *result saying why, when it failed or was
// cancelled.
template <typename JobType, typename Request>
std::shared_ptr<JobType> runCheckpointedJob(const Request &request, JobResult *result)
{
    if (auto st = markInterruptedRuns(request.databasePath); !st) {
        *result = JobResult::failed(st.error());
        return nullptr;
    }
    TerminalProgress progress;
    auto job = std::make_shared<JobType>(request);
    *result = JobQueue::runToEnd(job, progress);
    if (result->outcome == JobOutcome::Failed || result->wasCancelled())
        return nullptr;
    return job;
}

} // namespace

QCommandLineOption workspaceOption()
{
    return kDbOption;
}

QCommandLineOption jsonOption()
{
    return kJsonOption;
}

int corpusArgument(const QCommandLineParser &parser, Database &db, qint64 *corpusId)
{
    *corpusId = 0;
    if (!parser.isSet(QStringLiteral("corpus")))
        return 0;
    const QString name = parser.value(QStringLiteral("corpus"));
    for (const CorpusRecord &c : CorpusRepository(db).corpora())
        if (c.name == name)
            *corpusId = c.id;
    return *corpusId != 0
               ? 0
               : fail(QStringLiteral("%1: no corpus named \"%2\"").arg(db.filePath(), name));
}

QCommandLineOption encoderOption()
{
    return {QStringLiteral("encoder"),
            QStringLiteral("fbank (built in, the default) or a Hugging Face model folder "
                           "(config.json + model.safetensors) of wav2vec 2.0, HuBERT or WavLM."),
            QStringLiteral("fbank|FOLDER"), QStringLiteral("fbank")};
}

QCommandLineOption deviceOption()
{
    return {QStringLiteral("device"),
            QStringLiteral("auto (a GPU when there is one), cpu, cuda or cuda:N."),
            QStringLiteral("DEVICE"), QStringLiteral("auto")};
}

QCommandLineOption precisionOption()
{
    return {QStringLiteral("precision"),
            QStringLiteral("The encoder's arithmetic: fp32 (the default) or bf16 (faster on CPUs "
                           "with AVX-512 BF16 and on GPUs; features within about 2% of fp32's, "
                           "cached apart from them; fbank is always fp32)."),
            QStringLiteral("fp32|bf16"), QStringLiteral("fp32")};
}

int fail(const QString &message)
{
    std::fprintf(stderr, "emolens-cli: %s\n", qPrintable(message));
    return 1;
}

int parse(QCommandLineParser &parser, const QStringList &arguments, const QString &description)
{
    parser.setApplicationDescription(description);
    parser.addHelpOption();
    // Qt's usage line names the executable's path; ours names the command, e.g.
    // "emolens-cli import", so help texts (and the man page made from them) carry no path.
    auto help = [&] {
        QString text = parser.helpText();
        const QString program = QCoreApplication::arguments().value(0);
        if (const qsizetype at = text.indexOf(program); at >= 0 && !program.isEmpty())
            text.replace(at, program.size(), arguments.value(0));
        return text;
    };
    if (!parser.parse(arguments)) {
        std::fprintf(stderr, "%s: %s\n\n%s", qPrintable(arguments.value(0)),
                     qPrintable(parser.errorText()), qPrintable(help()));
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(qPrintable(help()), stdout);
        return 0;
    }
    return -1;
}

int importCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    QStringList formatNames;
    for (const auto &f : corpusFormats())
        formatNames << f->name();
    parser.addOption(kDbOption);
    parser.addOption({QStringLiteral("format"),
                      QStringLiteral("Corpus layout (default: detected): %1.")
                          .arg(formatNames.join(QStringLiteral(", "))),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("mapping"),
                      QStringLiteral("Label mapping, e.g. 4class or original (default: the "
                                     "format's first)."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("name"),
                      QStringLiteral("Corpus name in the workspace (default: the folder name)."),
                      QStringLiteral("NAME")});
    parser.addOption(kJsonOption);
    parser.addPositionalArgument(QStringLiteral("PATH"), QStringLiteral("The corpus folder."));
    if (int code = parse(parser, arguments,
                         QStringLiteral("Import a corpus folder into a workspace. Files that "
                                        "cannot be read are reported and skipped; the rest is "
                                        "imported in one transaction. Re-importing adds nothing "
                                        "twice."));
        code >= 0)
        return code;
    if (parser.positionalArguments().size() != 1)
        return fail(QStringLiteral("import needs exactly one corpus folder (see --help)"));

    ImportRequest request;
    request.rootPath = parser.positionalArguments().first();
    request.databasePath = parser.value(kDbOption);
    request.format = parser.value(QStringLiteral("format"));
    request.labelMapping = parser.value(QStringLiteral("mapping"));
    request.corpusName = parser.value(QStringLiteral("name"));
    if (request.databasePath.isEmpty())
        return fail(QStringLiteral("--db FILE is required"));

    TerminalProgress progress;
    // Through a JobQueue, like the window's jobs: same barrier, same cancel.
    const auto job = std::make_shared<ImportJob>(request);
    const JobResult result = JobQueue::runToEnd(job, progress);
    if (result.outcome == JobOutcome::Failed)
        return fail(result.summary);
    const ImportReport &report = job->report();
    if (result.wasCancelled())
        return fail(QStringLiteral("import cancelled; the workspace is unchanged"));

    if (parser.isSet(kJsonOption)) {
        QJsonArray skipped;
        for (const ImportProblem &p : report.skipped) {
            QJsonObject o{{QStringLiteral("path"), p.path}, {QStringLiteral("reason"), p.reason}};
            if (p.line > 0)
                o.insert(QStringLiteral("line"), p.line);
            skipped.append(o);
        }
        QJsonObject labels;
        for (auto it = report.labelCounts.begin(); it != report.labelCounts.end(); ++it)
            labels.insert(it.key(), it.value());
        printJson({{QStringLiteral("corpus"), report.corpusName},
                   {QStringLiteral("format"), report.format},
                   {QStringLiteral("imported"), report.imported()},
                   {QStringLiteral("added"), report.outcome.added},
                   {QStringLiteral("updated"), report.outcome.updated},
                   {QStringLiteral("moved"), report.outcome.moved},
                   {QStringLiteral("unchanged"), report.outcome.unchanged},
                   {QStringLiteral("skipped"), skipped},
                   {QStringLiteral("speakers"), report.speakers},
                   {QStringLiteral("labels"), labels},
                   {QStringLiteral("seconds"), report.seconds}});
        return 0;
    }
    std::printf("Imported %d utterances of %s (%s) in %.1f s: %d new, %d updated, %d moved, "
                "%d unchanged; %d speakers.\n",
                report.imported(), qPrintable(report.corpusName), qPrintable(report.format),
                report.seconds, report.outcome.added, report.outcome.updated, report.outcome.moved,
                report.outcome.unchanged, report.speakers);
    if (!report.labelCounts.isEmpty()) {
        std::printf("Labels:");
        for (auto it = report.labelCounts.begin(); it != report.labelCounts.end(); ++it)
            std::printf(" %s %d", qPrintable(it.key()), it.value());
        std::printf("\n");
    }
    if (!report.skipped.isEmpty()) {
        std::printf("Skipped %d:\n", int(report.skipped.size()));
        for (const ImportProblem &p : report.skipped)
            std::printf("  %s%s: %s\n", qPrintable(p.path),
                        p.line > 0 ? qPrintable(QStringLiteral(":%1").arg(p.line)) : "",
                        qPrintable(p.reason));
    }
    return 0;
}

int exportCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption(
        {QStringLiteral("format"),
         QStringLiteral("One of: %1.").arg(CorpusExporter::formats().join(QStringLiteral(", "))),
         QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("out"),
                      QStringLiteral("Output file (csv, jsonl) or folder (textgrid, eaf, "
                                     "audacity: one file per utterance)."),
                      QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("corpus"), QStringLiteral("Only this corpus (default: all)."),
                      QStringLiteral("NAME")});
    if (int code = parse(parser, arguments,
                         QStringLiteral("Export utterances with their current labels."));
        code >= 0)
        return code;
    Database db(parser.value(kDbOption));
    if (auto st = openWorkspace(db, true); !st)
        return fail(st.error());
    ExportRequest request;
    request.format = parser.value(QStringLiteral("format")).toLower();
    request.outPath = parser.value(QStringLiteral("out"));
    if (request.format.isEmpty() || request.outPath.isEmpty())
        return fail(QStringLiteral("export needs --format and --out (see --help)"));
    if (int code = corpusArgument(parser, db, &request.corpusId); code != 0)
        return code;
    // The same job File > Export Labels runs, through a queue of its own.
    TerminalProgress progress;
    const auto job = std::make_shared<ExportJob>(ExportJobRequest{db.filePath(), request});
    if (const JobResult result = JobQueue::runToEnd(job, progress); !result.ok())
        return fail(result.summary);
    std::printf("Exported %d utterances as %s to %s\n", job->report().utterances,
                qPrintable(request.format), qPrintable(request.outPath));
    return 0;
}

int infoCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("Show the corpora of a workspace with utterance and label "
                                        "counts, its annotators, and the encoders features were "
                                        "extracted with."));
        code >= 0)
        return code;
    Database db(parser.value(kDbOption));
    if (auto st = openWorkspace(db, true); !st)
        return fail(st.error());
    CorpusRepository corpora(db);
    LabelRepository labels(db);

    QJsonArray corpusArray;
    QList<CorpusRecord> corpusList;
    if (auto st = corpora.corpora(&corpusList); !st)
        return fail(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
    for (const CorpusRecord &c : std::as_const(corpusList)) {
        QJsonObject counts;
        const auto perLabel = labels.labelCounts(c.id);
        int labeled = 0;
        for (auto it = perLabel.begin(); it != perLabel.end(); ++it) {
            counts.insert(it.key(), it.value());
            labeled += it.value();
        }
        corpusArray.append(
            QJsonObject{{QStringLiteral("name"), c.name},
                        {QStringLiteral("format"), c.format},
                        {QStringLiteral("mapping"), c.labelMapping},
                        {QStringLiteral("root"), c.rootPath},
                        {QStringLiteral("utterances"), corpora.utteranceCount(c.id)},
                        {QStringLiteral("speakers"), int(corpora.speakers(c.id).size())},
                        {QStringLiteral("labeled"), labeled},
                        {QStringLiteral("labels"), counts}});
    }
    const QStringList annotators = labels.annotators();
    FeatureRepository features(db);
    QJsonArray encoderArray;
    for (const EncoderRecord &e : features.encoders())
        encoderArray.append(QJsonObject{
            {QStringLiteral("name"), e.name},
            {QStringLiteral("type"), e.modelType},
            {QStringLiteral("identity"), e.identity},
            {QStringLiteral("source"), e.source},
            {QStringLiteral("layers"), e.layerCount},
            {QStringLiteral("hidden_size"), e.hiddenSize},
            {QStringLiteral("extracted"), int(features.utterancesWithEmbedding(e.id).size())}});
    if (parser.isSet(kJsonOption)) {
        printJson({{QStringLiteral("workspace"), db.filePath()},
                   {QStringLiteral("schema_version"), db.schemaVersion()},
                   {QStringLiteral("utterances"), corpora.utteranceCount()},
                   {QStringLiteral("corpora"), corpusArray},
                   {QStringLiteral("annotators"), QJsonArray::fromStringList(annotators)},
                   {QStringLiteral("encoders"), encoderArray}});
        return 0;
    }
    std::printf("Workspace %s (schema %d): %d utterances in %d corpora\n",
                qPrintable(db.filePath()), db.schemaVersion(), corpora.utteranceCount(),
                int(corpusArray.size()));
    for (const QJsonValue &v : corpusArray) {
        const QJsonObject o = v.toObject();
        std::printf("  %s [%s, %s]: %d utterances, %d speakers, %d labeled\n",
                    qPrintable(o[QStringLiteral("name")].toString()),
                    qPrintable(o[QStringLiteral("format")].toString()),
                    qPrintable(o[QStringLiteral("mapping")].toString()),
                    o[QStringLiteral("utterances")].toInt(), o[QStringLiteral("speakers")].toInt(),
                    o[QStringLiteral("labeled")].toInt());
        const QJsonObject counts = o[QStringLiteral("labels")].toObject();
        for (auto it = counts.begin(); it != counts.end(); ++it)
            std::printf("      %-12s %d\n", qPrintable(it.key()), it.value().toInt());
    }
    std::printf("Annotators: %s\n",
                annotators.isEmpty() ? "none" : qPrintable(annotators.join(QStringLiteral(", "))));
    for (const QJsonValue &v : encoderArray) {
        const QJsonObject o = v.toObject();
        std::printf("Features of %s (%s, %d x %d): %d of %d utterances extracted\n",
                    qPrintable(o[QStringLiteral("name")].toString()),
                    qPrintable(o[QStringLiteral("type")].toString()),
                    o[QStringLiteral("layers")].toInt(), o[QStringLiteral("hidden_size")].toInt(),
                    o[QStringLiteral("extracted")].toInt(), corpora.utteranceCount());
    }
    return 0;
}

int demoCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("out"), QStringLiteral("Folder for the demo corpus."),
                      QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("speakers"),
                      QStringLiteral("Voices, 1 to 12 (default 6: the demo's)."),
                      QStringLiteral("N"), QStringLiteral("6")});
    parser.addOption({QStringLiteral("sentences"),
                      QStringLiteral("Sentences per emotion, 1 to 24 (default 4)."),
                      QStringLiteral("N"), QStringLiteral("4")});
    parser.addOption({QStringLiteral("renditions"),
                      QStringLiteral("Times each sentence is said, pitch and rate varied, 1 to 8 "
                                     "(default 1)."),
                      QStringLiteral("N"), QStringLiteral("1")});
    parser.addOption({QStringLiteral("imbalanced"),
                      QStringLiteral("As real corpora are: every neutral clip, 60 % of the happy "
                                     "and sad ones, 20 % of the angry ones.")});
    if (int code = parse(parser, arguments,
                         QStringLiteral("Generate the demo corpus (synthetic speech in four "
                                        "emotions, made with espeak-ng and sox) as a generic "
                                        "corpus with a manifest.csv; with --speakers, "
                                        "--sentences and --renditions a larger one for "
                                        "experiments (12 x 24 x 2: 2,304 clips)."));
        code >= 0)
        return code;
    const QString out = parser.value(QStringLiteral("out"));
    if (out.isEmpty())
        return fail(QStringLiteral("demo needs --out DIR (see --help)"));
    DemoCorpusOptions options;
    bool ok[3] = {};
    options.speakers = parser.value(QStringLiteral("speakers")).toInt(&ok[0]);
    options.sentences = parser.value(QStringLiteral("sentences")).toInt(&ok[1]);
    options.renditions = parser.value(QStringLiteral("renditions")).toInt(&ok[2]);
    options.imbalanced = parser.isSet(QStringLiteral("imbalanced"));
    if (!ok[0] || !ok[1] || !ok[2])
        return fail(QStringLiteral("--speakers, --sentences and --renditions need whole numbers"));
    TerminalProgress progress;
    if (auto st = DemoCorpus::generate(out, options, progress); !st)
        return fail(st.error());
    std::printf("Demo corpus in %s\n", qPrintable(out));
    return 0;
}

int extractCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption(encoderOption());
    parser.addOption(deviceOption());
    parser.addOption(precisionOption());
    parser.addOption({QStringLiteral("batch-seconds"),
                      QStringLiteral("Padded audio per batch, in seconds (default 160). Smaller "
                                     "uses less memory; a batch that does not fit is split."),
                      QStringLiteral("N"), QStringLiteral("160")});
    parser.addOption({QStringLiteral("cache"),
                      QStringLiteral("The feature cache folder (default: NAME.features beside "
                                     "the workspace NAME.emolens)."),
                      QStringLiteral("DIR")});
    parser.addOption(kThreadsOption);
    parser.addOption({QStringLiteral("utterance"),
                      QStringLiteral("Only this utterance id (repeatable; default: all)."),
                      QStringLiteral("ID")});
    parser.addOption({QStringLiteral("speed-perturb"),
                      QStringLiteral("Also cache each clip's copies at speeds 0.8 and 1.2 (seed "
                                     "003's speed perturbation, for train/evaluate "
                                     "--speed-perturb; training only, so the workspace gets no "
                                     "embedding of them).")});
    parser.addOption({QStringLiteral("tapt-inputs"),
                      QStringLiteral("Also cache each clip's projected CNN features, the input "
                                     "of TAPT proper (pretrain --mode paper); wav2vec 2.0, "
                                     "HuBERT and WavLM only. Clips whose features are cached "
                                     "already run again for this input alone.")});
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("Run a speech encoder over the utterances of a workspace: "
                                        "every layer of every frame goes to the feature cache "
                                        "(float16), each layer's mean per utterance to the "
                                        "workspace. Clips already in the cache are skipped, so "
                                        "an interrupted run continues where it stopped."));
        code >= 0)
        return code;

    ExtractFeaturesRequest request;
    request.databasePath = parser.value(kDbOption);
    request.encoder = parser.value(QStringLiteral("encoder"));
    request.device = parser.value(QStringLiteral("device"));
    request.precision = parser.value(QStringLiteral("precision"));
    request.cacheDirectory = parser.value(QStringLiteral("cache"));
    bool ok = false;
    request.batchSeconds = parser.value(QStringLiteral("batch-seconds")).toDouble(&ok);
    if (!ok || request.batchSeconds <= 0)
        return fail(QStringLiteral("--batch-seconds needs a positive number of seconds"));
    request.threadCount = parser.value(QStringLiteral("threads")).toInt(&ok);
    if (!ok || request.threadCount < 0)
        return fail(QStringLiteral("--threads needs a whole number (0: one per core)"));
    for (const QString &id : parser.values(QStringLiteral("utterance"))) {
        const qint64 value = id.toLongLong(&ok);
        if (!ok || value <= 0)
            return fail(QStringLiteral("--utterance needs an utterance id, not \"%1\"").arg(id));
        request.utteranceIds.append(value);
    }
    if (request.databasePath.isEmpty())
        return fail(QStringLiteral("--db FILE is required"));
    if (parser.isSet(QStringLiteral("speed-perturb")))
        request.speedRates = speedPerturbationRates();
    request.taptInputs = parser.isSet(QStringLiteral("tapt-inputs"));

    TerminalProgress progress;
    const auto job = std::make_shared<ExtractFeaturesJob>(request);
    if (const JobResult result = JobQueue::runToEnd(job, progress);
        result.outcome == JobOutcome::Failed)
        return fail(result.summary);
    const ExtractFeaturesReport &report = job->report();

    const double realTime =
        report.encodeSeconds > 0 ? report.audioSeconds / report.encodeSeconds : 0;
    if (parser.isSet(kJsonOption)) {
        QJsonArray failed;
        for (const ExtractionProblem &p : report.failed)
            failed.append(QJsonObject{{QStringLiteral("utterance"), p.utteranceId},
                                      {QStringLiteral("path"), p.path},
                                      {QStringLiteral("reason"), p.reason}});
        printJson({{QStringLiteral("encoder"), report.encoderName},
                   {QStringLiteral("identity"), report.encoderIdentity},
                   {QStringLiteral("device"), report.device},
                   {QStringLiteral("cache"), report.cacheDirectory},
                   {QStringLiteral("requested"), report.requested},
                   {QStringLiteral("extracted"), report.extracted},
                   {QStringLiteral("speed_copies"), report.perturbed},
                   {QStringLiteral("tapt_inputs"), report.taptInputs},
                   {QStringLiteral("already_done"), report.alreadyDone},
                   {QStringLiteral("failed"), failed},
                   {QStringLiteral("audio_seconds"), report.audioSeconds},
                   {QStringLiteral("encode_seconds"), report.encodeSeconds},
                   {QStringLiteral("seconds"), report.seconds},
                   {QStringLiteral("batches"), report.batches},
                   {QStringLiteral("memory_retries"), report.memoryRetries},
                   {QStringLiteral("cache_bytes"), report.cacheBytes},
                   {QStringLiteral("cancelled"), report.cancelled}});
    } else {
        std::printf("%s %s on %s: %d of %d utterances extracted (%.1f s of audio, %.1fx real "
                    "time in the encoder), %d already done, %d failed; %d batches in %.1f s.\n",
                    report.cancelled ? "Cancelled" : "Extracted", qPrintable(report.encoderName),
                    qPrintable(report.device), report.extracted, report.requested,
                    report.audioSeconds, realTime, report.alreadyDone, int(report.failed.size()),
                    report.batches, report.seconds);
        if (report.perturbed > 0)
            std::printf("Speed-perturbed copies cached: %d (at 0.8 and 1.2, for training)\n",
                        report.perturbed);
        if (report.taptInputs > 0)
            std::printf("TAPT inputs cached: %d (for pretrain --mode paper)\n", report.taptInputs);
        std::printf("Feature cache: %s (%.1f MB for this encoder)\n",
                    qPrintable(report.cacheDirectory), report.cacheBytes / 1e6);
        for (const ExtractionProblem &p : report.failed)
            std::printf("  failed: %s: %s\n", qPrintable(p.path), qPrintable(p.reason));
    }
    // An interrupted run is not an error for the data (what finished is stored) but a script
    // must know it did not finish.
    return report.cancelled ? 130 : 0;
}

namespace {

// The workspace a training command names: 0 when it exists, else the exit code after saying
// why.
int requireWorkspaceFile(const QString &path)
{
    if (path.isEmpty())
        return fail(QStringLiteral("--db FILE is required"));
    if (WorkspaceLocation::isMissingFile(path))
        return fail(QStringLiteral("%1: no such workspace file").arg(path));
    return 0;
}

// --recipe: "default" is the default recipe, which the jobs take as empty.
QString recipeArgument(const QCommandLineParser &parser)
{
    const QString recipe = parser.value(QStringLiteral("recipe"));
    return recipe == QLatin1String("default") ? QString() : recipe;
}

QJsonObject metricsJson(const ClassificationMetrics &m)
{
    QJsonArray confusion;
    for (const QList<int> &row : m.confusion) {
        QJsonArray r;
        for (int v : row)
            r.append(v);
        confusion.append(r);
    }
    QJsonObject perClass;
    for (const ClassScores &c : m.perClass)
        perClass.insert(c.label, QJsonObject{{QStringLiteral("precision"), c.precision},
                                             {QStringLiteral("recall"), c.recall},
                                             {QStringLiteral("f1"), c.f1},
                                             {QStringLiteral("support"), c.support}});
    return {{QStringLiteral("n"), m.count},
            {QStringLiteral("ua"), m.ua},
            {QStringLiteral("wa"), m.wa},
            {QStringLiteral("f1"), m.macroF1},
            {QStringLiteral("labels"), QJsonArray::fromStringList(m.labels)},
            {QStringLiteral("confusion"), confusion},
            {QStringLiteral("per_class"), perClass}};
}

// The options of the seed recipes' stages, shared by train and evaluate.
void addRecipeStageOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("pretrain-epochs"),
                      QStringLiteral("Pre-training epochs of a recipe with that stage "
                                     "(adapter-local-attributes; 0 skips it; default: the "
                                     "recipe's)."),
                      QStringLiteral("N"), QStringLiteral("-1")});
    parser.addOption({QStringLiteral("gmp-epochs"),
                      QStringLiteral("Epochs of each of gmp-atl's steps 1 (emotion + gender) and "
                                     "3 (emotion + frame pseudo-labels); default: the recipe's "
                                     "20."),
                      QStringLiteral("N"), QStringLiteral("-1")});
    parser.addOption({QStringLiteral("auxiliary-epochs"),
                      QStringLiteral("Epochs of ari-coattention's stage 1 (the auxiliary tasks "
                                     "alone; 0 skips it); default: the recipe's 20."),
                      QStringLiteral("N"), QStringLiteral("-1")});
    parser.addOption({QStringLiteral("auxiliary-tasks"),
                      QStringLiteral("ari-coattention's auxiliary tasks, of gender, speaker, "
                                     "style and characters (comma-separated); default: every "
                                     "one the corpus has the metadata for."),
                      QStringLiteral("LIST")});
    parser.addOption({QStringLiteral("freeze-ari"),
                      QStringLiteral("ari-coattention: keep ARI's layer weights frozen in stage 1 "
                                     "(the paper's remedy when the corpus allows few auxiliary "
                                     "tasks; off by default).")});
    parser.addOption({QStringLiteral("mode"),
                      QStringLiteral("one-click (the default: the encoder stays frozen, the "
                                     "adapter trains on the feature cache) or paper (gmp-atl and "
                                     "ari-coattention also fine-tune the encoder's Transformer "
                                     "layers, as their papers do; needs features of a wav2vec "
                                     "2.0, HuBERT or WavLM folder; meant for a GPU)."),
                      QStringLiteral("MODE"), QStringLiteral("one-click")});
    parser.addOption({QStringLiteral("speed-perturb"),
                      QStringLiteral("ari-coattention: seed 003's speed perturbation - each "
                                     "training batch reads the clips at 0.8, 1.0 or 1.2 times "
                                     "their speed (the copies come from extract "
                                     "--speed-perturb); off by default.")});
    parser.addOption({QStringLiteral("encoder-layers"),
                      QStringLiteral("Paper mode: fine-tune the encoder's top N Transformer "
                                     "layers only (default: every layer, as the papers do)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("backbone"),
                      QStringLiteral("The backbone (emolens-cli pretrain) to start from: "
                                     "newest (the default: the newest that fits - an adapter "
                                     "TAPT backbone for adapter-local-attributes, an encoder "
                                     "adapted by TAPT proper for a paper-mode run that trains "
                                     "every layer), none, or its id."),
                      QStringLiteral("newest|none|ID"), QStringLiteral("newest")});
    parser.addOption({QStringLiteral("label-rule"),
                      QStringLiteral("Which label a clip several people labeled trains on: "
                                     "newest (the default, the label the views show), majority "
                                     "(the category most people give it), reviewer:NAME (that "
                                     "reviewer's where they gave one, else the majority), or soft "
                                     "(all labels as soft targets: the share of the votes per "
                                     "category)."),
                      QStringLiteral("RULE"), QStringLiteral("newest")});
}

// --mode and --encoder-layers; false (with *error) when they are not a mode and a count.
bool modeArguments(const QCommandLineParser &parser, QString *mode, int *encoderLayers,
                   QString *error)
{
    *mode = parser.value(QStringLiteral("mode"));
    bool ok = false;
    *encoderLayers = parser.value(QStringLiteral("encoder-layers")).toInt(&ok);
    if (*mode != u"one-click" && *mode != u"paper")
        *error = QStringLiteral("--mode is one-click or paper, not \"%1\"").arg(*mode);
    else if (!ok || *encoderLayers < 0)
        *error = QStringLiteral("--encoder-layers needs a whole number");
    else if (*encoderLayers > 0 && *mode != u"paper")
        *error = QStringLiteral("--encoder-layers is paper mode's (add --mode paper)");
    else
        return true;
    return false;
}

// --backbone as PretrainedBackbones' choice; false when it is none of newest, none or an id.
bool backboneArgument(const QCommandLineParser &parser, qint64 *out)
{
    const QString text = parser.value(QStringLiteral("backbone"));
    if (text == u"newest") {
        *out = kNewestFittingBackbone;
        return true;
    }
    if (text == u"none") {
        *out = kNoBackbone;
        return true;
    }
    bool ok = false;
    *out = text.toLongLong(&ok);
    return ok && *out > 0;
}

} // namespace

int evaluateCommand(const QStringList &arguments)
{
    QStringList recipeNames;
    QString recipeText;
    for (const RecipeInfo &r : recipes()) {
        recipeNames << r.name;
        recipeText += QStringLiteral("\n  %1: %2.\n    From: %3.").arg(r.name, r.summary, r.origin);
    }
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption({QStringLiteral("recipe"),
                      QStringLiteral("One of: %1 (default: wap-sap up to 20 minutes of labeled "
                                     "audio on the CPU, baseline above).")
                          .arg(recipeNames.join(QStringLiteral(", "))),
                      QStringLiteral("NAME"), QStringLiteral("default")});
    parser.addOption(kFeaturesEncoderOption);
    parser.addOption({QStringLiteral("folds"),
                      QStringLiteral("speaker (k speaker-disjoint folds, the default), session "
                                     "(leave one session out) or official (the corpus's own "
                                     "partition, e.g. MSP-Podcast's)."),
                      QStringLiteral("KIND"), QStringLiteral("speaker")});
    parser.addOption({QStringLiteral("k"), QStringLiteral("Speaker folds (default 5)."),
                      QStringLiteral("N"), QStringLiteral("5")});
    parser.addOption(kSeedOption);
    parser.addOption({QStringLiteral("epochs"),
                      QStringLiteral("Epochs at most (default: the recipe's)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    addRecipeStageOptions(parser);
    parser.addOption(kAcousticOption);
    parser.addOption(kTrainingDeviceOption);
    parser.addOption(kThreadsOption);
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("Cross-validate a recipe speaker-independently on the "
                                        "workspace's current labels and cached features. Each "
                                        "fold's early stopping uses validation speakers drawn "
                                        "from its training speakers; the test fold is scored "
                                        "once. Nothing is stored.\n\nRecipes:") +
                             recipeText);
        code >= 0)
        return code;
    EvaluateRequest request;
    request.databasePath = parser.value(kDbOption);
    if (int code = requireWorkspaceFile(request.databasePath); code != 0)
        return code;
    request.recipe = recipeArgument(parser);
    request.encoder = parser.value(QStringLiteral("encoder"));
    request.folds = parser.value(QStringLiteral("folds"));
    request.device = parser.value(QStringLiteral("device"));
    bool ok = true;
    auto number = [&parser, &ok](const char *name, int minimum) {
        bool good = false;
        const int value = parser.value(QLatin1String(name)).toInt(&good);
        ok = ok && good && value >= minimum;
        return value;
    };
    request.k = number("k", 2);
    request.seed = quint32(number("seed", 0));
    request.epochs = number("epochs", 0);
    request.pretrainEpochs = number("pretrain-epochs", -1);
    request.gmpEpochs = number("gmp-epochs", -1);
    request.auxiliaryEpochs = number("auxiliary-epochs", -1);
    request.auxiliaryTasks =
        parser.value(QStringLiteral("auxiliary-tasks")).split(QLatin1Char(','), Qt::SkipEmptyParts);
    request.freezeAri = parser.isSet(QStringLiteral("freeze-ari"));
    if (QString why; !modeArguments(parser, &request.mode, &request.encoderLayers, &why))
        return fail(why);
    request.speedPerturbation = parser.isSet(QStringLiteral("speed-perturb"));
    request.threads = number("threads", 0);
    if (!ok)
        return fail(QStringLiteral("--k, --seed, --epochs and --threads need whole numbers (k at "
                                   "least 2)"));
    if (!acousticArgument(parser, &request.acousticInputs))
        return fail(QStringLiteral("--acoustic is on, off or auto, not \"%1\"")
                        .arg(parser.value(QStringLiteral("acoustic"))));
    if (!backboneArgument(parser, &request.backbone))
        return fail(QStringLiteral("--backbone is newest, none or a backbone's id, not \"%1\"")
                        .arg(parser.value(QStringLiteral("backbone"))));
    if (auto st = LabelRule::parse(parser.value(QStringLiteral("label-rule")), &request.labelRule);
        !st)
        return fail(QStringLiteral("--label-rule: %1").arg(st.error()));

    TerminalProgress progress;
    const auto job = std::make_shared<EvaluateJob>(request);
    const JobResult result = JobQueue::runToEnd(job, progress);
    if (result.outcome == JobOutcome::Failed)
        return fail(result.summary);
    if (result.wasCancelled())
        return fail(result.summary);
    const CrossValidationReport &report = job->report();
    if (parser.isSet(kJsonOption)) {
        QJsonObject out = metricsJson(report.pooled);
        out.insert(QStringLiteral("run"), job->runId());
        QJsonArray folds;
        for (const FoldResult &f : report.folds) {
            QJsonObject fold = metricsJson(f.metrics);
            fold.insert(QStringLiteral("fold"), f.fold);
            fold.insert(QStringLiteral("test_speakers"),
                        QJsonArray::fromStringList(f.testSpeakers));
            fold.insert(QStringLiteral("validation_speakers"),
                        QJsonArray::fromStringList(f.validationSpeakers));
            fold.insert(QStringLiteral("train_clips"), f.trainClips);
            fold.insert(QStringLiteral("best_epoch"), f.bestEpoch);
            fold.insert(QStringLiteral("epochs"), int(f.history.size()));
            fold.insert(QStringLiteral("seconds"), f.seconds);
            if (!f.pretrainHistory.empty()) {
                fold.insert(QStringLiteral("pretrain"), PretrainJob::epochsJson(f.pretrainHistory));
            }
            if (!f.gmpAtlHistory.empty()) {
                QJsonArray steps;
                for (const GmpAtlRecord &g : f.gmpAtlHistory)
                    steps.append(
                        QJsonObject{{QStringLiteral("step"), g.step},
                                    {QStringLiteral("epoch"), g.epoch},
                                    {QStringLiteral("emotion_loss"), g.emotionLoss},
                                    {QStringLiteral("auxiliary_loss"), g.auxiliaryLoss},
                                    {QStringLiteral("auxiliary_accuracy"), g.auxiliaryAccuracy},
                                    {QStringLiteral("seconds"), g.seconds}});
                fold.insert(QStringLiteral("gmp_atl"), steps);
            }
            if (!f.ariHistory.empty()) {
                QJsonArray stage;
                for (const AriRecord &a : f.ariHistory)
                    stage.append(
                        QJsonObject{{QStringLiteral("epoch"), a.epoch},
                                    {QStringLiteral("gender_loss"), a.genderLoss},
                                    {QStringLiteral("gender_accuracy"), a.genderAccuracy},
                                    {QStringLiteral("speaker_loss"), a.speakerLoss},
                                    {QStringLiteral("speaker_accuracy"), a.speakerAccuracy},
                                    {QStringLiteral("style_loss"), a.styleLoss},
                                    {QStringLiteral("style_accuracy"), a.styleAccuracy},
                                    {QStringLiteral("ctc_loss"), a.characterLoss},
                                    {QStringLiteral("seconds"), a.seconds}});
                fold.insert(QStringLiteral("ari_stage1"), stage);
            }
            folds.append(fold);
        }
        out.insert(QStringLiteral("folds"), folds);
        // The papers report either the pooled figure (above) or the mean of the folds' figures.
        double ua = 0, wa = 0, f1 = 0;
        for (const FoldResult &f : report.folds) {
            ua += f.metrics.ua / double(report.folds.size());
            wa += f.metrics.wa / double(report.folds.size());
            f1 += f.metrics.macroF1 / double(report.folds.size());
        }
        out.insert(QStringLiteral("mean_over_folds"), QJsonObject{{QStringLiteral("ua"), ua},
                                                                  {QStringLiteral("wa"), wa},
                                                                  {QStringLiteral("f1"), f1}});
        out.insert(QStringLiteral("recipe"), report.recipe);
        out.insert(QStringLiteral("settings"), report.settings);
        out.insert(QStringLiteral("notes"), QJsonArray::fromStringList(report.notes));
        out.insert(QStringLiteral("mode"), request.mode);
        out.insert(QStringLiteral("encoder"), job->encoderName());
        out.insert(QStringLiteral("backbone"), job->backboneId());
        out.insert(QStringLiteral("acoustic_inputs"), job->acousticInputs());
        out.insert(QStringLiteral("protocol"), request.folds);
        out.insert(QStringLiteral("seed"), qint64(request.seed));
        out.insert(QStringLiteral("clips_without_features"), job->missingFeatures());
        out.insert(QStringLiteral("clips_without_category"), job->withoutCategory());
        out.insert(QStringLiteral("seconds"), report.seconds);
        printJson(out);
        return 0;
    }
    std::printf("%s\n", qPrintable(result.summary));
    if (report.folds.size() > 1) {
        double ua = 0, wa = 0, f1 = 0;
        for (const FoldResult &f : report.folds) {
            ua += f.metrics.ua / double(report.folds.size());
            wa += f.metrics.wa / double(report.folds.size());
            f1 += f.metrics.macroF1 / double(report.folds.size());
        }
        std::printf("Mean over folds: UA %.3f, WA %.3f, F1 %.3f (the line above is pooled)\n", ua,
                    wa, f1);
    }
    std::printf("Settings: %s\n", qPrintable(report.settings));
    for (const QString &note : report.notes)
        std::printf("Note: %s\n", qPrintable(note));
    for (const FoldResult &f : report.folds)
        std::printf("  fold %d (%s): %d test clips, UA %.3f, WA %.3f, F1 %.3f, best epoch %d of "
                    "%d, %.0f s\n",
                    f.fold, qPrintable(f.testSpeakers.join(QStringLiteral(", "))), f.metrics.count,
                    f.metrics.ua, f.metrics.wa, f.metrics.macroF1, f.bestEpoch,
                    int(f.history.size()), f.seconds);
    if (job->missingFeatures() > 0)
        std::printf("%d clips have no cached features and were left out (run extract).\n",
                    job->missingFeatures());
    return 0;
}

int trainCommand(const QStringList &arguments)
{
    QStringList recipeNames;
    for (const RecipeInfo &r : recipes())
        recipeNames << r.name;
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption({QStringLiteral("recipe"),
                      QStringLiteral("One of: %1 (default: wap-sap up to 20 minutes of labeled "
                                     "audio on the CPU, baseline above).")
                          .arg(recipeNames.join(QStringLiteral(", "))),
                      QStringLiteral("NAME"), QStringLiteral("default")});
    parser.addOption(kFeaturesEncoderOption);
    parser.addOption({QStringLiteral("epochs"),
                      QStringLiteral("Epochs at most (default: the recipe's)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption(kSeedOption);
    parser.addOption(kTrainingDeviceOption);
    addRecipeStageOptions(parser);
    parser.addOption({QStringLiteral("resume"),
                      QStringLiteral("Continue the interrupted run RUN from its last epoch, with "
                                     "its own recipe, settings, seed and encoder."),
                      QStringLiteral("RUN")});
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("Train a model on the workspace's current labels and "
                                        "cached features. Validation speakers (about a fifth) "
                                        "choose the epoch; the model predicts every clip and "
                                        "becomes the active one when it scores at least as well "
                                        "as the active one on the same speakers."));
        code >= 0)
        return code;
    TrainRequest request;
    request.databasePath = parser.value(kDbOption);
    if (int code = requireWorkspaceFile(request.databasePath); code != 0)
        return code;
    request.recipe = recipeArgument(parser);
    request.encoder = parser.value(QStringLiteral("encoder"));
    request.device = parser.value(QStringLiteral("device"));
    bool okEpochs = false, okSeed = false;
    request.epochs = parser.value(QStringLiteral("epochs")).toInt(&okEpochs);
    request.seed = parser.value(QStringLiteral("seed")).toUInt(&okSeed);
    bool okPretrain = false;
    request.pretrainEpochs = parser.value(QStringLiteral("pretrain-epochs")).toInt(&okPretrain);
    bool okGmp = false, okAuxiliary = false;
    request.gmpEpochs = parser.value(QStringLiteral("gmp-epochs")).toInt(&okGmp);
    request.auxiliaryEpochs = parser.value(QStringLiteral("auxiliary-epochs")).toInt(&okAuxiliary);
    request.auxiliaryTasks =
        parser.value(QStringLiteral("auxiliary-tasks")).split(QLatin1Char(','), Qt::SkipEmptyParts);
    request.freezeAri = parser.isSet(QStringLiteral("freeze-ari"));
    if (QString why; !modeArguments(parser, &request.mode, &request.encoderLayers, &why))
        return fail(why);
    request.speedPerturbation = parser.isSet(QStringLiteral("speed-perturb"));
    if (!okEpochs || !okSeed || !okPretrain || !okGmp || !okAuxiliary || request.epochs < 0 ||
        request.pretrainEpochs < -1 || request.gmpEpochs < -1 || request.auxiliaryEpochs < -1)
        return fail(QStringLiteral("--epochs, --pretrain-epochs, --gmp-epochs, "
                                   "--auxiliary-epochs and --seed need whole numbers"));
    if (!backboneArgument(parser, &request.backbone))
        return fail(QStringLiteral("--backbone is newest, none or a backbone's id, not \"%1\"")
                        .arg(parser.value(QStringLiteral("backbone"))));
    if (auto st = LabelRule::parse(parser.value(QStringLiteral("label-rule")), &request.labelRule);
        !st)
        return fail(QStringLiteral("--label-rule: %1").arg(st.error()));
    if (int code = resumeArgument(parser,
                                  {"recipe", "encoder", "epochs", "pretrain-epochs", "gmp-epochs",
                                   "auxiliary-epochs", "auxiliary-tasks", "freeze-ari", "backbone",
                                   "mode", "encoder-layers", "speed-perturb", "seed", "device"},
                                  &request.resumeRunId);
        code != 0)
        return code;
    JobResult result;
    const auto job = runCheckpointedJob<TrainJob>(request, &result);
    if (!job)
        return fail(result.summary);
    const TrainReport &report = job->report();
    if (parser.isSet(kJsonOption)) {
        QJsonArray curve;
        for (double ua : report.validationUaByEpoch)
            curve.append(ua);
        printJson(
            {{QStringLiteral("run"), report.runId},
             {QStringLiteral("model"), report.model.id},
             {QStringLiteral("active"), report.madeActive},
             {QStringLiteral("previous_active"), report.previousActiveId},
             {QStringLiteral("previous_ua"), report.previousUa},
             {QStringLiteral("labels"), QJsonArray::fromStringList(report.model.classes)},
             {QStringLiteral("validation"),
              QJsonObject{{QStringLiteral("n"), report.validation.n},
                          {QStringLiteral("ua"), report.validation.ua},
                          {QStringLiteral("wa"), report.validation.wa},
                          {QStringLiteral("f1"), report.validation.f1},
                          {QStringLiteral("speakers"),
                           QJsonArray::fromStringList(report.validationSpeakers)}}},
             {QStringLiteral("train_clips"), report.trainClips},
             {QStringLiteral("predicted_clips"), report.predictedClips},
             {QStringLiteral("best_epoch"), report.bestEpoch},
             {QStringLiteral("stopped"), report.stopped},
             {QStringLiteral("resumed_after_epoch"), report.resumedAfterEpoch},
             {QStringLiteral("resumed_after_pretrain_epoch"), report.resumedAfterPretrainEpoch},
             {QStringLiteral("validation_ua_by_epoch"), curve},
             {QStringLiteral("notes"), QJsonArray::fromStringList(report.notes)},
             {QStringLiteral("backbone"), report.backboneId},
             {QStringLiteral("seconds"), report.seconds}});
        return 0;
    }
    std::printf("%s\n", qPrintable(result.summary));
    for (const QString &note : report.notes)
        std::printf("Note: %s\n", qPrintable(note));
    return 0;
}

int pretrainCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption({QStringLiteral("mode"),
                      QStringLiteral("adapter (the default): adapter TAPT, seed 000's "
                                     "teacher-student pre-training of the adapter on every "
                                     "clip, over the frozen encoder's features (our one-click "
                                     "variant). paper: TAPT proper, continued training of the "
                                     "encoder's own Transformer by HuBERT's masked prediction of "
                                     "k-means targets (needs extract --tapt-inputs); paper-mode "
                                     "train/evaluate runs start from its result."),
                      QStringLiteral("adapter|paper"), QStringLiteral("adapter")});
    parser.addOption(kFeaturesEncoderOption);
    parser.addOption({QStringLiteral("epochs"),
                      QStringLiteral("Pre-training epochs (default 10, in both modes)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption(kSeedOption);
    parser.addOption(kAcousticOption);
    parser.addOption(kTrainingDeviceOption);
    parser.addOption(kThreadsOption);
    parser.addOption({QStringLiteral("resume"),
                      QStringLiteral("Continue the interrupted pre-training run RUN from its last "
                                     "epoch, with its own settings."),
                      QStringLiteral("RUN")});
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("Task-adaptive pre-training (seed 002) on every clip of "
                                        "the workspace that has cached features, labeled or "
                                        "not. The pre-trained backbone is stored in the "
                                        "workspace; train and evaluate runs whose backbone fits "
                                        "(adapter-local-attributes) start from the newest one "
                                        "unless told --backbone none."));
        code >= 0)
        return code;
    PretrainRequest request;
    request.databasePath = parser.value(kDbOption);
    if (int code = requireWorkspaceFile(request.databasePath); code != 0)
        return code;
    request.mode = parser.value(QStringLiteral("mode"));
    if (request.mode != u"adapter" && request.mode != u"paper")
        return fail(QStringLiteral("--mode is adapter or paper, not \"%1\"").arg(request.mode));
    request.encoder = parser.value(QStringLiteral("encoder"));
    request.device = parser.value(QStringLiteral("device"));
    bool okEpochs = false, okSeed = false, okThreads = false;
    request.epochs = parser.value(QStringLiteral("epochs")).toInt(&okEpochs);
    request.seed = parser.value(QStringLiteral("seed")).toUInt(&okSeed);
    request.threads = parser.value(QStringLiteral("threads")).toInt(&okThreads);
    if (!okEpochs || !okSeed || !okThreads || request.epochs < 0 || request.threads < 0)
        return fail(QStringLiteral("--epochs, --seed and --threads need whole numbers"));
    if (!acousticArgument(parser, &request.acousticInputs))
        return fail(QStringLiteral("--acoustic is on, off or auto, not \"%1\"")
                        .arg(parser.value(QStringLiteral("acoustic"))));
    if (int code =
            resumeArgument(parser, {"mode", "encoder", "epochs", "seed", "acoustic", "device"},
                           &request.resumeRunId);
        code != 0)
        return code;
    JobResult result;
    const auto job = runCheckpointedJob<PretrainJob>(request, &result);
    if (!job)
        return fail(result.summary);
    const PretrainReport &report = job->report();
    if (parser.isSet(kJsonOption)) {
        printJson({{QStringLiteral("run"), report.runId},
                   {QStringLiteral("backbone"), report.backbone.id},
                   {QStringLiteral("mode"), report.backbone.mode},
                   {QStringLiteral("backbone_settings"), report.backbone.backbone},
                   {QStringLiteral("settings"), report.settings},
                   {QStringLiteral("clips"), report.clips},
                   {QStringLiteral("labeled_clips"), report.labeledClips},
                   {QStringLiteral("local_attributes"), report.localAttributes},
                   {QStringLiteral("epochs"), report.backbone.mode == QLatin1String("paper")
                                                  ? PretrainJob::epochsJson(report.taptHistory)
                                                  : PretrainJob::epochsJson(report.history)},
                   {QStringLiteral("resumed_after_epoch"), report.resumedAfterEpoch},
                   {QStringLiteral("seconds"), report.seconds}});
        return 0;
    }
    std::printf("%s\n", qPrintable(result.summary));
    std::printf("Settings: %s\n", qPrintable(report.settings));
    return 0;
}

int modelsCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("List the model versions of a workspace, newest first."));
        code >= 0)
        return code;
    Database db(parser.value(kDbOption));
    if (auto st = openWorkspace(db, true); !st)
        return fail(st.error());
    ModelRepository repository(db);
    repository.markInterruptedRuns();
    FeatureRepository features(db);
    const QList<ModelVersionRecord> models = repository.models();
    // Interrupted training runs, which `train --resume RUN` continues when they have a
    // checkpoint.
    QList<TrainingRunRecord> interrupted;
    for (const TrainingRunRecord &run : repository.runs())
        if ((run.kind == QLatin1String("train") || run.kind == QLatin1String("pretrain")) &&
            run.status == QLatin1String("interrupted"))
            interrupted << run;
    const QList<BackboneRecord> backbones = repository.backbones();
    auto resumable = [&db](const TrainingRunRecord &run) {
        return QFileInfo::exists(TrainJob::checkpointPath(db.filePath(), run.id));
    };
    if (parser.isSet(kJsonOption)) {
        QJsonArray runs;
        for (const TrainingRunRecord &run : interrupted)
            runs.append(
                QJsonObject{{QStringLiteral("run"), run.id},
                            {QStringLiteral("recipe"), run.recipe},
                            {QStringLiteral("epochs"), int(repository.epochs(run.id).size())},
                            {QStringLiteral("started"), run.startedAt.toString(Qt::ISODate)},
                            {QStringLiteral("resumable"), resumable(run)},
                            {QStringLiteral("pretrain_epochs"),
                             run.recipe == QLatin1String("tapt")
                                 ? PretrainJob::checkpointEpochs(db.filePath(), run.id)
                                 : TrainJob::checkpointPretrainEpochs(db.filePath(), run.id)}});
        QJsonArray list;
        for (const ModelVersionRecord &m : models) {
            const auto encoder = features.encoder(m.encoderId);
            list.append(
                QJsonObject{{QStringLiteral("id"), m.id},
                            {QStringLiteral("run"), m.runId},
                            {QStringLiteral("recipe"), m.recipe},
                            {QStringLiteral("encoder"), encoder ? encoder->name : QString()},
                            {QStringLiteral("labels"), QJsonArray::fromStringList(m.classes)},
                            {QStringLiteral("acoustic_inputs"), m.acousticInputs},
                            {QStringLiteral("active"), m.active},
                            {QStringLiteral("validation_ua"), m.validationUa},
                            {QStringLiteral("validation_wa"), m.validationWa},
                            {QStringLiteral("validation_f1"), m.validationF1},
                            {QStringLiteral("validation_clips"), m.validationClips},
                            {QStringLiteral("train_seconds"), m.trainSeconds},
                            {QStringLiteral("created"), m.createdAt.toString(Qt::ISODate)},
                            {QStringLiteral("weights_sha256"), m.weightsHash}});
        }
        QJsonArray pretrained;
        for (const BackboneRecord &b : backbones) {
            const auto encoder = features.encoder(b.encoderId);
            pretrained.append(
                QJsonObject{{QStringLiteral("id"), b.id},
                            {QStringLiteral("run"), b.runId},
                            {QStringLiteral("mode"), b.mode},
                            {QStringLiteral("encoder"), encoder ? encoder->name : QString()},
                            {QStringLiteral("acoustic_inputs"), b.acousticInputs},
                            {QStringLiteral("backbone"), b.backbone},
                            {QStringLiteral("clips"), b.clips},
                            {QStringLiteral("seconds"), b.seconds},
                            {QStringLiteral("created"), b.createdAt.toString(Qt::ISODate)},
                            {QStringLiteral("weights_sha256"), b.weightsHash}});
        }
        printJson({{QStringLiteral("models"), list},
                   {QStringLiteral("backbones"), pretrained},
                   {QStringLiteral("interrupted_runs"), runs}});
        return 0;
    }
    if (models.isEmpty())
        std::printf("No model yet: train one (emolens-cli train --db %s).\n",
                    qPrintable(db.filePath()));
    for (const ModelVersionRecord &m : models) {
        const auto encoder = features.encoder(m.encoderId);
        std::printf(
            "%s model %lld  %-9s %-10s UA %.3f WA %.3f F1 %.3f (%d validation clips)  "
            "%s, %.0f s\n",
            m.active ? "*" : " ", static_cast<long long>(m.id), qPrintable(m.recipe),
            qPrintable(encoder ? encoder->name : QStringLiteral("?")), m.validationUa,
            m.validationWa, m.validationF1, m.validationClips,
            qPrintable(m.createdAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))),
            m.trainSeconds);
    }
    for (const BackboneRecord &b : backbones) {
        const auto encoder = features.encoder(b.encoderId);
        if (b.mode == QLatin1String("paper")) {
            std::printf(
                "  backbone %lld  TAPT of %s's Transformer on %d clips (%s, %.0f s); paper-mode "
                "runs that train every layer start from the newest\n",
                static_cast<long long>(b.id),
                qPrintable(encoder ? encoder->name : QStringLiteral("?")), b.clips,
                qPrintable(b.createdAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))),
                b.seconds);
            continue;
        }
        std::printf(
            "  backbone %lld  adapter TAPT on %d clips of %s%s (%s, %.0f s); "
            "adapter-local-attributes runs start from the newest that fits\n",
            static_cast<long long>(b.id), b.clips,
            qPrintable(encoder ? encoder->name : QStringLiteral("?")),
            b.acousticInputs ? " with acoustic inputs" : "",
            qPrintable(b.createdAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))),
            b.seconds);
    }
    for (const TrainingRunRecord &run : interrupted) {
        const int pretrain = run.recipe == QLatin1String("tapt")
                                 ? PretrainJob::checkpointEpochs(db.filePath(), run.id)
                                 : TrainJob::checkpointPretrainEpochs(db.filePath(), run.id);
        std::printf(
            "  run %lld   %-9s interrupted %s (%s)%s\n", static_cast<long long>(run.id),
            qPrintable(run.recipe),
            qPrintable(
                pretrain >= 0
                    ? (run.recipe == QLatin1String("ari-coattention")
                           ? QStringLiteral("in stage 1 (the auxiliary tasks), after epoch %1")
                       : run.recipe == QLatin1String("tapt")
                           ? QStringLiteral("in TAPT (the encoder's Transformer), after epoch %1")
                       : run.recipe == QLatin1String("gmp-atl")
                           ? QStringLiteral("in GMP-ATL's steps 1 and 3, after %1 of their "
                                            "epochs")
                           : QStringLiteral("while pre-training, after pre-training epoch %1"))
                          .arg(pretrain)
                    : QStringLiteral("after %1 epochs").arg(repository.epochs(run.id).size())),
            qPrintable(run.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))),
            resumable(run) ? qPrintable(QStringLiteral(": continue it with emolens-cli %3 --db %1 "
                                                       "--resume %2")
                                            .arg(db.filePath())
                                            .arg(run.id)
                                            .arg(run.kind))
                           : ", no checkpoint to continue from");
    }
    return 0;
}

namespace {

// --model ID's posteriors, or the active model's (none loaded when there is none).
Status loadPosteriors(const QCommandLineParser &parser, Database &db, ClipPosteriors *posteriors)
{
    const QString cache = FeatureCache::defaultRootFor(db.filePath());
    if (!parser.isSet(QStringLiteral("model")))
        return posteriors->loadActive(db, cache);
    bool ok = false;
    const qint64 model = parser.value(QStringLiteral("model")).toLongLong(&ok);
    if (!ok)
        return Status::failure(QStringLiteral("--model needs a model id"));
    return posteriors->loadModel(db, cache, model);
}

} // namespace

int predictCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption({QStringLiteral("model"),
                      QStringLiteral("The model version (default: the active one)."),
                      QStringLiteral("ID")});
    parser.addOption({QStringLiteral("utterance"),
                      QStringLiteral("An utterance id to predict (repeatable)."),
                      QStringLiteral("ID")});
    parser.addOption({QStringLiteral("in"),
                      QStringLiteral("An audio file to predict (repeatable): its features are "
                                     "computed with the model's encoder, not stored."),
                      QStringLiteral("AUDIO")});
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("Predict utterances (from their cached features) or "
                                        "audio files with a model: the clip's label, confidence "
                                        "and class probabilities, and with --json every "
                                        "frame's."));
        code >= 0)
        return code;
    Database db(parser.value(kDbOption));
    if (auto st = openWorkspace(db, true); !st)
        return fail(st.error());
    QList<qint64> ids;
    for (const QString &text : parser.values(QStringLiteral("utterance"))) {
        bool ok = false;
        const qint64 id = text.toLongLong(&ok);
        if (!ok || id <= 0)
            return fail(QStringLiteral("--utterance needs an utterance id, not \"%1\"").arg(text));
        ids << id;
    }
    const QStringList files = parser.values(QStringLiteral("in"));
    if (ids.isEmpty() && files.isEmpty())
        return fail(QStringLiteral("predict needs --utterance ID or --in AUDIO (see --help)"));
    ClipPosteriors posteriors;
    if (auto st = loadPosteriors(parser, db, &posteriors); !st)
        return fail(st.error());
    if (!posteriors.hasModel())
        return fail(QStringLiteral("%1: no model yet; train one first (emolens-cli train --db %1)")
                        .arg(db.filePath()));

    QJsonArray clips;
    // One clip's answer: a line, or an object of the JSON list.
    auto report = [&](const QString &name, QJsonObject which, const FramePosteriors &p) {
        const int best = int(std::max_element(p.clip.begin(), p.clip.end()) - p.clip.begin());
        if (!parser.isSet(kJsonOption)) {
            std::printf("%s: %s (%.2f)\n", qPrintable(name), qPrintable(p.classes.value(best)),
                        p.clip[std::size_t(best)]);
            return;
        }
        QJsonObject probabilities;
        for (int c = 0; c < p.classes.size(); ++c)
            probabilities.insert(p.classes[c], p.clip[std::size_t(c)]);
        QJsonArray frames;
        const int classes = int(p.classes.size());
        for (int f = 0; f < p.frameCount; ++f) {
            QJsonArray row;
            for (int c = 0; c < classes; ++c)
                row.append(p.values[std::size_t(f * classes + c)]);
            frames.append(row);
        }
        which.insert(QStringLiteral("label"), p.classes.value(best));
        which.insert(QStringLiteral("confidence"), p.clip[std::size_t(best)]);
        which.insert(QStringLiteral("probabilities"), probabilities);
        which.insert(QStringLiteral("labels"), QJsonArray::fromStringList(p.classes));
        which.insert(QStringLiteral("frame_rate"), p.framesPerSecond);
        which.insert(QStringLiteral("frames"), frames);
        if (p.localAttributeCount > 0) {
            // Seed 000's local attribute of each frame (adapter-local-attributes models).
            QJsonArray ids;
            for (int id : p.localAttributes)
                ids.append(id);
            which.insert(QStringLiteral("local_attributes"), ids);
            which.insert(QStringLiteral("local_attribute_count"), p.localAttributeCount);
        }
        clips.append(which);
    };

    CorpusRepository corpora(db);
    for (qint64 id : std::as_const(ids)) {
        const auto u = corpora.utterance(id);
        if (!u)
            return fail(QStringLiteral("%1: no utterance %2").arg(db.filePath()).arg(id));
        FramePosteriors p;
        if (auto st = posteriors.predict(u->contentHash, &p); !st)
            return fail(QStringLiteral("%1 (%2): %3").arg(u->key).arg(id).arg(st.error()));
        report(u->key, {{QStringLiteral("utterance"), id}, {QStringLiteral("key"), u->key}}, p);
    }
    if (!files.isEmpty()) {
        // The files' features go to a scratch cache that the model reads like the workspace's.
        const ModelVersionRecord model = posteriors.model();
        const auto encoder = FeatureRepository(db).encoder(model.encoderId);
        if (!encoder)
            return fail(QStringLiteral("%1: the encoder of model %2 is no longer in the "
                                       "workspace")
                            .arg(db.filePath())
                            .arg(model.id));
        QTemporaryDir scratch;
        if (!scratch.isValid())
            return fail(
                QStringLiteral("cannot make a temporary folder: %1").arg(scratch.errorString()));
        QStringList hashes;
        for (const QString &file : files) {
            QString hash;
            if (auto st =
                    ExtractFeaturesJob::extractFile(file, encoder->source, encoder->identity,
                                                    model.acousticInputs, scratch.path(), &hash);
                !st)
                return fail(st.error());
            hashes << hash;
        }
        ClipPosteriors fromFiles;
        if (auto st = fromFiles.loadModel(db, scratch.path(), model.id); !st)
            return fail(st.error());
        for (qsizetype i = 0; i < files.size(); ++i) {
            FramePosteriors p;
            if (auto st = fromFiles.predict(hashes[i], &p); !st)
                return fail(QStringLiteral("%1: %2").arg(files[i], st.error()));
            report(files[i], {{QStringLiteral("path"), QFileInfo(files[i]).absoluteFilePath()}}, p);
        }
    }
    if (parser.isSet(kJsonOption))
        printJson(
            {{QStringLiteral("model"), posteriors.modelId()}, {QStringLiteral("clips"), clips}});
    return 0;
}

} // namespace emolens::cli

namespace emolens::cli {

int selectCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption({QStringLiteral("strategy"),
                      QStringLiteral("How to rank: %1 (see docs/cli.md for what each scores).")
                          .arg(selectionStrategyNames().join(QStringLiteral(", "))),
                      QStringLiteral("NAME"), QStringLiteral("cold-start")});
    parser.addOption({QStringLiteral("count"),
                      QStringLiteral("How many clips (default 20; 0: 5 % of the clips that can "
                                     "be picked, as seed 002's code)."),
                      QStringLiteral("N"), QStringLiteral("20")});
    parser.addOption({QStringLiteral("model"),
                      QStringLiteral("The model version whose posteriors rank the clips "
                                     "(default: the active one)."),
                      QStringLiteral("ID")});
    parser.addOption({QStringLiteral("encoder"),
                      QStringLiteral("Whose utterance embeddings (core-set, cold-start, hybrid): "
                                     "the name of an extracted encoder (default: the model's, "
                                     "else fbank)."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("layer"),
                      QStringLiteral("The embeddings' layer (default: the encoder's last)."),
                      QStringLiteral("N")});
    parser.addOption(kSeedOption);
    parser.addOption({QStringLiteral("clusters"),
                      QStringLiteral("cold-start's k (default 3, as the authors' code)."),
                      QStringLiteral("K"), QStringLiteral("3")});
    parser.addOption({QStringLiteral("per-speaker"),
                      QStringLiteral("At most N clips of one speaker (default: no cap)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("min-seconds"),
                      QStringLiteral("Only clips at least this long."), QStringLiteral("S"),
                      QStringLiteral("0")});
    parser.addOption({QStringLiteral("max-seconds"),
                      QStringLiteral("Only clips at most this long (0: no bound)."),
                      QStringLiteral("S"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("include-labeled"),
                      QStringLiteral("Also rank clips a person has labeled already.")});
    parser.addOption({QStringLiteral("passes"),
                      QStringLiteral("bald's MC dropout passes (default 10, ours)."),
                      QStringLiteral("T"), QStringLiteral("10")});
    parser.addOption({QStringLiteral("backbone"),
                      QStringLiteral("alps: the adapter-TAPT backbone whose masked-prediction "
                                     "loss is the surprisal (default: the newest of the "
                                     "encoder; emolens-cli models lists them)."),
                      QStringLiteral("ID")});
    parser.addOption({QStringLiteral("buckets"),
                      QStringLiteral("alps: surprisal buckets per clip (default 16, ours)."),
                      QStringLiteral("B"), QStringLiteral("16")});
    parser.addOption({QStringLiteral("annotator"),
                      QStringLiteral("Whom the round is for: with --second-opinions only their "
                                     "own labels are skipped, and --disagreements-first offers "
                                     "them the disputed clips they have not labeled."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("favour-rare"),
                      QStringLiteral("Share the picks among the model's predicted classes in "
                                     "inverse proportion to each class's labels so far (ours; "
                                     "needs a model).")});
    parser.addOption({QStringLiteral("second-opinions"),
                      QStringLiteral("Clips other people labeled stay in the pool; only "
                                     "--annotator's own are skipped (ours).")});
    parser.addOption({QStringLiteral("disagreements-first"),
                      QStringLiteral("Clips on which people gave different categories, and "
                                     "--annotator has not labeled, come first (ours).")});
    parser.addOption({QStringLiteral("no-store"),
                      QStringLiteral("Print the ranking only; do not keep it as a round (the "
                                     "queue the GUI shows).")});
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("Rank the clips an annotator should label next (seed "
                                        "002's active learning): the clips no person has "
                                        "labeled, by the strategy, each with its score and why "
                                        "it was picked."));
        code >= 0)
        return code;
    SelectionOptions options;
    if (!selectionStrategyFromName(parser.value(QStringLiteral("strategy")), &options.strategy))
        return fail(QStringLiteral("--strategy is one of %1, not \"%2\"")
                        .arg(selectionStrategyNames().join(QStringLiteral(", ")),
                             parser.value(QStringLiteral("strategy"))));
    bool okCount = false, okSeed = false, okClusters = false, okCap = false, okMin = false,
         okMax = false;
    options.count = parser.value(QStringLiteral("count")).toInt(&okCount);
    options.seed = parser.value(QStringLiteral("seed")).toULongLong(&okSeed);
    options.clusters = parser.value(QStringLiteral("clusters")).toInt(&okClusters);
    options.perSpeaker = parser.value(QStringLiteral("per-speaker")).toInt(&okCap);
    options.minSeconds = parser.value(QStringLiteral("min-seconds")).toDouble(&okMin);
    options.maxSeconds = parser.value(QStringLiteral("max-seconds")).toDouble(&okMax);
    bool okPasses = false;
    options.passes = parser.value(QStringLiteral("passes")).toInt(&okPasses);
    if (!okPasses || options.passes < 1)
        return fail(QStringLiteral("--passes needs a positive whole number"));
    bool okBuckets = false;
    options.buckets = parser.value(QStringLiteral("buckets")).toInt(&okBuckets);
    if (!okBuckets || options.buckets < 1)
        return fail(QStringLiteral("--buckets needs a positive whole number"));
    options.includeLabeled = parser.isSet(QStringLiteral("include-labeled"));
    options.favourRare = parser.isSet(QStringLiteral("favour-rare"));
    options.secondOpinions = parser.isSet(QStringLiteral("second-opinions"));
    options.disagreementsFirst = parser.isSet(QStringLiteral("disagreements-first"));
    if ((options.secondOpinions || options.disagreementsFirst) &&
        parser.value(QStringLiteral("annotator")).trimmed().isEmpty())
        return fail(QStringLiteral("--second-opinions and --disagreements-first need "
                                   "--annotator NAME: whose own labels to skip"));
    if (!okCount || !okSeed || !okClusters || !okCap || !okMin || !okMax || options.count < 0 ||
        options.clusters < 1 || options.perSpeaker < 0 || options.minSeconds < 0 ||
        options.maxSeconds < 0)
        return fail(QStringLiteral("--clusters needs a positive whole number, --count (0: 5 % "
                                   "of the pool), --seed and --per-speaker whole numbers, the "
                                   "seconds numbers"));
    SelectRequest request;
    request.options = options;
    request.encoder = parser.value(QStringLiteral("encoder"));
    request.store = !parser.isSet(QStringLiteral("no-store"));
    request.annotator = parser.value(QStringLiteral("annotator")).trimmed();
    if (parser.isSet(QStringLiteral("model"))) {
        bool ok = false;
        request.modelId = parser.value(QStringLiteral("model")).toLongLong(&ok);
        if (!ok || request.modelId < 1)
            return fail(QStringLiteral("--model needs a model id"));
    }
    if (parser.isSet(QStringLiteral("backbone"))) {
        bool ok = false;
        request.backboneId = parser.value(QStringLiteral("backbone")).toLongLong(&ok);
        if (!ok || request.backboneId < 1)
            return fail(QStringLiteral("--backbone needs a backbone id"));
    }
    if (parser.isSet(QStringLiteral("layer"))) {
        bool ok = false;
        request.layer = parser.value(QStringLiteral("layer")).toInt(&ok);
        if (!ok || request.layer < 0)
            return fail(QStringLiteral("--layer needs a layer number (0 is the encoder's input)"));
    }
    Database db(parser.value(kDbOption));
    if (auto st = openWorkspace(db, true); !st)
        return fail(st.error());
    // Through a job queue, as the GUI's queue runs it (Ctrl+C cancels between batches).
    request.databasePath = db.filePath();
    TerminalProgress progress;
    const auto job = std::make_shared<SelectJob>(request);
    const JobResult result = JobQueue::runToEnd(job, progress);
    if (result.outcome != JobOutcome::Succeeded)
        return fail(result.summary);
    const SelectReport &selected = job->report();
    const SelectionRoundRecord &round = selected.round;
    const int withoutPosteriors = selected.withoutPosteriors;

    if (parser.isSet(kJsonOption)) {
        QJsonArray list;
        int rank = 0;
        for (const SelectedClip &c : std::as_const(selected.picks)) {
            QJsonObject o{{QStringLiteral("rank"), ++rank},
                          {QStringLiteral("utterance"), c.pick.utteranceId},
                          {QStringLiteral("key"), c.key},
                          {QStringLiteral("path"), c.path},
                          {QStringLiteral("score"), c.pick.score},
                          {QStringLiteral("reason"), c.pick.reason}};
            if (c.pick.predicted >= 0) {
                o.insert(QStringLiteral("label"), c.predicted);
                o.insert(QStringLiteral("confidence"), c.pick.confidence);
            }
            list.append(o);
        }
        QJsonObject out{{QStringLiteral("strategy"), round.strategy},
                        {QStringLiteral("round"), round.id},
                        {QStringLiteral("model"), round.modelId},
                        {QStringLiteral("encoder"), selected.encoder},
                        {QStringLiteral("layer"), selected.layer},
                        {QStringLiteral("pool"), round.poolSize},
                        {QStringLiteral("labeled"), round.labeledCount},
                        {QStringLiteral("without_posteriors"), withoutPosteriors},
                        {QStringLiteral("seed"), QString::number(options.seed)},
                        {QStringLiteral("picks"), list},
                        {QStringLiteral("seconds"), selected.seconds}};
        if (selected.backboneId > 0) {
            out.insert(QStringLiteral("backbone"), selected.backboneId);
            out.insert(QStringLiteral("without_surprisal"), selected.withoutSurprisal);
            out.insert(QStringLiteral("surprisal_seconds"), selected.surprisalSeconds);
            out.insert(QStringLiteral("surprisal_cached"), selected.surprisalCached);
        }
        printJson(out);
        return 0;
    }
    std::printf("%s: %d of %d clips (%d labeled by a person, left out) ranked by %s%s in %.2f "
                "s%s\n",
                qPrintable(db.filePath()), int(selected.picks.size()), round.poolSize,
                round.labeledCount, qPrintable(round.strategy),
                round.modelId > 0 ? qPrintable(QStringLiteral(" (model %1)").arg(round.modelId))
                : selected.backboneId > 0
                    ? qPrintable(QStringLiteral(" (the surprisal of backbone %1: %2 s)")
                                     .arg(selected.backboneId)
                                     .arg(selected.surprisalSeconds, 0, 'f', 2))
                    : "",
                selected.seconds,
                round.id > 0 ? qPrintable(QStringLiteral("; stored as round %1").arg(round.id))
                             : "");
    int rank = 0;
    for (const SelectedClip &c : std::as_const(selected.picks))
        std::printf("%3d  %-8lld %-28s %s%s\n", ++rank, static_cast<long long>(c.pick.utteranceId),
                    qPrintable(c.key), qPrintable(c.pick.reason),
                    c.pick.predicted >= 0 ? qPrintable(QStringLiteral(" (the model says %1, %2)")
                                                           .arg(c.predicted)
                                                           .arg(c.pick.confidence, 0, 'f', 2))
                                          : "");
    if (withoutPosteriors > 0)
        std::printf("Note: %d clips have no features for the model's encoder and were not "
                    "ranked (emolens-cli extract)\n",
                    withoutPosteriors);
    if (selected.withoutSurprisal > 0)
        std::printf("Note: %d clips have no features for the backbone's encoder and were not "
                    "ranked (emolens-cli extract)\n",
                    selected.withoutSurprisal);
    return 0;
}

} // namespace emolens::cli

namespace emolens::cli {

int simulateCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption({QStringLiteral("strategy"),
                      QStringLiteral("The strategy whose curve to draw: %1.")
                          .arg(selectionStrategyNames().join(QStringLiteral(", "))),
                      QStringLiteral("NAME"), QStringLiteral("margin")});
    parser.addOption({QStringLiteral("recipe"),
                      QStringLiteral("The recipe each round trains (default baseline; default: "
                                     "the one Retrain would choose)."),
                      QStringLiteral("NAME"), QStringLiteral("baseline")});
    parser.addOption(kFeaturesEncoderOption);
    parser.addOption(kSeedOption);
    parser.addOption({QStringLiteral("initial"),
                      QStringLiteral("Clips labeled by the cold start (default 20)."),
                      QStringLiteral("N"), QStringLiteral("20")});
    parser.addOption({QStringLiteral("step"),
                      QStringLiteral("Clips the strategy picks each round (default 20)."),
                      QStringLiteral("N"), QStringLiteral("20")});
    parser.addOption({QStringLiteral("rounds"),
                      QStringLiteral("Rounds after the cold start (default 5)."),
                      QStringLiteral("N"), QStringLiteral("5")});
    parser.addOption({QStringLiteral("folds"),
                      QStringLiteral("The test speakers are one of this many speaker folds "
                                     "(default 4)."),
                      QStringLiteral("K"), QStringLiteral("4")});
    parser.addOption({QStringLiteral("epochs"),
                      QStringLiteral("Epochs of each training (default: the recipe's)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("clusters"), QStringLiteral("The cold start's k (default 3)."),
                      QStringLiteral("K"), QStringLiteral("3")});
    parser.addOption({QStringLiteral("passes"),
                      QStringLiteral("bald's MC dropout passes (default 10, ours)."),
                      QStringLiteral("T"), QStringLiteral("10")});
    parser.addOption({QStringLiteral("backbone"),
                      QStringLiteral("alps: the adapter-TAPT backbone whose masked-prediction "
                                     "loss is the surprisal (default: the newest of the "
                                     "encoder)."),
                      QStringLiteral("ID"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("buckets"),
                      QStringLiteral("alps: surprisal buckets per clip (default 16, ours)."),
                      QStringLiteral("B"), QStringLiteral("16")});
    parser.addOption({QStringLiteral("favour-rare"),
                      QStringLiteral("Each round favours clips predicted as rare classes, as "
                                     "select --favour-rare (ours); the curve is named "
                                     "STRATEGY+rare.")});
    parser.addOption(kThreadsOption);
    parser.addOption({QStringLiteral("no-store"),
                      QStringLiteral("Do not keep the learning curve in the workspace (kept by "
                                     "default, for the GUI's learning-curve plot).")});
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("Simulate seed 002's active-learning loop with the "
                                        "corpus's labels as the oracle: held-out speakers for "
                                        "testing, a cold start, then rounds of select, reveal, "
                                        "retrain and score; and the same recipe on every label "
                                        "for comparison. Nothing is stored."));
        code >= 0)
        return code;
    SimulateRequest request;
    request.databasePath = parser.value(kDbOption);
    if (int code = requireWorkspaceFile(request.databasePath); code != 0)
        return code;
    request.strategy = parser.value(QStringLiteral("strategy"));
    request.recipe = parser.value(QStringLiteral("recipe"));
    request.encoder = parser.value(QStringLiteral("encoder"));
    bool ok[8] = {};
    request.seed = parser.value(QStringLiteral("seed")).toUInt(&ok[0]);
    request.initial = parser.value(QStringLiteral("initial")).toInt(&ok[1]);
    request.step = parser.value(QStringLiteral("step")).toInt(&ok[2]);
    request.rounds = parser.value(QStringLiteral("rounds")).toInt(&ok[3]);
    request.folds = parser.value(QStringLiteral("folds")).toInt(&ok[4]);
    request.epochs = parser.value(QStringLiteral("epochs")).toInt(&ok[5]);
    request.clusters = parser.value(QStringLiteral("clusters")).toInt(&ok[6]);
    request.threads = parser.value(QStringLiteral("threads")).toInt(&ok[7]);
    if (std::find(std::begin(ok), std::end(ok), false) != std::end(ok) || request.epochs < 0 ||
        request.threads < 0 || request.clusters < 1)
        return fail(QStringLiteral("--seed, --initial, --step, --rounds, --folds, --epochs, "
                                   "--clusters and --threads need whole numbers"));
    request.passes = parser.value(QStringLiteral("passes")).toInt();
    if (request.passes < 1)
        return fail(QStringLiteral("--passes needs a positive whole number"));
    bool okBackbone = false, okBuckets = false;
    request.backboneId = parser.value(QStringLiteral("backbone")).toLongLong(&okBackbone);
    request.buckets = parser.value(QStringLiteral("buckets")).toInt(&okBuckets);
    if (!okBackbone || request.backboneId < 0 || !okBuckets || request.buckets < 1)
        return fail(QStringLiteral("--backbone needs a backbone id, --buckets a positive whole "
                                   "number"));
    request.store = !parser.isSet(QStringLiteral("no-store"));
    request.favourRare = parser.isSet(QStringLiteral("favour-rare"));
    TerminalProgress progress;
    const auto job = std::make_shared<SimulateJob>(request);
    const JobResult result = JobQueue::runToEnd(job, progress);
    if (result.outcome == JobOutcome::Failed)
        return fail(result.summary);
    if (result.outcome != JobOutcome::Succeeded)
        return fail(result.summary);
    const SimulationReport &report = job->report();
    const double fractionTo95 = report.fractionTo95();
    if (parser.isSet(kJsonOption)) {
        printJson(simulationJson(report, request.seed));
        return 0;
    }
    std::printf("%s\n", qPrintable(result.summary));
    std::printf("%6s %8s %9s %7s %7s %7s %9s\n", "round", "labeled", "fraction", "UA", "WA", "F1",
                "train s");
    for (const SimulationRound &round : report.rounds)
        std::printf("%6d %8d %8.1f%% %7.3f %7.3f %7.3f %9.1f\n", round.round, round.labeled,
                    100 * round.labeledFraction, round.ua, round.wa, round.f1, round.trainSeconds);
    std::printf("%6s %8d %8.1f%% %7.3f %7.3f %7.3f %9.1f\n", "all", report.poolClips, 100.0,
                report.fullUa, report.fullWa, report.fullF1, report.fullSeconds);
    if (fractionTo95 >= 0)
        std::printf("95 %% of the UA of every label at %.1f %% of the labels\n",
                    100 * fractionTo95);
    else
        std::printf("95 %% of the UA of every label not reached in these rounds\n");
    return 0;
}

} // namespace emolens::cli

namespace emolens::cli {

int tsneCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(kDbOption);
    parser.addOption({QStringLiteral("source"),
                      QStringLiteral("The embeddings: encoder:NAME:LAYER (an extracted encoder's "
                                     "utterance embeddings; without LAYER its last), or "
                                     "model:ID (the vectors that model's classifier reads). "
                                     "Default: encoder:fbank."),
                      QStringLiteral("SOURCE")});
    parser.addOption({QStringLiteral("perplexity"),
                      QStringLiteral("t-SNE's perplexity (default 30; needs more than 3 x P + 1 "
                                     "clips)."),
                      QStringLiteral("P"), QStringLiteral("30")});
    parser.addOption({QStringLiteral("iterations"),
                      QStringLiteral("Iterations (default 1000, the first 250 exaggerated)."),
                      QStringLiteral("N"), QStringLiteral("1000")});
    parser.addOption(kSeedOption);
    parser.addOption({QStringLiteral("fresh"),
                      QStringLiteral("Run t-SNE even when the workspace keeps a layout of the "
                                     "same inputs and settings (which is otherwise reused).")});
    parser.addOption({QStringLiteral("out"),
                      QStringLiteral("The CSV to write: id, key, x, y, label, speaker, gender, "
                                     "predicted."),
                      QStringLiteral("FILE.csv")});
    parser.addOption(kJsonOption);
    if (int code = parse(parser, arguments,
                         QStringLiteral("The t-SNE map of the workspace's clips: PCA to 50 "
                                        "components, then our Barnes-Hut t-SNE; one row per "
                                        "clip with its place on the map."));
        code >= 0)
        return code;
    if (!parser.isSet(QStringLiteral("out")))
        return fail(QStringLiteral("--out FILE.csv is needed: where to write the map"));
    TsneRequest request;
    request.source = parser.value(QStringLiteral("source"));
    bool okP = false, okI = false, okS = false;
    request.options.perplexity = parser.value(QStringLiteral("perplexity")).toDouble(&okP);
    request.options.iterations = parser.value(QStringLiteral("iterations")).toInt(&okI);
    request.options.seed = parser.value(QStringLiteral("seed")).toULongLong(&okS);
    if (!okP || !okI || !okS || request.options.perplexity <= 0 || request.options.iterations < 1)
        return fail(QStringLiteral("--perplexity needs a positive number, --iterations and "
                                   "--seed whole numbers"));
    request.options.exaggerationIterations =
        std::min(request.options.exaggerationIterations, request.options.iterations);
    request.reuse = !parser.isSet(QStringLiteral("fresh"));
    Database db(parser.value(kDbOption));
    if (auto st = openWorkspace(db, true); !st)
        return fail(st.error());
    request.databasePath = db.filePath();
    TerminalProgress progress;
    const auto job = std::make_shared<TsneJob>(request);
    const JobResult result = JobQueue::runToEnd(job, progress);
    if (result.outcome != JobOutcome::Succeeded)
        return fail(result.summary);
    const TsneReport &map = job->report();
    const QString out = parser.value(QStringLiteral("out"));
    QSaveFile file(out);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text))
        return fail(QStringLiteral("%1: cannot write: %2").arg(out, file.errorString()));
    QByteArray text = "id,key,x,y,label,speaker,gender,predicted\n";
    for (const TsnePoint &p : map.points)
        text +=
            delimitedLine(
                {QString::number(p.utteranceId), p.key, QString::number(double(p.x), 'g', 7),
                 QString::number(double(p.y), 'g', 7), p.label, p.speaker, p.gender, p.predicted})
                .toUtf8();
    if (file.write(text) != text.size() || !file.commit())
        return fail(QStringLiteral("%1: cannot write: %2").arg(out, file.errorString()));
    if (parser.isSet(kJsonOption)) {
        printJson({{QStringLiteral("source"), map.source},
                   {QStringLiteral("points"), int(map.points.size())},
                   {QStringLiteral("dims"), map.dims},
                   {QStringLiteral("without_embeddings"), map.withoutEmbeddings},
                   {QStringLiteral("pca_seconds"), map.pcaSeconds},
                   {QStringLiteral("seconds"), map.seconds},
                   {QStringLiteral("layout"), map.layoutId},
                   {QStringLiteral("reused"), map.reused},
                   {QStringLiteral("trustworthiness"),
                    map.trustworthiness < 0 ? QJsonValue() : QJsonValue(map.trustworthiness)},
                   {QStringLiteral("out"), QFileInfo(out).absoluteFilePath()}});
        return 0;
    }
    std::printf(
        "%s: a map of %d clips from %s (%d dims) %s, written to %s%s\n", qPrintable(db.filePath()),
        int(map.points.size()), qPrintable(map.source), map.dims,
        qPrintable(map.reused
                       ? QStringLiteral("reused from the workspace (layout %1)").arg(map.layoutId)
                       : QStringLiteral("in %1 s, kept as layout %2")
                             .arg(map.seconds, 0, 'f', 1)
                             .arg(map.layoutId)),
        qPrintable(out),
        map.withoutEmbeddings > 0
            ? qPrintable(QStringLiteral("; %1 clips without those embeddings left out")
                             .arg(map.withoutEmbeddings))
            : "");
    return 0;
}

} // namespace emolens::cli
