// emolens-cli: the headless front end. Same jobs as the GUI, for scripts and servers.

#include "BlasKernels.h"
#include "CliCommands.h"
#include "OutOfMemory.h"
#include "common/PathMap.h"

#include <QCoreApplication>
#include <QTextStream>
#include <cstdio>
#include <functional>
#include <map>

namespace {

const char *const kUsage =
    "Usage: emolens-cli <command> [options]\n"
    "\n"
    "Speech emotion recognition workspace, headless.\n"
    "\n"
    "Commands:\n"
    "  import PATH --db FILE     import a corpus folder into a workspace\n"
    "  export --db FILE          write labels as csv, jsonl, textgrid, eaf or audacity\n"
    "  info --db FILE            corpora, utterance and label counts, annotators\n"
    "  demo --out DIR            generate the demo corpus (espeak-ng + sox)\n"
    "  extract --db FILE         run an encoder over a workspace into the feature cache\n"
    "  features --in AUDIO       every hidden layer of one file, as safetensors\n"
    "  evaluate --db FILE        cross-validate a recipe speaker-independently\n"
    "  train --db FILE           train a model on the current labels; it predicts every clip\n"
    "  pretrain --db FILE        adapter TAPT on every clip (seed 002); later runs start from it\n"
    "  models --db FILE          the model versions, the active one marked\n"
    "  predict --db FILE         a model's clip and frame posteriors for utterances\n"
    "  select --db FILE          the clips an annotator should label next (active learning)\n"
    "  simulate --db FILE        an active-learning strategy's learning curve, labels as oracle\n"
    "  tsne --db FILE --out CSV  the t-SNE map of the clips' embeddings\n"
    "  agreement --db FILE       how much the annotators agree, and the clips they disagree on\n"
    "  traces --db FILE          time-continuous traces to CSV (--export) and back (--import)\n"
    "  team --db URL             who may label a PostgreSQL workspace, enforced by the server\n"
    "\n"
    "--db takes an SQLite file or postgresql://USER@HOST/DATABASE (password from ~/.pgpass).\n"
    "\n"
    "Run 'emolens-cli <command> --help' for the options of a command.\n";

} // namespace

int main(int argc, char **argv)
{
    // Before anything else: OpenBLAS's own kernels for this CPU (may start the program again).
    emolens::useFastBlasKernels(argv);
    // Before any tensor exists: LibTorch's CPU allocation failures then arrive as std::bad_alloc.
    emolens::guardCpuAllocations();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("emolens-cli"));
    QCoreApplication::setOrganizationName(QStringLiteral("EmoLens"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EMOLENS_VERSION));

    // A malformed EMOLENS_PATH_MAP is left out of every workspace's path map: say so once.
    if (const QString why = emolens::PathMap::environmentError(); !why.isEmpty())
        std::fprintf(stderr, "Warning: %s; no path is mapped\n", qPrintable(why));

    QStringList args = QCoreApplication::arguments();
    if (args.size() < 2 || args[1] == u"--help" || args[1] == u"-h" || args[1] == u"help") {
        std::fputs(kUsage, stdout);
        return args.size() < 2 ? 2 : 0;
    }
    if (args[1] == u"--version") {
        std::printf("emolens-cli %s\n", EMOLENS_VERSION);
        // Which BLAS runs the arithmetic, for bug reports and benchmarks.
        const std::string core = emolens::blasCoreName();
        if (!core.empty())
            std::printf("BLAS: OpenBLAS, %s kernels, %s threads\n", core.c_str(),
                        emolens::blasThreading().c_str());
        return 0;
    }
    const std::map<QString, std::function<int(const QStringList &)>> commands = {
        {QStringLiteral("import"), emolens::cli::importCommand},
        {QStringLiteral("export"), emolens::cli::exportCommand},
        {QStringLiteral("info"), emolens::cli::infoCommand},
        {QStringLiteral("demo"), emolens::cli::demoCommand},
        {QStringLiteral("features"), emolens::cli::featuresCommand},
        {QStringLiteral("extract"), emolens::cli::extractCommand},
        {QStringLiteral("evaluate"), emolens::cli::evaluateCommand},
        {QStringLiteral("train"), emolens::cli::trainCommand},
        {QStringLiteral("models"), emolens::cli::modelsCommand},
        {QStringLiteral("pretrain"), emolens::cli::pretrainCommand},
        {QStringLiteral("predict"), emolens::cli::predictCommand},
        {QStringLiteral("select"), emolens::cli::selectCommand},
        {QStringLiteral("simulate"), emolens::cli::simulateCommand},
        {QStringLiteral("tsne"), emolens::cli::tsneCommand},
        {QStringLiteral("agreement"), emolens::cli::agreementCommand},
        {QStringLiteral("traces"), emolens::cli::tracesCommand},
        {QStringLiteral("team"), emolens::cli::teamCommand},
    };
    const QString name = args[1];
    const auto it = commands.find(name);
    if (it == commands.end()) {
        std::fprintf(stderr, "emolens-cli: unknown command '%s'\n\n%s", qPrintable(name), kUsage);
        return 2;
    }
    // The subcommand's parser sees "emolens-cli <command> ..." as its program name + options.
    args.removeAt(1);
    args[0] = QStringLiteral("emolens-cli %1").arg(name);
    return it->second(args);
}
