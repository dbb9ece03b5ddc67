// Pitch and energy curves on real audio files: sox tones (pure, missing fundamental, strong
// second harmonic), white noise, digital silence, a tone whose amplitude halves, a tone that
// starts after a second of silence, and espeak-ng speech at a low and a high pitch setting.
// Every file is decoded with the project's own decodeMono, as the clip view does.

#include "audio/AcousticCurves.h"
#include "audio/AudioFile.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>

using namespace emolens;

namespace {

constexpr int kSampleRate = 16000;

class CancelAtOnce final : public ProgressSink
{
public:
    void setProgress(double, const QString &) override {}
    bool isCancelled() const override { return true; }
};

struct Measured
{
    AcousticCurves curves;
    int voiced = 0;
    double voicedFraction = 0;
};

Measured curvesOf(const std::vector<float> &samples)
{
    Measured m;
    SilentProgress quiet;
    const Status st = computeAcousticCurves(samples.data(), qint64(samples.size()), kSampleRate,
                                            AcousticCurveOptions(), &m.curves, quiet);
    if (!st)
        qWarning("%s", qPrintable(st.error()));
    for (int i = 0; i < m.curves.frameCount(); ++i)
        m.voiced += m.curves.isVoiced(i) ? 1 : 0;
    m.voicedFraction = m.curves.frameCount() ? double(m.voiced) / m.curves.frameCount() : 0;
    return m;
}

double median(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::nth_element(values.begin(), values.begin() + long(values.size() / 2), values.end());
    return values[values.size() / 2];
}

std::vector<double> voicedF0(const AcousticCurves &curves)
{
    std::vector<double> f0;
    for (int i = 0; i < curves.frameCount(); ++i)
        if (curves.isVoiced(i))
            f0.push_back(curves.f0Hz[size_t(i)]);
    return f0;
}

// Median energy of the frames centred in [fromSeconds, toSeconds).
double medianEnergyDb(const AcousticCurves &curves, double fromSeconds, double toSeconds)
{
    std::vector<double> values;
    for (int i = 0; i < curves.frameCount(); ++i)
        if (curves.secondsAtFrame(i) >= fromSeconds && curves.secondsAtFrame(i) < toSeconds)
            values.push_back(curves.energyDb[size_t(i)]);
    return median(values);
}

} // namespace

class TestAcousticCurves : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void pureTonesHaveTheirPitch_data();
    void pureTonesHaveTheirPitch();
    void harmonicTonesHaveNoOctaveErrors_data();
    void harmonicTonesHaveNoOctaveErrors();
    void noiseAndSilenceAreUnvoiced();
    void halvingTheAmplitudeDropsSixDecibels();
    void curvesAreAlignedWithTheAudio();
    void higherSpeechPitchSettingGivesHigherF0();
    void badInputAndCancelAreReported();

private:
    // sox -n -r 16000 [-c channels] -D OUT synth ARGS...; returns the decoded samples.
    std::vector<float> synthesize(const QString &name, const QStringList &synthArgs,
                                  int channels = 1);
    std::vector<float> decode(const QString &path);

    QTemporaryDir m_dir;
};

void TestAcousticCurves::initTestCase()
{
    QVERIFY(m_dir.isValid());
}

std::vector<float> TestAcousticCurves::decode(const QString &path)
{
    std::vector<float> samples;
    const Status st = decodeMono(path, &samples, kSampleRate);
    if (!st)
        qWarning("%s: %s", qPrintable(path), qPrintable(st.error()));
    return samples;
}

std::vector<float> TestAcousticCurves::synthesize(const QString &name, const QStringList &synthArgs,
                                                  int channels)
{
    const QString path = m_dir.filePath(name);
    QStringList args{QStringLiteral("-n"),
                     QStringLiteral("-r"),
                     QString::number(kSampleRate),
                     QStringLiteral("-c"),
                     QString::number(channels),
                     QStringLiteral("-D"),
                     path};
    args << synthArgs;
    if (QProcess::execute(QStringLiteral("sox"), args) != 0) {
        qWarning("sox %s failed", qPrintable(args.join(QLatin1Char(' '))));
        return {};
    }
    return decode(path);
}

void TestAcousticCurves::pureTonesHaveTheirPitch_data()
{
    QTest::addColumn<double>("hz");
    QTest::newRow("110 Hz") << 110.0;
    QTest::newRow("220 Hz") << 220.0;
    QTest::newRow("440 Hz") << 440.0;
}

void TestAcousticCurves::pureTonesHaveTheirPitch()
{
    QFETCH(double, hz);
    const auto samples =
        synthesize(QStringLiteral("tone-%1.wav").arg(hz),
                   {QStringLiteral("synth"), QStringLiteral("2"), QStringLiteral("sine"),
                    QString::number(hz), QStringLiteral("vol"), QStringLiteral("0.5")});
    QVERIFY(!samples.empty());
    const Measured m = curvesOf(samples);
    QCOMPARE(m.curves.frameCount(), 200); // 2 s at 100 frames per second
    QCOMPARE(m.curves.framesPerSecond, 100.0);
    QVERIFY2(m.voicedFraction > 0.95, qPrintable(QString::number(m.voicedFraction)));
    for (int i = 0; i < m.curves.frameCount(); ++i) {
        if (!m.curves.isVoiced(i))
            continue;
        const double f0 = m.curves.f0Hz[size_t(i)];
        QVERIFY2(std::abs(f0 / hz - 1) < 0.01,
                 qPrintable(QStringLiteral("frame %1: %2 Hz").arg(i).arg(f0)));
        // Away from the file's edges, where the window is whole, the tone is fully periodic.
        if (i >= 5 && i < m.curves.frameCount() - 5)
            QVERIFY2(m.curves.voicing[size_t(i)] > 0.9f,
                     qPrintable(QStringLiteral("frame %1: voicing %2")
                                    .arg(i)
                                    .arg(m.curves.voicing[size_t(i)])));
    }
}

void TestAcousticCurves::harmonicTonesHaveNoOctaveErrors_data()
{
    QTest::addColumn<QStringList>("synthArgs");
    QTest::addColumn<double>("fundamentalHz");
    // 300 + 450 Hz in two channels that decodeMono mixes: a 150 Hz period with no energy at
    // 150 Hz. Then 150 Hz under a second harmonic twice as loud.
    QTest::newRow("missing fundamental")
        << QStringList{QStringLiteral("synth"), QStringLiteral("2"),    QStringLiteral("sine"),
                       QStringLiteral("300"),   QStringLiteral("sine"), QStringLiteral("450")}
        << 150.0;
    QTest::newRow("strong second harmonic")
        << QStringList{QStringLiteral("synth"), QStringLiteral("2"),     QStringLiteral("sine"),
                       QStringLiteral("150"),   QStringLiteral("sine"),  QStringLiteral("300"),
                       QStringLiteral("remix"), QStringLiteral("1v0.3"), QStringLiteral("2v0.6")}
        << 150.0;
}

void TestAcousticCurves::harmonicTonesHaveNoOctaveErrors()
{
    QFETCH(QStringList, synthArgs);
    QFETCH(double, fundamentalHz);
    const auto samples = synthesize(QStringLiteral("harmonic-%1.wav")
                                        .arg(QTest::currentDataTag())
                                        .replace(QLatin1Char(' '), QLatin1Char('-')),
                                    synthArgs, /*channels=*/2);
    QVERIFY(!samples.empty());
    const Measured m = curvesOf(samples);
    QVERIFY2(m.voicedFraction > 0.9, qPrintable(QString::number(m.voicedFraction)));
    int right = 0;
    for (double f0 : voicedF0(m.curves))
        right += std::abs(f0 / fundamentalHz - 1) < 0.05 ? 1 : 0;
    QVERIFY2(right > 0.9 * m.voiced,
             qPrintable(QStringLiteral("%1 of %2 voiced frames at the fundamental, median %3 Hz")
                            .arg(right)
                            .arg(m.voiced)
                            .arg(median(voicedF0(m.curves)))));
}

void TestAcousticCurves::noiseAndSilenceAreUnvoiced()
{
    const auto noise =
        synthesize(QStringLiteral("noise.wav"),
                   {QStringLiteral("synth"), QStringLiteral("3"), QStringLiteral("whitenoise"),
                    QStringLiteral("vol"), QStringLiteral("0.5")});
    QVERIFY(!noise.empty());
    const Measured noisy = curvesOf(noise);
    QCOMPARE(noisy.curves.frameCount(), 300);
    QVERIFY2(noisy.voicedFraction < 0.02, qPrintable(QString::number(noisy.voicedFraction)));
    QVERIFY2(medianEnergyDb(noisy.curves, 0.1, 2.9) > -20, "noise is loud, not silent");

    const QString silencePath = m_dir.filePath(QStringLiteral("silence.wav"));
    QCOMPARE(
        QProcess::execute(QStringLiteral("sox"),
                          {QStringLiteral("-n"), QStringLiteral("-r"), QString::number(kSampleRate),
                           QStringLiteral("-c"), QStringLiteral("1"), QStringLiteral("-b"),
                           QStringLiteral("16"), QStringLiteral("-D"), silencePath,
                           QStringLiteral("trim"), QStringLiteral("0"), QStringLiteral("2")}),
        0);
    const auto silence = decode(silencePath);
    QCOMPARE(qint64(silence.size()), qint64(2 * kSampleRate));
    const Measured quiet = curvesOf(silence);
    QCOMPARE(quiet.voiced, 0);
    for (int i = 0; i < quiet.curves.frameCount(); ++i) {
        QCOMPARE(quiet.curves.energyDb[size_t(i)], -100.0f);
        QCOMPARE(quiet.curves.voicing[size_t(i)], 0.0f);
    }
}

void TestAcousticCurves::halvingTheAmplitudeDropsSixDecibels()
{
    const QString loud = m_dir.filePath(QStringLiteral("loud.wav"));
    const QString soft = m_dir.filePath(QStringLiteral("soft.wav"));
    const QString both = m_dir.filePath(QStringLiteral("loud-then-soft.wav"));
    for (const auto &[path, volume] : {std::pair{loud, "0.5"}, std::pair{soft, "0.25"}})
        QCOMPARE(QProcess::execute(
                     QStringLiteral("sox"),
                     {QStringLiteral("-n"), QStringLiteral("-r"), QString::number(kSampleRate),
                      QStringLiteral("-c"), QStringLiteral("1"), QStringLiteral("-D"), path,
                      QStringLiteral("synth"), QStringLiteral("1"), QStringLiteral("sine"),
                      QStringLiteral("300"), QStringLiteral("vol"), QLatin1String(volume)}),
                 0);
    QCOMPARE(QProcess::execute(QStringLiteral("sox"), {loud, soft, both}), 0);
    const Measured m = curvesOf(decode(both));
    const double first = medianEnergyDb(m.curves, 0.1, 0.9);
    const double second = medianEnergyDb(m.curves, 1.1, 1.9);
    // A sine of amplitude 0.5 has an RMS of 0.354: -9.03 dBFS.
    QVERIFY2(std::abs(first - (-9.03)) < 0.5, qPrintable(QString::number(first)));
    QVERIFY2(std::abs((first - second) - 6.02) < 0.5,
             qPrintable(QStringLiteral("%1 dB then %2 dB").arg(first).arg(second)));
    QVERIFY(m.voicedFraction > 0.95); // both halves are the same 300 Hz tone
}

void TestAcousticCurves::curvesAreAlignedWithTheAudio()
{
    // One second of silence, then a 200 Hz tone: frame 100 (1.00 s) is where it starts.
    const QString silence = m_dir.filePath(QStringLiteral("lead-in.wav"));
    const QString tone = m_dir.filePath(QStringLiteral("tone-200.wav"));
    const QString both = m_dir.filePath(QStringLiteral("silence-then-tone.wav"));
    QCOMPARE(
        QProcess::execute(QStringLiteral("sox"),
                          {QStringLiteral("-n"), QStringLiteral("-r"), QString::number(kSampleRate),
                           QStringLiteral("-c"), QStringLiteral("1"), QStringLiteral("-D"), silence,
                           QStringLiteral("trim"), QStringLiteral("0"), QStringLiteral("1")}),
        0);
    QCOMPARE(
        QProcess::execute(QStringLiteral("sox"),
                          {QStringLiteral("-n"), QStringLiteral("-r"), QString::number(kSampleRate),
                           QStringLiteral("-c"), QStringLiteral("1"), QStringLiteral("-D"), tone,
                           QStringLiteral("synth"), QStringLiteral("1"), QStringLiteral("sine"),
                           QStringLiteral("200"), QStringLiteral("vol"), QStringLiteral("0.5")}),
        0);
    QCOMPARE(QProcess::execute(QStringLiteral("sox"), {silence, tone, both}), 0);
    const Measured m = curvesOf(decode(both));
    QCOMPARE(m.curves.frameCount(), 200);
    QCOMPARE(m.curves.frameAtSeconds(1.0), 100);
    QCOMPARE(m.curves.energyDb[90], -100.0f);
    QVERIFY(m.curves.energyDb[110] > -10.0f);
    // The energy crosses half-way (in dB) within a frame of the onset.
    int rise = 0;
    while (rise < m.curves.frameCount() && m.curves.energyDb[size_t(rise)] < -50)
        ++rise;
    QVERIFY2(std::abs(rise - 100) <= 1, qPrintable(QString::number(rise)));
    int firstVoiced = 0;
    while (firstVoiced < m.curves.frameCount() && !m.curves.isVoiced(firstVoiced))
        ++firstVoiced;
    QVERIFY2(std::abs(firstVoiced - 100) <= 3, qPrintable(QString::number(firstVoiced)));
}

void TestAcousticCurves::higherSpeechPitchSettingGivesHigherF0()
{
    const QString text =
        QStringLiteral("The quick brown fox jumps over the lazy dog while we measure its voice.");
    double medians[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
        const QString pitch = k == 0 ? QStringLiteral("20") : QStringLiteral("80");
        const QString path = m_dir.filePath(QStringLiteral("speech-p%1.wav").arg(pitch));
        QCOMPARE(QProcess::execute(QStringLiteral("espeak-ng"),
                                   {QStringLiteral("-p"), pitch, QStringLiteral("-w"), path, text}),
                 0);
        const Measured m = curvesOf(decode(path));
        QVERIFY(m.curves.frameCount() > 200);
        QVERIFY2(m.voicedFraction > 0.2 && m.voicedFraction < 0.9,
                 qPrintable(QStringLiteral("-p %1: %2 voiced").arg(pitch).arg(m.voicedFraction)));
        medians[k] = median(voicedF0(m.curves));
        QVERIFY2(medians[k] > 60 && medians[k] < 400, qPrintable(QString::number(medians[k])));
        // Speech is loud where it is voiced.
        double voicedEnergy = 0;
        for (int i = 0; i < m.curves.frameCount(); ++i)
            if (m.curves.isVoiced(i))
                voicedEnergy += m.curves.energyDb[size_t(i)] / m.voiced;
        QVERIFY2(voicedEnergy > -40, qPrintable(QString::number(voicedEnergy)));
    }
    qInfo("espeak-ng median F0: -p 20 %.1f Hz, -p 80 %.1f Hz", medians[0], medians[1]);
    QVERIFY2(medians[1] > 1.2 * medians[0],
             qPrintable(QStringLiteral("%1 Hz vs %2 Hz").arg(medians[0]).arg(medians[1])));
}

void TestAcousticCurves::badInputAndCancelAreReported()
{
    SilentProgress quiet;
    AcousticCurves curves;
    std::vector<float> tone(kSampleRate);
    for (size_t i = 0; i < tone.size(); ++i)
        tone[i] = float(0.5 * std::sin(2 * M_PI * 200 * double(i) / kSampleRate));

    // Nothing in, nothing out, and no error.
    QVERIFY(computeAcousticCurves(tone.data(), 0, kSampleRate, {}, &curves, quiet).ok());
    QCOMPARE(curves.frameCount(), 0);
    QCOMPARE(curves.frameAtSeconds(1.0), -1);

    AcousticCurveOptions upsideDown;
    upsideDown.minimumF0Hz = 500;
    upsideDown.maximumF0Hz = 100;
    Status st = computeAcousticCurves(tone.data(), qint64(tone.size()), kSampleRate, upsideDown,
                                      &curves, quiet);
    QVERIFY(!st);
    QVERIFY2(st.error().contains(QLatin1String("500-100 Hz")), qPrintable(st.error()));
    st = computeAcousticCurves(tone.data(), qint64(tone.size()), 0, {}, &curves, quiet);
    QVERIFY2(!st && st.error().contains(QLatin1String("sample rate")), qPrintable(st.error()));

    // A cancelled run (the user switched clips) stops and leaves nothing half-done.
    std::vector<float> longTone(size_t(kSampleRate) * 120, 0.1f);
    for (size_t i = 0; i < longTone.size(); ++i)
        longTone[i] = tone[i % tone.size()];
    CancelAtOnce cancel;
    st = computeAcousticCurves(longTone.data(), qint64(longTone.size()), kSampleRate, {}, &curves,
                               cancel);
    QVERIFY(!st);
    QVERIFY2(st.error().contains(QLatin1String("Cancelled")), qPrintable(st.error()));
    QCOMPARE(curves.frameCount(), 0);
}

QTEST_GUILESS_MAIN(TestAcousticCurves)
#include "test_acoustic_curves.moc"
