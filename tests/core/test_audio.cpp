// The audio layer on the generated corpora: decoding every format the formats/ folder holds,
// probing rejecting each broken file in bad/ for the right reason, content hashes, the peak
// pyramid behind the waveform view, the display spectrogram, and the speech synthesizer's
// emotions being audibly (and measurably) different; speed perturbation shortens a clip and
// raises its pitch by the rate.

#include "TestPaths.h"

#include "audio/AudioFile.h"
#include "audio/LogMelSpectrogram.h"
#include "audio/PeakPyramid.h"
#include "corpus/SpeechSynthesizer.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

using namespace emolens;

namespace {

std::vector<float> decoded(const QString &path, int sampleRate = 16000, AudioInfo *info = nullptr)
{
    std::vector<float> samples;
    const Status status = decodeMono(path, &samples, sampleRate, info);
    if (!status)
        qWarning("%s: %s", qPrintable(path), qPrintable(status.error()));
    return samples;
}

double rms(const std::vector<float> &samples)
{
    double sum = 0;
    for (float s : samples)
        sum += double(s) * s;
    return samples.empty() ? 0 : std::sqrt(sum / double(samples.size()));
}

// Normalised cross-correlation of a and b shifted by lag (b[i + lag] against a[i]).
double correlationAt(const std::vector<float> &a, const std::vector<float> &b, int lag)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const long j = long(i) + lag;
        if (j < 0 || j >= long(b.size()))
            continue;
        ab += double(a[i]) * b[size_t(j)];
        aa += double(a[i]) * a[i];
        bb += double(b[size_t(j)]) * b[size_t(j)];
    }
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0;
}

double bestCorrelation(const std::vector<float> &a, const std::vector<float> &b, int maxLag)
{
    double best = -1;
    for (int lag = -maxLag; lag <= maxLag; ++lag)
        best = std::max(best, correlationAt(a, b, lag));
    return best;
}

// Median fundamental frequency of the voiced frames, by autocorrelation (60-500 Hz).
double medianPitchHz(const std::vector<float> &samples, int sampleRate)
{
    const int frame = sampleRate / 25; // 40 ms
    const int minLag = sampleRate / 500;
    const int maxLag = sampleRate / 60;
    const double loudness = rms(samples);
    std::vector<double> pitches;
    for (size_t start = 0; start + size_t(frame + maxLag) < samples.size(); start += frame / 2) {
        const float *x = samples.data() + start;
        double energy = 0;
        for (int i = 0; i < frame; ++i)
            energy += double(x[i]) * x[i];
        if (std::sqrt(energy / frame) < loudness)
            continue; // quiet or unvoiced
        double bestValue = 0;
        int bestLag = 0;
        for (int lag = minLag; lag <= maxLag; ++lag) {
            double sum = 0, shifted = 0;
            for (int i = 0; i < frame; ++i) {
                sum += double(x[i]) * x[i + lag];
                shifted += double(x[i + lag]) * x[i + lag];
            }
            const double value = sum / std::sqrt(energy * shifted + 1e-12);
            if (value > bestValue) {
                bestValue = value;
                bestLag = lag;
            }
        }
        if (bestValue > 0.6)
            pitches.push_back(double(sampleRate) / bestLag);
    }
    if (pitches.empty())
        return 0;
    std::nth_element(pitches.begin(), pitches.begin() + pitches.size() / 2, pitches.end());
    return pitches[pitches.size() / 2];
}

std::vector<float> testSignal(size_t count)
{
    std::mt19937 random(7);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    std::vector<float> samples(count);
    for (size_t i = 0; i < count; ++i)
        samples[i] = 0.6f * float(std::sin(double(i) * 0.0021) * std::sin(double(i) * 0.031)) +
                     noise(random);
    return samples;
}

// The per-pixel ranges PeakPyramid::peaks() promises, computed the slow way.
std::vector<PeakPyramid::Peak> bruteForcePeaks(const std::vector<float> &samples, qint64 start,
                                               qint64 end, int pixels)
{
    std::vector<PeakPyramid::Peak> result(static_cast<size_t>(pixels));
    const qint64 length = end - start;
    for (int p = 0; p < pixels; ++p) {
        const qint64 first = start + length * p / pixels;
        const qint64 last = std::max(first + 1, start + length * (p + 1) / pixels);
        const auto [lo, hi] = std::minmax_element(samples.begin() + first, samples.begin() + last);
        result[size_t(p)] = {*lo, *hi};
    }
    return result;
}

QString formats(const QString &name)
{
    return QDir(test::corpus(QStringLiteral("formats"))).filePath(name);
}

QString genericClip(const QString &speaker, const QString &emotion, int sentence)
{
    return QDir(test::corpus(QStringLiteral("generic-csv")))
        .filePath(QStringLiteral("audio/%1/%1_%2_s%3.wav").arg(speaker, emotion).arg(sentence));
}

} // namespace

class TestAudio : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFile::exists(test::corpus(QStringLiteral("formats/manifest.csv"))),
                 "run make_test_corpora first (the ctest fixture does)");
    }

    void decodesEveryFormat_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("formatName");
        QTest::addColumn<int>("sampleRate");
        QTest::addColumn<int>("channels");
        QTest::addColumn<bool>("lossless");
        QTest::newRow("WAV PCM 8 unsigned") << "pcm8u_16000_mono.wav"
                                            << "WAV PCM 8" << 16000 << 1 << true;
        QTest::newRow("WAV PCM 16, 8 kHz") << "pcm16_8000_mono.wav"
                                           << "WAV PCM 16" << 8000 << 1 << true;
        QTest::newRow("WAV PCM 24, 44.1 kHz") << "pcm24_44100_mono.wav"
                                              << "WAV PCM 24" << 44100 << 1 << true;
        QTest::newRow("WAV PCM 32, 48 kHz") << "pcm32_48000_mono.wav"
                                            << "WAV PCM 32" << 48000 << 1 << true;
        QTest::newRow("WAV float, 22.05 kHz") << "float32_22050_mono.wav"
                                              << "WAV float 32" << 22050 << 1 << true;
        QTest::newRow("WAV stereo") << "pcm16_44100_stereo.wav"
                                    << "WAV PCM 16" << 44100 << 2 << true;
        QTest::newRow("FLAC 24") << "flac24_48000_mono.flac"
                                 << "FLAC PCM 24" << 48000 << 1 << true;
        QTest::newRow("OGG Vorbis") << "vorbis_44100_mono.ogg"
                                    << "OGG Vorbis" << 44100 << 1 << false;
        if (QFile::exists(formats(QStringLiteral("mp3_22050_mono.mp3"))))
            QTest::newRow("MP3") << "mp3_22050_mono.mp3"
                                 << "MP3" << 22050 << 1 << false;
    }

    void decodesEveryFormat()
    {
        QFETCH(QString, file);
        QFETCH(QString, formatName);
        QFETCH(int, sampleRate);
        QFETCH(int, channels);
        QFETCH(bool, lossless);

        AudioInfo referenceInfo;
        const std::vector<float> reference =
            decoded(formats(QStringLiteral("pcm16_16000_mono.wav")), 16000, &referenceInfo);
        QVERIFY(!reference.empty());

        AudioProbe probe;
        const Status probed = probeAudioFile(formats(file), &probe);
        QVERIFY2(probed.ok(), qPrintable(probed.error()));
        QCOMPARE(probe.info.formatName, formatName);
        QCOMPARE(probe.info.sampleRate, sampleRate);
        QCOMPARE(probe.info.channels, channels);
        QVERIFY(qAbs(probe.info.durationSeconds - referenceInfo.durationSeconds) < 0.001);

        AudioInfo info;
        const std::vector<float> at16k = decoded(formats(file), 16000, &info);
        QCOMPARE(info.sampleRate, sampleRate);
        QCOMPARE(info.channels, channels);
        // After resampling to 16 kHz the clip lasts as long as the original, within 1 ms.
        QVERIFY2(qAbs(double(at16k.size()) - double(reference.size())) <= 16,
                 qPrintable(QStringLiteral("%1 samples, the original has %2")
                                .arg(at16k.size())
                                .arg(reference.size())));

        // The same sound: compared at the file's own band limit, the original resampled alike.
        const int commonRate = std::min(sampleRate, 16000);
        const std::vector<float> own = decoded(formats(file), commonRate);
        const std::vector<float> original =
            decoded(formats(QStringLiteral("pcm16_16000_mono.wav")), commonRate);
        const double correlation =
            lossless ? correlationAt(original, own, 0) : bestCorrelation(original, own, 64);
        qInfo("%s: correlation with the original %.5f", qPrintable(file), correlation);
        QVERIFY(correlation > (lossless ? 0.99 : 0.9));
        // Stereo averages to mono: the right channel is at half level, so 0.75 of the original.
        const double levelRatio = rms(own) / rms(original);
        QVERIFY2(qAbs(levelRatio - (channels == 2 ? 0.75 : 1.0)) < 0.05,
                 qPrintable(QString::number(levelRatio)));
    }

    void decodeKeepsTheFileRateWhenAskedTo()
    {
        AudioInfo info;
        const std::vector<float> samples =
            decoded(formats(QStringLiteral("pcm24_44100_mono.wav")), 0, &info);
        QCOMPARE(info.sampleRate, 44100);
        QCOMPARE(qint64(samples.size()), info.frames);
    }

    void probeRejectsBrokenFiles_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("reason");
        QTest::newRow("0 bytes") << "empty.wav"
                                 << "no audio frames";
        QTest::newRow("header only") << "header-only.wav"
                                     << "no audio frames";
        QTest::newRow("cut in half") << "truncated.wav"
                                     << "truncated";
        QTest::newRow("text file") << "not-audio.wav"
                                   << "not an audio file";
        QTest::newRow("random bytes") << "random.wav"
                                      << "not an audio file";
        QTest::newRow("missing") << "missing.wav"
                                 << "cannot open";
    }

    void probeRejectsBrokenFiles()
    {
        QFETCH(QString, file);
        QFETCH(QString, reason);
        AudioProbe probe;
        const Status status =
            probeAudioFile(QDir(test::corpus(QStringLiteral("bad"))).filePath(file), &probe);
        QVERIFY2(!status.ok(), qPrintable(file + QStringLiteral(" was accepted")));
        QVERIFY2(status.error().contains(reason), qPrintable(status.error()));
        std::vector<float> samples;
        if (file != QLatin1String("truncated.wav")) // its first half is still decodable
            QVERIFY(!decodeMono(QDir(test::corpus(QStringLiteral("bad"))).filePath(file), &samples)
                         .ok());
    }

    void probeRejectsCompressedFilesCutShort_data()
    {
        QTest::addColumn<QString>("file");
        QTest::newRow("FLAC") << "flac24_48000_mono.flac";
        QTest::newRow("OGG Vorbis") << "vorbis_44100_mono.ogg";
        if (QFile::exists(formats(QStringLiteral("mp3_22050_mono.mp3"))))
            QTest::newRow("MP3") << "mp3_22050_mono.mp3";
        QTest::newRow("WAV PCM 24") << "pcm24_44100_mono.wav";
    }

    void probeRejectsCompressedFilesCutShort()
    {
        QFETCH(QString, file);
        QFile whole(formats(file));
        QVERIFY(whole.open(QIODevice::ReadOnly));
        const QByteArray bytes = whole.readAll();
        QTemporaryDir dir;
        const QString cut = dir.filePath(file);
        QFile out(cut);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(bytes.left(bytes.size() / 2));
        out.close();
        AudioProbe probe;
        const Status status = probeAudioFile(cut, &probe);
        QVERIFY2(!status.ok(), qPrintable(file + QStringLiteral(" cut in half was accepted")));
        QVERIFY2(status.error().contains(QStringLiteral("truncated")), qPrintable(status.error()));
    }

    void probeAcceptsTheGoodFilesNextToThem()
    {
        const QDir bad(test::corpus(QStringLiteral("bad")));
        const QStringList good = bad.entryList({QStringLiteral("good_*.wav")}, QDir::Files);
        QCOMPARE(good.size(), 6);
        for (const QString &name : good) {
            AudioProbe probe;
            const Status status = probeAudioFile(bad.filePath(name), &probe);
            QVERIFY2(status.ok(), qPrintable(name + QStringLiteral(": ") + status.error()));
            QCOMPARE(probe.info.formatName, QStringLiteral("WAV PCM 16"));
            QCOMPARE(probe.info.sampleRate, 16000);
            QCOMPARE(probe.fileSizeBytes, QFileInfo(bad.filePath(name)).size());
            QVERIFY(probe.info.durationSeconds > 0.5);
        }
    }

    void hashesAreStableAndFollowTheContent()
    {
        const QString clip = genericClip(QStringLiteral("female1"), QStringLiteral("sad"), 1);
        QString first, second, other;
        QVERIFY(hashFile(clip, &first).ok());
        QVERIFY(hashFile(clip, &second).ok());
        QCOMPARE(first, second);
        QCOMPARE(first.size(), 32); // 128 bits in hex
        QCOMPARE(first, first.toLower());
        AudioProbe probe;
        QVERIFY(probeAudioFile(clip, &probe).ok());
        QCOMPARE(probe.contentHash, first); // the probe hashes the same bytes

        // The same clip copied into another corpus hashes the same; one changed byte does not.
        const QString copy = QDir(test::corpus(QStringLiteral("generic-tsv")))
                                 .filePath(QStringLiteral("audio/female1/female1_sad_s1.wav"));
        QVERIFY(hashFile(copy, &other).ok());
        QCOMPARE(other, first);

        QTemporaryDir dir;
        QFile source(clip);
        QVERIFY(source.open(QIODevice::ReadOnly));
        QByteArray bytes = source.readAll();
        bytes[bytes.size() - 3] = char(bytes[bytes.size() - 3] ^ 1);
        const QString changed = dir.filePath(QStringLiteral("changed.wav"));
        QFile out(changed);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(bytes);
        out.close();
        QVERIFY(hashFile(changed, &other).ok());
        QVERIFY(other != first);
        QVERIFY(!hashFile(dir.filePath(QStringLiteral("absent.wav")), &other).ok());
    }

    void peaksEqualBruteForceAtEveryZoom_data()
    {
        QTest::addColumn<qint64>("start");
        QTest::addColumn<qint64>("end");
        QTest::addColumn<int>("pixels");
        const qint64 n = 100'003;
        QTest::newRow("whole, 37 px (coarse levels)") << qint64(0) << n << 37;
        QTest::newRow("whole, 800 px") << qint64(0) << n << 800;
        QTest::newRow("unaligned range, 1000 px") << qint64(517) << qint64(90'001) << 1000;
        QTest::newRow("3 samples per pixel (raw)") << qint64(12'345) << qint64(14'745) << 800;
        QTest::newRow("past one sample per pixel") << qint64(100) << qint64(150) << 200;
        QTest::newRow("last partial block") << n - 1000 << n << 7;
    }

    void peaksEqualBruteForceAtEveryZoom()
    {
        QFETCH(qint64, start);
        QFETCH(qint64, end);
        QFETCH(int, pixels);
        const std::vector<float> samples = testSignal(100'003);
        const PeakPyramid pyramid = PeakPyramid::build(samples, 16000);
        QCOMPARE(pyramid.sampleCount(), qint64(samples.size()));
        QVERIFY(pyramid.levelCount() > 5);

        const auto fast = pyramid.peaks(samples, start, end, pixels);
        const auto slow = bruteForcePeaks(samples, start, end, pixels);
        QCOMPARE(fast.size(), slow.size());
        for (size_t p = 0; p < fast.size(); ++p) {
            QCOMPARE(fast[p].minimum, slow[p].minimum);
            QCOMPARE(fast[p].maximum, slow[p].maximum);
        }

        // Without the samples (cache only) each pixel still covers its true range.
        if ((end - start) / pixels >= PeakPyramid::kBaseBlock) {
            const auto cached = pyramid.peaks({}, start, end, pixels);
            for (size_t p = 0; p < cached.size(); ++p) {
                QVERIFY(cached[p].minimum <= slow[p].minimum);
                QVERIFY(cached[p].maximum >= slow[p].maximum);
            }
        }
    }

    void peaksOfARealClip()
    {
        std::vector<float> samples =
            decoded(genericClip(QStringLiteral("male2"), QStringLiteral("angry"), 2), 16000);
        QVERIFY(!samples.empty());
        const PeakPyramid pyramid = PeakPyramid::build(samples, 16000);
        const qint64 n = qint64(samples.size());
        for (int pixels : {1, 333, 1920}) {
            const auto fast = pyramid.peaks(samples, 0, n, pixels);
            const auto slow = bruteForcePeaks(samples, 0, n, pixels);
            for (size_t p = 0; p < fast.size(); ++p) {
                QCOMPARE(fast[p].minimum, slow[p].minimum);
                QCOMPARE(fast[p].maximum, slow[p].maximum);
            }
        }
    }

    void peakCacheRoundTrip()
    {
        QTemporaryDir dir;
        const std::vector<float> samples = testSignal(54'321);
        const PeakPyramid pyramid = PeakPyramid::build(samples, 22050);
        const QString file = dir.filePath(QStringLiteral("cache/ab/abcdef.peaks"));
        const Status saved = pyramid.save(file);
        QVERIFY2(saved.ok(), qPrintable(saved.error()));

        PeakPyramid loaded;
        const Status status = PeakPyramid::load(file, &loaded);
        QVERIFY2(status.ok(), qPrintable(status.error()));
        QCOMPARE(loaded.sampleCount(), pyramid.sampleCount());
        QCOMPARE(loaded.sampleRate(), 22050);
        QCOMPARE(loaded.levelCount(), pyramid.levelCount());
        const auto before = pyramid.peaks({}, 0, 54'321, 500);
        const auto after = loaded.peaks({}, 0, 54'321, 500);
        for (size_t p = 0; p < before.size(); ++p) {
            QCOMPARE(after[p].minimum, before[p].minimum);
            QCOMPARE(after[p].maximum, before[p].maximum);
        }

        // An empty signal round-trips too.
        const QString emptyFile = dir.filePath(QStringLiteral("empty.peaks"));
        QVERIFY(PeakPyramid::build({}, 16000).save(emptyFile).ok());
        QVERIFY(PeakPyramid::load(emptyFile, &loaded).ok());
        QCOMPARE(loaded.sampleCount(), qint64(0));
        QCOMPARE(loaded.peaks({}, 0, 10, 4).size(), size_t(4));
    }

    void corruptPeakCacheIsRejected()
    {
        QTemporaryDir dir;
        const PeakPyramid pyramid = PeakPyramid::build(testSignal(20'000), 16000);
        const QString good = dir.filePath(QStringLiteral("good.peaks"));
        QVERIFY(pyramid.save(good).ok());
        QFile file(good);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        file.close();

        QList<QPair<QString, QByteArray>> corrupt;
        QByteArray flipped = bytes;
        flipped[bytes.size() / 2] = char(flipped[bytes.size() / 2] ^ 0x40);
        corrupt << qMakePair(QStringLiteral("one byte changed"), flipped);
        corrupt << qMakePair(QStringLiteral("cut short"), bytes.left(bytes.size() - 100));
        corrupt << qMakePair(QStringLiteral("header only"), bytes.left(40));
        corrupt << qMakePair(QStringLiteral("empty"), QByteArray());
        corrupt << qMakePair(QStringLiteral("text"), QByteArray("hello, not a cache file"));
        QByteArray huge = bytes; // a sample count that would need terabytes
        huge[24 + 5] = char(0x7f);
        corrupt << qMakePair(QStringLiteral("absurd sample count"), huge);
        QByteArray version = bytes;
        version[8] = char(99);
        corrupt << qMakePair(QStringLiteral("future version"), version);

        for (const auto &[what, content] : corrupt) {
            const QString path = dir.filePath(QStringLiteral("bad.peaks"));
            QFile out(path);
            QVERIFY(out.open(QIODevice::WriteOnly | QIODevice::Truncate));
            out.write(content);
            out.close();
            PeakPyramid loaded;
            const Status status = PeakPyramid::load(path, &loaded);
            QVERIFY2(!status.ok(), qPrintable(what + QStringLiteral(" was accepted")));
            QVERIFY2(status.error().contains(path), qPrintable(status.error()));
            QCOMPARE(loaded.sampleCount(), qint64(0));
        }
        PeakPyramid loaded;
        QVERIFY(!PeakPyramid::load(dir.filePath(QStringLiteral("absent.peaks")), &loaded).ok());
    }

    void spectrogramShowsAToneInItsBand_data()
    {
        QTest::addColumn<double>("toneHz");
        QTest::newRow("250 Hz") << 250.0;
        QTest::newRow("1 kHz") << 1000.0;
        QTest::newRow("3.5 kHz") << 3500.0;
    }

    void spectrogramShowsAToneInItsBand()
    {
        QFETCH(double, toneHz);
        std::vector<float> tone(16000);
        for (size_t i = 0; i < tone.size(); ++i)
            tone[i] = float(0.5 * std::sin(2 * 3.14159265358979 * toneHz * double(i) / 16000));
        const auto spec = LogMelSpectrogram::compute(tone, 16000);
        QCOMPARE(spec.melCount, 80);
        QCOMPARE(spec.frameCount, 100); // 1 s at a 10 ms hop
        QCOMPARE(spec.windowSamples, 400);
        QVERIFY(spec.maximumDb - spec.minimumDb <= 80.0f + 1e-3f);

        const std::vector<double> centres = LogMelSpectrogram::melBandCentresHz(16000);
        QCOMPARE(int(centres.size()), 80);
        int nearest = 0;
        for (int m = 0; m < 80; ++m) {
            if (qAbs(centres[size_t(m)] - toneHz) < qAbs(centres[size_t(nearest)] - toneHz))
                nearest = m;
        }
        const int frame = 50;
        int loudest = 0;
        for (int m = 0; m < 80; ++m) {
            if (spec.valueDb(frame, m) > spec.valueDb(frame, loudest))
                loudest = m;
        }
        QVERIFY2(qAbs(loudest - nearest) <= 1,
                 qPrintable(QStringLiteral("loudest band %1 (%2 Hz), expected %3 (%4 Hz)")
                                .arg(loudest)
                                .arg(centres[size_t(loudest)])
                                .arg(nearest)
                                .arg(centres[size_t(nearest)])));
        // A -6 dBFS sine reads close to -6 dB, and bands far away sit at the floor.
        QVERIFY(spec.valueDb(frame, loudest) > -12 && spec.valueDb(frame, loudest) < 0);
        const int far = nearest > 40 ? 2 : 77;
        QVERIFY(spec.valueDb(frame, far) < spec.valueDb(frame, loudest) - 40);
    }

    void spectrogramOfARangeMatchesTheWhole()
    {
        const std::vector<float> samples =
            decoded(genericClip(QStringLiteral("female2"), QStringLiteral("happy"), 1), 16000);
        const auto whole = LogMelSpectrogram::compute(samples, 16000);
        QCOMPARE(whole.frameCount, int((samples.size() + 159) / 160));
        LogMelSpectrogram::Options options;
        options.topDb = whole.maximumDb;
        const auto part = LogMelSpectrogram::compute(samples, 16000, 4000, 8000, options);
        QCOMPARE(part.firstFrame, qint64(25));
        QCOMPARE(part.frameCount, 25);
        for (int f = 0; f < part.frameCount; ++f) {
            for (int m = 0; m < part.melCount; ++m)
                QCOMPARE(part.valueDb(f, m), whole.valueDb(int(part.firstFrame) + f, m));
        }
        QVERIFY(LogMelSpectrogram::compute(samples, 16000, 500, 500).frameCount == 0);
    }

    void emotionsDifferMeasurably()
    {
        // For every speaker and sentence of the generated corpus: angry is louder than sad,
        // sad is slower than angry, happy is higher than sad.
        for (const QString &speaker : {QStringLiteral("female1"), QStringLiteral("female2"),
                                       QStringLiteral("male1"), QStringLiteral("male2")}) {
            for (int sentence = 1; sentence <= 3; ++sentence) {
                const auto sad = decoded(genericClip(speaker, QStringLiteral("sad"), sentence));
                const auto angry = decoded(genericClip(speaker, QStringLiteral("angry"), sentence));
                const auto happy = decoded(genericClip(speaker, QStringLiteral("happy"), sentence));
                const auto neutral =
                    decoded(genericClip(speaker, QStringLiteral("neutral"), sentence));
                const QString where = QStringLiteral("%1 sentence %2").arg(speaker).arg(sentence);
                QVERIFY2(rms(angry) > 3 * rms(sad), qPrintable(where));
                QVERIFY2(rms(neutral) > rms(sad) && rms(angry) > rms(neutral), qPrintable(where));
                QVERIFY2(sad.size() > angry.size() * 1.3, qPrintable(where));
                QVERIFY2(sad.size() > neutral.size() && neutral.size() > happy.size(),
                         qPrintable(where));
                const double happyPitch = medianPitchHz(happy, 16000);
                const double sadPitch = medianPitchHz(sad, 16000);
                if (sentence == 1)
                    qInfo("%s: RMS angry %.3f sad %.3f; length sad %.2f s angry %.2f s; "
                          "pitch happy %.0f Hz sad %.0f Hz",
                          qPrintable(where), rms(angry), rms(sad), sad.size() / 16000.0,
                          angry.size() / 16000.0, happyPitch, sadPitch);
                QVERIFY2(happyPitch > sadPitch * 1.2,
                         qPrintable(QStringLiteral("%1: happy %2 Hz, sad %3 Hz")
                                        .arg(where)
                                        .arg(happyPitch)
                                        .arg(sadPitch)));
            }
        }
    }

    void synthesizerRendersRepeatably()
    {
        QVERIFY2(SpeechSynthesizer::checkTools().ok(),
                 qPrintable(SpeechSynthesizer::checkTools().error()));
        QTemporaryDir dir;
        SpeechJob job;
        job.text = QStringLiteral("Where are you going, \"friend\" & <neighbour>?");
        job.voice = QStringLiteral("en+f3");
        job.emotion = SpeechEmotion::Happy;
        job.outputPath = dir.filePath(QStringLiteral("deep/folder/one.wav"));
        const Status status = SpeechSynthesizer::render(job);
        QVERIFY2(status.ok(), qPrintable(status.error()));
        AudioProbe first;
        QVERIFY(probeAudioFile(job.outputPath, &first).ok());
        QCOMPARE(first.info.sampleRate, 16000);
        QCOMPARE(first.info.channels, 1);
        QCOMPARE(first.info.formatName, QStringLiteral("WAV PCM 16"));
        QVERIFY(first.info.durationSeconds > 1.0);
        QCOMPARE(QDir(dir.filePath(QStringLiteral("deep/folder"))).entryList(QDir::Files),
                 QStringList{QStringLiteral("one.wav")}); // no temporary files left

        const QString firstHash = first.contentHash;
        QVERIFY(SpeechSynthesizer::render(job).ok());
        AudioProbe second;
        QVERIFY(probeAudioFile(job.outputPath, &second).ok());
        QCOMPARE(second.contentHash, firstHash);
    }

    void synthesizerNamesAMissingProgram()
    {
        // With nothing on the PATH the user is told which program and package to install.
        QTemporaryDir emptyDir;
        const QByteArray path = qgetenv("PATH");
        qputenv("PATH", emptyDir.path().toUtf8());
        const Status status = SpeechSynthesizer::checkTools();
        SpeechJob job;
        job.text = QStringLiteral("Hello.");
        job.voice = QStringLiteral("en");
        job.outputPath = emptyDir.filePath(QStringLiteral("x.wav"));
        const Status rendered = SpeechSynthesizer::render(job);
        qputenv("PATH", path);
        QVERIFY(!status.ok());
        QVERIFY2(status.error().contains(QStringLiteral("espeak-ng")) &&
                     status.error().contains(QStringLiteral("Debian package")),
                 qPrintable(status.error()));
        QCOMPARE(rendered.error(), status.error());
        QVERIFY(!QFile::exists(job.outputPath));
    }

    void speedPerturbationScalesLengthAndPitch()
    {
        // One second of 440 Hz at 16 kHz: at 1.2 it lasts 1/1.2 s and sounds at 528 Hz, at 0.8
        // 1.25 s at 352 Hz (counted by zero crossings in the middle, away from the edges).
        std::vector<float> tone(16000);
        for (std::size_t n = 0; n < tone.size(); ++n)
            tone[n] = float(0.5 * std::sin(2 * M_PI * 440.0 * double(n) / 16000.0));
        const auto frequency = [](const std::vector<float> &x) {
            const std::size_t from = x.size() / 4, to = 3 * x.size() / 4;
            int crossings = 0;
            for (std::size_t n = from + 1; n < to; ++n)
                crossings += (x[n - 1] < 0) != (x[n] < 0) ? 1 : 0;
            return crossings / 2.0 / (double(to - from) / 16000.0);
        };
        for (const double rate : {0.8, 1.0, 1.2}) {
            std::vector<float> out;
            QVERIFY(speedPerturb(tone, 16000, rate, &out).ok());
            QCOMPARE(qint64(out.size()), qint64(std::llround(16000 / rate)));
            const double hz = frequency(out);
            QVERIFY2(std::abs(hz - 440.0 * rate) < 5.0,
                     qPrintable(QStringLiteral("rate %1: %2 Hz").arg(rate).arg(hz)));
        }
        std::vector<float> out;
        QVERIFY(!speedPerturb(tone, 16000, 0, &out).ok());
        QCOMPARE(speedKey(QStringLiteral("ab12"), 0.8), QStringLiteral("ab12-speed0.8"));
        QCOMPARE(speedKey(QStringLiteral("ab12"), 1.0), QStringLiteral("ab12"));
    }
};

QTEST_GUILESS_MAIN(TestAudio)
#include "test_audio.moc"
