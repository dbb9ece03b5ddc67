#include "audio/AcousticCurves.h"

#include "audio/Fft.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>

namespace emolens {

namespace {

constexpr int kFramesPerProgressStep = 4096;

// Sample sizes of the pitch analysis, derived once from the options.
struct PitchGeometry
{
    int hop = 0;
    int window = 0; // W, a multiple of block
    int minLag = 0; // shortest period searched (highest F0)
    int maxLag = 0; // longest period searched (lowest F0)
    int block = 0;  // gcd(hop, W)
    int blocksPerHop = 0;
    int blocksPerWindow = 0;
    int fftSize = 0;       // holds a block plus the longest lag plus one, without wrapping
    qint64 windowLead = 0; // the window starts this many samples before the frame centre
};

// The cross-correlation r(tau) = sum_{j<W} x[s + j] x[s + j + tau], tau = 0 .. maxLag + 1, of
// each frame's window, built from per-block cross spectra that neighbouring frames share.
// Blocks are numbered from the start of frame 0's window; frame f's window is blocks
// f * blocksPerHop .. + blocksPerWindow - 1, and only the last blocksPerWindow are kept.
class WindowCorrelator
{
public:
    WindowCorrelator(const float *samples, qint64 count, const PitchGeometry &geometry)
        : m_samples(samples), m_count(count), m_geometry(geometry), m_fft(geometry.fftSize),
          m_bins(size_t(m_fft.binCount())), m_blockInput(size_t(geometry.fftSize)),
          m_segmentInput(size_t(geometry.fftSize)), m_blockSpectrum(m_bins),
          m_segmentSpectrum(m_bins), m_windowSpectrum(m_bins),
          m_slots(size_t(geometry.blocksPerWindow), std::vector<std::complex<double>>(m_bins)),
          m_slotBlock(size_t(geometry.blocksPerWindow), -1), m_correlation(size_t(geometry.fftSize))
    {
    }

    // r for frame f; valid until the next call.
    const double *correlate(qint64 frame)
    {
        const qint64 first = frame * m_geometry.blocksPerHop;
        std::fill(m_windowSpectrum.begin(), m_windowSpectrum.end(), std::complex<double>());
        for (int b = 0; b < m_geometry.blocksPerWindow; ++b) {
            const std::vector<std::complex<double>> &cross = blockCrossSpectrum(first + b);
            for (size_t k = 0; k < m_bins; ++k)
                m_windowSpectrum[k] += cross[k];
        }
        m_fft.inverse(m_windowSpectrum.data(), m_correlation.data());
        return m_correlation.data();
    }

private:
    // conj(FFT(block)) * FFT(block and the maxLag + 1 samples after it): the spectrum of the
    // block's correlation with what follows it.
    const std::vector<std::complex<double>> &blockCrossSpectrum(qint64 block)
    {
        const size_t slot = size_t(block % m_geometry.blocksPerWindow);
        if (m_slotBlock[slot] == block)
            return m_slots[slot];
        const qint64 start =
            block * m_geometry.block - m_geometry.windowLead; // may precede the signal
        const int segmentLength = m_geometry.block + m_geometry.maxLag + 1;
        std::fill(m_segmentInput.begin(), m_segmentInput.end(), 0.0);
        for (int i = 0; i < segmentLength; ++i) {
            const qint64 at = start + i;
            if (at >= 0 && at < m_count)
                m_segmentInput[size_t(i)] = m_samples[at];
        }
        std::fill(m_blockInput.begin(), m_blockInput.end(), 0.0);
        std::copy(m_segmentInput.begin(), m_segmentInput.begin() + m_geometry.block,
                  m_blockInput.begin());
        m_fft.forward(m_blockInput.data(), m_blockSpectrum.data());
        m_fft.forward(m_segmentInput.data(), m_segmentSpectrum.data());
        std::vector<std::complex<double>> &cross = m_slots[slot];
        for (size_t k = 0; k < m_bins; ++k)
            cross[k] = std::conj(m_blockSpectrum[k]) * m_segmentSpectrum[k];
        m_slotBlock[slot] = block;
        return cross;
    }

    const float *m_samples;
    qint64 m_count;
    PitchGeometry m_geometry;
    RealFft m_fft;
    size_t m_bins;
    std::vector<double> m_blockInput;
    std::vector<double> m_segmentInput;
    std::vector<std::complex<double>> m_blockSpectrum;
    std::vector<std::complex<double>> m_segmentSpectrum;
    std::vector<std::complex<double>> m_windowSpectrum;
    std::vector<std::vector<std::complex<double>>> m_slots; // ring of block cross spectra
    std::vector<qint64> m_slotBlock;                        // which block each slot holds
    std::vector<double> m_correlation;
};

struct PitchEstimate
{
    float f0Hz = 0;
    float aperiodicity = 1;
};

// YIN on one window, given its correlation r and the window's samples (W + maxLag + 1 of
// them, zeros outside the signal). difference and normalised are scratch of maxLag + 2.
PitchEstimate yinEstimate(const double *r, const double *squares, const PitchGeometry &g,
                          int sampleRate, double threshold, std::vector<double> &difference,
                          std::vector<double> &normalised)
{
    const int lastLag = g.maxLag + 1;
    double energyAtLag = 0; // sum_{j<W} x[j + tau]^2, slid along tau
    for (int j = 0; j < g.window; ++j)
        energyAtLag += squares[j];
    const double energyAtZero = energyAtLag;
    for (int tau = 0; tau <= lastLag; ++tau) {
        difference[size_t(tau)] = std::max(0.0, energyAtZero + energyAtLag - 2 * r[tau]);
        energyAtLag += squares[tau + g.window] - squares[tau];
    }
    normalised[0] = 1;
    double runningSum = 0;
    for (int tau = 1; tau <= lastLag; ++tau) {
        runningSum += difference[size_t(tau)];
        normalised[size_t(tau)] = runningSum > 0 ? difference[size_t(tau)] * tau / runningSum : 1.0;
    }

    int best = -1;
    for (int tau = g.minLag; tau <= g.maxLag; ++tau) {
        if (normalised[size_t(tau)] < threshold) {
            while (tau + 1 <= g.maxLag && normalised[size_t(tau + 1)] < normalised[size_t(tau)])
                ++tau;
            best = tau;
            break;
        }
    }
    if (best < 0) {
        best = g.minLag;
        for (int tau = g.minLag + 1; tau <= g.maxLag; ++tau)
            if (normalised[size_t(tau)] < normalised[size_t(best)])
                best = tau;
    }

    // The minimum of the parabola through d(best - 1), d(best), d(best + 1).
    const double before = difference[size_t(best - 1)];
    const double at = difference[size_t(best)];
    const double after = difference[size_t(best + 1)];
    const double curvature = before - 2 * at + after;
    double shift = curvature > 0 ? 0.5 * (before - after) / curvature : 0.0;
    shift = std::clamp(shift, -0.5, 0.5);

    PitchEstimate estimate;
    estimate.f0Hz = float(sampleRate / (best + shift));
    estimate.aperiodicity = float(std::clamp(normalised[size_t(best)], 0.0, 1.0));
    return estimate;
}

double medianOf(std::vector<float> &values)
{
    const size_t middle = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + long(middle), values.end());
    return values[middle];
}

void dropShortVoicedRuns(std::vector<float> &f0, int minimumFrames)
{
    const size_t n = f0.size();
    for (size_t i = 0; i < n;) {
        if (f0[i] <= 0) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < n && f0[end] > 0)
            ++end;
        if (end - i < size_t(minimumFrames))
            std::fill(f0.begin() + long(i), f0.begin() + long(end), 0.0f);
        i = end;
    }
}

void correctOctaveJumps(std::vector<float> &f0, int context, double minimumHz, double maximumHz)
{
    const std::vector<float> original = f0;
    const long n = long(f0.size());
    std::vector<float> neighbours;
    for (long i = 0; i < n; ++i) {
        if (original[size_t(i)] <= 0)
            continue;
        neighbours.clear();
        for (long j = std::max(0L, i - context); j <= std::min(n - 1, i + context); ++j)
            if (original[size_t(j)] > 0)
                neighbours.push_back(original[size_t(j)]);
        if (neighbours.size() < 3)
            continue;
        const double reference = medianOf(neighbours);
        const double octaves = std::log2(original[size_t(i)] / reference);
        double corrected = original[size_t(i)];
        if (std::abs(octaves - 1) < 0.25)
            corrected /= 2;
        else if (std::abs(octaves + 1) < 0.25)
            corrected *= 2;
        if (corrected >= minimumHz && corrected <= maximumHz)
            f0[size_t(i)] = float(corrected);
    }
}

void medianSmooth(std::vector<float> &f0, int frames)
{
    const int half = frames / 2;
    if (half <= 0)
        return;
    const std::vector<float> original = f0;
    const long n = long(f0.size());
    std::vector<float> window;
    for (long i = 0; i < n; ++i) {
        if (original[size_t(i)] <= 0)
            continue;
        window.clear();
        window.push_back(original[size_t(i)]);
        // Only the frame's own voiced run: an unvoiced gap is never bridged.
        for (long j = i - 1; j >= std::max(0L, i - half) && original[size_t(j)] > 0; --j)
            window.push_back(original[size_t(j)]);
        for (long j = i + 1; j <= std::min(n - 1, i + half) && original[size_t(j)] > 0; ++j)
            window.push_back(original[size_t(j)]);
        f0[size_t(i)] = float(medianOf(window));
    }
}

Status checkOptions(int sampleRate, const AcousticCurveOptions &o)
{
    if (sampleRate <= 0)
        return Status::failure(
            QStringLiteral("the sample rate must be positive, not %1").arg(sampleRate));
    if (!(o.framesPerSecond > 0) || o.framesPerSecond > sampleRate)
        return Status::failure(QStringLiteral("%1 frames per second is not possible at %2 Hz")
                                   .arg(o.framesPerSecond)
                                   .arg(sampleRate));
    if (!(o.minimumF0Hz > 0) || !(o.maximumF0Hz > o.minimumF0Hz))
        return Status::failure(
            QStringLiteral("the F0 range %1-%2 Hz is empty").arg(o.minimumF0Hz).arg(o.maximumF0Hz));
    if (o.maximumF0Hz > sampleRate / 4.0)
        return Status::failure(
            QStringLiteral("a maximum F0 of %1 Hz is above a quarter of the sample rate (%2 Hz)")
                .arg(o.maximumF0Hz)
                .arg(sampleRate));
    if (!(o.pitchWindowSeconds > 0) || !(o.energyWindowSeconds > 0))
        return Status::failure(QStringLiteral("the analysis windows must be longer than zero"));
    if (!(o.yinThreshold > 0))
        return Status::failure(QStringLiteral("the YIN threshold must be positive"));
    return Status::success();
}

PitchGeometry pitchGeometry(int sampleRate, const AcousticCurveOptions &o)
{
    PitchGeometry g;
    g.hop = std::max(1, int(std::lround(sampleRate / o.framesPerSecond)));
    // W is rounded to a multiple of half a hop, so blocks are at least half a hop long.
    const int unit = g.hop % 2 == 0 ? g.hop / 2 : g.hop;
    g.window = std::max(unit, int(std::lround(o.pitchWindowSeconds * sampleRate / unit)) * unit);
    g.minLag = std::max(2, int(std::floor(sampleRate / o.maximumF0Hz)));
    g.maxLag = std::max(g.minLag + 1, int(std::ceil(sampleRate / o.minimumF0Hz)));
    g.block = std::gcd(g.hop, g.window);
    g.blocksPerHop = g.hop / g.block;
    g.blocksPerWindow = g.window / g.block;
    g.fftSize = 4;
    while (g.fftSize < g.block + g.maxLag + 1)
        g.fftSize *= 2;
    // Half a window plus half a typical period (the geometric middle of the F0 range) before
    // the centre: the span that d(tau) compares is then centred on the frame for a typical
    // voice.
    const double typicalLag = sampleRate / std::sqrt(o.minimumF0Hz * o.maximumF0Hz);
    g.windowLead = g.window / 2 + qint64(std::lround(typicalLag / 2));
    return g;
}

} // namespace

int AcousticCurves::frameAtSeconds(double seconds) const
{
    const int n = frameCount();
    if (n == 0)
        return -1;
    return int(std::clamp<double>(std::lround(seconds * framesPerSecond), 0, n - 1));
}

Status computeAcousticCurves(const float *samples, qint64 count, int sampleRate,
                             const AcousticCurveOptions &options, AcousticCurves *out,
                             ProgressSink &progress)
{
    *out = AcousticCurves();
    if (auto st = checkOptions(sampleRate, options); !st)
        return Status::failure(
            QStringLiteral("Cannot compute pitch and energy: %1").arg(st.error()));
    const PitchGeometry g = pitchGeometry(sampleRate, options);
    out->framesPerSecond = double(sampleRate) / g.hop;
    if (count <= 0 || !samples)
        return Status::success();

    const qint64 frames = (count + g.hop - 1) / g.hop;
    AcousticCurves curves;
    curves.framesPerSecond = out->framesPerSecond;
    curves.f0Hz.assign(size_t(frames), 0.0f);
    curves.voicing.assign(size_t(frames), 0.0f);
    curves.energyDb.assign(size_t(frames), float(options.energyFloorDb));

    const int energyWindow =
        std::max(1, int(std::lround(options.energyWindowSeconds * sampleRate)));
    const double silenceMeanSquare = std::pow(10.0, options.silenceFloorDb / 10.0);
    WindowCorrelator correlator(samples, count, g);
    std::vector<double> squares(size_t(g.window + g.maxLag + 2));
    std::vector<double> difference(size_t(g.maxLag + 2));
    std::vector<double> normalised(size_t(g.maxLag + 2));

    progress.setProgress(0, QStringLiteral("Computing pitch and energy"));
    for (qint64 f = 0; f < frames; ++f) {
        if (f % kFramesPerProgressStep == 0 && f > 0) {
            if (progress.isCancelled())
                return Status::failure(QStringLiteral("Cancelled: the pitch and energy curves "
                                                      "were not finished"));
            progress.setProgress(double(f) / frames, QStringLiteral("Computing pitch and energy"));
        }
        const qint64 centre = f * g.hop;

        // Energy: mean square of the window centred on the frame.
        {
            const qint64 first = std::max<qint64>(0, centre - energyWindow / 2);
            const qint64 end = std::min(count, centre - energyWindow / 2 + energyWindow);
            double sum = 0;
            for (qint64 i = first; i < end; ++i)
                sum += double(samples[i]) * samples[i];
            if (sum > 0) {
                const double db = 10 * std::log10(sum / energyWindow);
                curves.energyDb[size_t(f)] = float(std::max(db, options.energyFloorDb));
            }
        }

        // Pitch: the window's squares (zeros outside the signal) decide whether it is silent.
        const qint64 start = centre - g.windowLead;
        double windowSum = 0;
        for (size_t j = 0; j < squares.size(); ++j) {
            const qint64 at = start + qint64(j);
            const double x = (at >= 0 && at < count) ? double(samples[at]) : 0.0;
            squares[j] = x * x;
            if (j < size_t(g.window))
                windowSum += squares[j];
        }
        if (!(windowSum / g.window > silenceMeanSquare))
            continue; // silent: unvoiced, voicing 0
        const double *r = correlator.correlate(f);
        const PitchEstimate estimate = yinEstimate(r, squares.data(), g, sampleRate,
                                                   options.yinThreshold, difference, normalised);
        curves.voicing[size_t(f)] = 1.0f - estimate.aperiodicity;
        if (estimate.aperiodicity <= options.maximumAperiodicity)
            curves.f0Hz[size_t(f)] = estimate.f0Hz;
    }

    if (options.minimumVoicedFrames > 1)
        dropShortVoicedRuns(curves.f0Hz, options.minimumVoicedFrames);
    if (options.octaveContextFrames > 0)
        correctOctaveJumps(curves.f0Hz, options.octaveContextFrames, options.minimumF0Hz,
                           options.maximumF0Hz);
    if (options.medianFrames > 1)
        medianSmooth(curves.f0Hz, options.medianFrames);
    progress.setProgress(1.0, QStringLiteral("Pitch and energy ready"));
    *out = std::move(curves);
    return Status::success();
}

} // namespace emolens
