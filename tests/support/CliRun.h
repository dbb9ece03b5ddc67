#pragma once
// Runs the emolens-cli the test target was built with (EMOLENS_CLI_PATH) and keeps what it
// printed, for the tests of the command line.

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace emolens::test {

struct CliResult
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// `input` (when given) is written to the command's standard input, which is then closed.
inline CliResult runCli(const QStringList &args, int timeoutMs = 300000,
                        const QByteArray &input = QByteArray())
{
    QProcess p;
    p.start(QStringLiteral(EMOLENS_CLI_PATH), args);
    if (!input.isEmpty()) {
        p.write(input);
        p.closeWriteChannel();
    }
    CliResult r;
    if (!p.waitForFinished(timeoutMs)) {
        r.err = QStringLiteral("emolens-cli %1 did not finish within %2 s (killed)")
                    .arg(args.value(0))
                    .arg(timeoutMs / 1000)
                    .toUtf8();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

inline QJsonObject json(const CliResult &r)
{
    return QJsonDocument::fromJson(r.out).object();
}

} // namespace emolens::test
