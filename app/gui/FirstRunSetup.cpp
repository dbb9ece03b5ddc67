#include "FirstRunSetup.h"

#include "MainWindow.h"
#include "corpus/CorpusImporter.h"
#include "corpus/DemoCorpus.h"
#include "jobs/JobRunner.h"

#include <QDir>
#include <QMessageBox>
#include <QProgressDialog>
#include <QStandardPaths>

namespace emolens {

FirstRunSetup::FirstRunSetup(MainWindow &window, QString workspacePath, QString demoFolder)
    : QObject(&window), m_window(window), m_workspacePath(std::move(workspacePath)),
      m_demoFolder(std::move(demoFolder))
{
}

QString FirstRunSetup::defaultWorkspacePath()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("default.emolens"));
}

QString FirstRunSetup::defaultDemoFolder()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("demo-corpus"));
}

void FirstRunSetup::start()
{
    QDir().mkpath(QFileInfo(m_workspacePath).absolutePath());
    // The first start creates the default workspace: that is what the welcome is for.
    if (auto st = m_window.openWorkspace(m_workspacePath, MainWindow::IfMissing::Create); !st) {
        QMessageBox::warning(&m_window, QStringLiteral("EmoLens"), st.error());
        deleteLater();
        return;
    }
    m_dialog = new QProgressDialog(QStringLiteral("Generating the demo corpus..."),
                                   QStringLiteral("Cancel"), 0, 1000, &m_window);
    m_dialog->setWindowTitle(QStringLiteral("Welcome to EmoLens"));
    m_dialog->setMinimumWidth(460);
    m_dialog->setMinimumDuration(0);
    m_dialog->setAutoClose(false);
    m_dialog->setAutoReset(false);
    m_runner = new JobRunner(this);
    connect(m_dialog, &QProgressDialog::canceled, m_runner, &JobRunner::cancel);
    connect(m_runner, &JobRunner::progress, this,
            [this](double fraction, const QString &message, const QString &eta) {
                m_dialog->setValue(int(fraction * 1000));
                m_dialog->setLabelText(
                    QStringLiteral("Generating the demo corpus: %1\n%2").arg(message, eta));
            });
    connect(m_runner, &JobRunner::finished, this, [this](const JobResult &result) {
        onGenerated(result.ok(), result.ok() ? QString() : result.summary);
    });
    const QString folder = m_demoFolder;
    m_runner->start(QStringLiteral("Generate the demo corpus"), [folder](ProgressSink &progress) {
        return DemoCorpus::generate(folder, progress);
    });
}

void FirstRunSetup::onGenerated(bool ok, const QString &error)
{
    const bool cancelled = m_runner->isCancelRequested();
    m_dialog->close();
    m_dialog->deleteLater();
    if (!ok && !cancelled)
        QMessageBox::warning(&m_window, QStringLiteral("EmoLens"),
                             QStringLiteral("The demo corpus could not be generated: %1\n\n"
                                            "You can import a corpus of your own with File > "
                                            "Import Corpus.")
                                 .arg(error));
    if (ok) {
        ImportRequest request;
        request.rootPath = m_demoFolder;
        request.corpusName = QStringLiteral("Demo corpus");
        m_window.startImport(request);
    }
    deleteLater();
}

} // namespace emolens
