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
    return JobResult::succeeded(
        QStringLiteral("Imported %1 clips of %2 (%3 new), %4 skipped, in %5 s")
            .arg(m_report.imported())
            .arg(m_report.corpusName)
            .arg(m_report.outcome.added)
            .arg(m_report.skipped.size())
            .arg(m_report.seconds, 0, 'f', m_report.seconds < 10 ? 2 : 0));
}

} // namespace emolens
