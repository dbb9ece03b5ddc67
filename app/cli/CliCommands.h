#pragma once
// The subcommands of emolens-cli. Each parses its own arguments (with --help), runs the same
// core job classes the GUI runs, prints to stdout/stderr and returns the process exit code:
// 0 on success (also when some files were skipped), 1 on unusable input, 2 on bad usage.

#include <QStringList>

namespace emolens::cli {

int importCommand(const QStringList &arguments);
int exportCommand(const QStringList &arguments);
int infoCommand(const QStringList &arguments);
int demoCommand(const QStringList &arguments);
int featuresCommand(const QStringList &arguments);

} // namespace emolens::cli
