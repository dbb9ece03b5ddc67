#include "jobs/ImportJob.h"

#include <QDir>

namespace emolens {

QString ImportJob::name() const
{
    const QString folder = QDir(m_request.rootPath).dirName();
    return folder.isEmpty() ? QStringLiteral("Import") : QStringLiteral("Import %1").arg(folder);
}

JobResult ImportJob::run(ProgressSink &progress)
{
    m_report = ImportReport();
    if (auto st = CorpusImporter::run(m_request, progress, &m_report); !st)
        return JobResult::failed(st.error());
    if (m_report.cancelled)
        return JobResult::cancelled(
            QStringLiteral("Import of %1 cancelled; the workspace is unchanged")
                .arg(QDir::toNativeSeparators(m_request.rootPath)));
    const ImportOutcome &o = m_report.outcome;
    // Every count that is not zero, so a re-import that found a renamed file says so.
    QStringList parts;
    parts << QStringLiteral("%1 new").arg(o.added);
    if (o.updated > 0)
        parts << QStringLiteral("%1 changed").arg(o.updated);
    if (o.moved > 0)
        parts << QStringLiteral("%1 moved or renamed").arg(o.moved);
    if (o.unchanged > 0)
        parts << QStringLiteral("%1 unchanged").arg(o.unchanged);
    JobResult result =
        JobResult::succeeded(QStringLiteral("Imported %1 clips of %2 (%3), %4 skipped, in %5 s")
                                 .arg(m_report.imported())
                                 .arg(m_report.corpusName, parts.join(QStringLiteral(", ")))
                                 .arg(m_report.skipped.size())
                                 .arg(m_report.seconds, 0, 'f', m_report.seconds < 10 ? 2 : 0));
    const QDir root(m_request.rootPath);
    auto shown = [&root](const QString &path) {
        return QDir::toNativeSeparators(root.relativeFilePath(path));
    };
    for (const auto &[from, to] : o.movedPaths)
        result.details << QStringLiteral("Moved: %1 -> %2 (its labels came along)")
                              .arg(QDir::toNativeSeparators(from), shown(to));
    for (const QString &path : o.updatedPaths)
        result.details << QStringLiteral("Changed audio: %1").arg(shown(path));
    for (const ImportProblem &p : m_report.skipped)
        result.details << (p.line > 0
                               ? QStringLiteral("Skipped: %1 (line %2): %3")
                                     .arg(shown(p.path))
                                     .arg(p.line)
                                     .arg(p.reason)
                               : QStringLiteral("Skipped: %1: %2").arg(shown(p.path), p.reason));
    return result;
}

} // namespace emolens
