#pragma once
// The subcommands of emolens-cli. Each parses its own arguments (with --help), runs the same
// core job classes the GUI runs, prints to stdout/stderr and returns the process exit code:
// 0 on success (also when some files were skipped), 1 on unusable input, 2 on bad usage.

#include <QCommandLineParser>
#include <QString>
#include <QStringList>

namespace emolens {
class Database;
}

namespace emolens::cli {

int importCommand(const QStringList &arguments);
int exportCommand(const QStringList &arguments);
int infoCommand(const QStringList &arguments);
int demoCommand(const QStringList &arguments);
int featuresCommand(const QStringList &arguments);
int extractCommand(const QStringList &arguments);
int evaluateCommand(const QStringList &arguments);
int trainCommand(const QStringList &arguments);
int modelsCommand(const QStringList &arguments);
int predictCommand(const QStringList &arguments);
int pretrainCommand(const QStringList &arguments);
int selectCommand(const QStringList &arguments);
int tsneCommand(const QStringList &arguments);
int simulateCommand(const QStringList &arguments);
int agreementCommand(const QStringList &arguments);
int tracesCommand(const QStringList &arguments);
int teamCommand(const QStringList &arguments);

// The options the encoder commands (extract, features) share: --encoder and --device.
QCommandLineOption encoderOption();
QCommandLineOption deviceOption();
QCommandLineOption precisionOption();

// --db and --json, as every command that takes them words them.
QCommandLineOption workspaceOption();
QCommandLineOption jsonOption();
// --corpus NAME as the corpus's id in *corpusId (0 when not given); returns 0, or the exit
// code after saying that the workspace has no such corpus.
int corpusArgument(const QCommandLineParser &parser, Database &db, qint64 *corpusId);

// Shared by the commands: prints "emolens-cli: <message>" on stderr and returns 1.
int fail(const QString &message);
// Parses with a --help option; returns -1 to go on, else the exit code (0 after --help,
// 2 on a usage error, with the help text).
int parse(QCommandLineParser &parser, const QStringList &arguments, const QString &description);

} // namespace emolens::cli
