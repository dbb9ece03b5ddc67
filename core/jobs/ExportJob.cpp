#include "jobs/ExportJob.h"

#include "store/Database.h"

#include <QDir>

namespace emolens {

QString ExportJob::name() const
{
    return QStringLiteral("Export %1").arg(m_request.exportRequest.format);
}

JobResult ExportJob::run(ProgressSink &progress)
{
    m_report = ExportReport();
    Database db(m_request.databasePath);
    if (auto st = db.open(); !st)
        return JobResult::failed(st.error());
    const ExportRequest &request = m_request.exportRequest;
    const QString where = QDir::toNativeSeparators(request.outPath);
    if (auto st = CorpusExporter::run(db, request, progress, &m_report); !st) {
        if (progress.isCancelled())
            return CorpusExporter::writesAFolder(request.format)
                       ? JobResult::stopped(QStringLiteral("Export stopped after %1 files in %2")
                                                .arg(m_report.utterances)
                                                .arg(where))
                       : JobResult::cancelled(
                             QStringLiteral("Export cancelled; %1 was not written").arg(where));
        return JobResult::failed(st.error());
    }
    const ExportReport &r = m_report;
    JobResult result = JobResult::succeeded(
        QStringLiteral("Exported %1 clips as %2 to %3: %4 labeled by people, %5 with the "
                       "corpus's label, %6 without a category")
            .arg(r.utterances)
            .arg(request.format, where)
            .arg(r.labeledByPeople)
            .arg(r.corpusLabels)
            .arg(r.unlabeled));
    return result;
}

} // namespace emolens
