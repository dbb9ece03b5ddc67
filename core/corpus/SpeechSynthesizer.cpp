#include "corpus/SpeechSynthesizer.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace emolens {

namespace {

constexpr int kProcessTimeoutMs = 60'000;

QString xmlEscaped(const QString &text)
{
    QString escaped = text.toHtmlEscaped(); // & < > "
    escaped.replace(QLatin1Char('\''), QStringLiteral("&apos;"));
    return escaped;
}

// Runs a program to completion; the error names the program and quotes what it printed.
Status runProgram(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    if (!process.waitForStarted(kProcessTimeoutMs))
        return Status::failure(
            QStringLiteral("cannot start %1: %2").arg(program, process.errorString()));
    if (!process.waitForFinished(kProcessTimeoutMs)) {
        process.kill();
        process.waitForFinished(1000);
        return Status::failure(QStringLiteral("%1 did not finish within %2 s")
                                   .arg(program)
                                   .arg(kProcessTimeoutMs / 1000));
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return Status::failure(QStringLiteral("%1 failed (exit code %2): %3")
                                   .arg(program)
                                   .arg(process.exitCode())
                                   .arg(QString::fromLocal8Bit(process.readAll()).trimmed()));
    return Status::success();
}

QString findTool(const QString &name)
{
    return QStandardPaths::findExecutable(name);
}

} // namespace

QList<SpeechEmotion> SpeechSynthesizer::emotions()
{
    return {SpeechEmotion::Neutral, SpeechEmotion::Happy, SpeechEmotion::Sad, SpeechEmotion::Angry};
}

QString SpeechSynthesizer::emotionName(SpeechEmotion emotion)
{
    switch (emotion) {
    case SpeechEmotion::Neutral:
        return QStringLiteral("neutral");
    case SpeechEmotion::Happy:
        return QStringLiteral("happy");
    case SpeechEmotion::Sad:
        return QStringLiteral("sad");
    case SpeechEmotion::Angry:
        return QStringLiteral("angry");
    }
    return QString();
}

EmotionProsody SpeechSynthesizer::prosody(SpeechEmotion emotion)
{
    // The recipes follow what listeners associate with each emotion: happy is high, lively
    // and quick; sad low, flat, slow and quiet; angry loud, fast, raised and wide.
    switch (emotion) {
    case SpeechEmotion::Neutral:
        return {/*pitch=*/45, /*pitchRange=*/40, /*wordsPerMinute=*/160, /*amplitude=*/100,
                /*peakDbfs=*/-6};
    case SpeechEmotion::Happy:
        return {/*pitch=*/72, /*pitchRange=*/95, /*wordsPerMinute=*/195, /*amplitude=*/120,
                /*peakDbfs=*/-3};
    case SpeechEmotion::Sad:
        return {/*pitch=*/22, /*pitchRange=*/8, /*wordsPerMinute=*/115, /*amplitude=*/60,
                /*peakDbfs=*/-16};
    case SpeechEmotion::Angry:
        return {/*pitch=*/62, /*pitchRange=*/85, /*wordsPerMinute=*/210, /*amplitude=*/180,
                /*peakDbfs=*/-0.5};
    }
    return {};
}

Status SpeechSynthesizer::checkTools()
{
    if (findTool(QStringLiteral("espeak-ng")).isEmpty())
        return Status::failure(QStringLiteral(
            "the speech synthesizer espeak-ng is not installed (Debian package \"espeak-ng\": "
            "apt-get install espeak-ng)"));
    if (findTool(QStringLiteral("sox")).isEmpty())
        return Status::failure(
            QStringLiteral("the audio converter sox is not installed (Debian package \"sox\": "
                           "apt-get install sox)"));
    return Status::success();
}

Status SpeechSynthesizer::render(const SpeechJob &job)
{
    Status tools = checkTools();
    if (!tools)
        return tools;
    if (job.text.trimmed().isEmpty())
        return Status::failure(QStringLiteral("%1: no text to speak").arg(job.outputPath));
    const QFileInfo output(job.outputPath);
    if (!QDir().mkpath(output.absolutePath()))
        return Status::failure(
            QStringLiteral("%1: cannot create the folder").arg(output.absolutePath()));

    const EmotionProsody recipe = prosody(job.emotion);
    const int pitch = std::clamp(recipe.pitch + job.pitchOffset, 0, 99);
    const int wordsPerMinute = std::clamp(recipe.wordsPerMinute + job.rateOffsetWpm, 80, 450);
    // espeak-ng has no command-line option for the pitch range; its SSML prosody element
    // has one (0-100, 50 = the voice's own), and -m makes it read SSML.
    const QString ssml = QStringLiteral("<speak><prosody range=\"%1\">%2</prosody></speak>")
                             .arg(recipe.pitchRange)
                             .arg(xmlEscaped(job.text));
    const QString spokenPath = job.outputPath + QStringLiteral(".espeak.wav");
    const QString partPath = job.outputPath + QStringLiteral(".part.wav");
    Status spoken =
        runProgram(findTool(QStringLiteral("espeak-ng")),
                   {QStringLiteral("-m"), QStringLiteral("-v"), job.voice, QStringLiteral("-p"),
                    QString::number(pitch), QStringLiteral("-s"), QString::number(wordsPerMinute),
                    QStringLiteral("-a"), QString::number(recipe.amplitude), QStringLiteral("-w"),
                    spokenPath, ssml});
    if (!spoken) {
        QFile::remove(spokenPath);
        return Status::failure(QStringLiteral("%1: %2").arg(job.outputPath, spoken.error()));
    }
    // -R: repeatable, -D: no dither, so the same job always gives the same bytes.
    Status converted =
        runProgram(findTool(QStringLiteral("sox")),
                   {QStringLiteral("-R"), QStringLiteral("-D"), spokenPath, QStringLiteral("-t"),
                    QStringLiteral("wav"), QStringLiteral("-b"), QStringLiteral("16"),
                    QStringLiteral("-e"), QStringLiteral("signed-integer"), partPath,
                    QStringLiteral("channels"), QStringLiteral("1"), QStringLiteral("rate"),
                    QStringLiteral("-h"), QString::number(kSampleRate), QStringLiteral("gain"),
                    QStringLiteral("-n"), QString::number(recipe.peakDbfs)});
    QFile::remove(spokenPath);
    if (!converted) {
        QFile::remove(partPath);
        return Status::failure(QStringLiteral("%1: %2").arg(job.outputPath, converted.error()));
    }
    QFile::remove(job.outputPath);
    if (!QFile::rename(partPath, job.outputPath)) {
        QFile::remove(partPath);
        return Status::failure(QStringLiteral("%1: cannot write the file").arg(job.outputPath));
    }
    return Status::success();
}

Status SpeechSynthesizer::renderAll(const QList<SpeechJob> &jobs, ProgressSink &progress,
                                    int parallelProcesses)
{
    Status tools = checkTools();
    if (!tools)
        return tools;
    const int total = int(jobs.size());
    if (total == 0)
        return Status::success();

    std::atomic<int> next{0};
    std::atomic<bool> stop{false};
    std::mutex mutex; // guards done, firstFailure and the calls into the sink
    int done = 0;
    Status firstFailure;
    bool cancelled = false;

    auto work = [&]() {
        for (;;) {
            {
                std::lock_guard<std::mutex> lock(mutex);
                if (progress.isCancelled()) {
                    cancelled = true;
                    stop = true;
                }
            }
            if (stop)
                return;
            const int index = next++;
            if (index >= total)
                return;
            const SpeechJob &job = jobs[index];
            Status status = render(job);
            std::lock_guard<std::mutex> lock(mutex);
            if (!status) {
                if (firstFailure.ok())
                    firstFailure = status;
                stop = true;
                return;
            }
            ++done;
            progress.setProgress(double(done) / total,
                                 QStringLiteral("Rendering speech %1 of %2 (%3)")
                                     .arg(done)
                                     .arg(total)
                                     .arg(QFileInfo(job.outputPath).fileName()));
        }
    };

    const int threadCount = std::clamp(parallelProcesses, 1, total);
    std::vector<std::thread> threads;
    threads.reserve(size_t(threadCount));
    for (int i = 0; i < threadCount; ++i)
        threads.emplace_back(work);
    for (std::thread &thread : threads)
        thread.join();

    if (!firstFailure.ok())
        return firstFailure;
    if (cancelled)
        return Status::failure(
            QStringLiteral("cancelled after %1 of %2 utterances").arg(done).arg(total));
    return Status::success();
}

} // namespace emolens
