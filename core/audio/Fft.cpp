#include "audio/Fft.h"

#include <cassert>
#include <cmath>

namespace emolens {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

RealFft::RealFft(int size) : m_size(size), m_half(size / 2)
{
    assert(size >= 4 && (size & (size - 1)) == 0);
    int bits = 0;
    while ((1 << bits) < m_half)
        ++bits;
    m_bitReversed.resize(size_t(m_half));
    for (int i = 0; i < m_half; ++i) {
        int reversed = 0;
        for (int b = 0; b < bits; ++b)
            reversed |= ((i >> b) & 1) << (bits - 1 - b);
        m_bitReversed[size_t(i)] = reversed;
    }
    m_twiddleRe.assign(size_t(m_half), 1.0);
    m_twiddleIm.assign(size_t(m_half), 0.0);
    for (int span = 1; span < m_half; span *= 2)
        for (int j = 0; j < span; ++j) {
            const double angle = -kPi * j / span;
            m_twiddleRe[size_t(span + j)] = std::cos(angle);
            m_twiddleIm[size_t(span + j)] = std::sin(angle);
        }
    m_split.resize(size_t(m_half + 1));
    for (int k = 0; k <= m_half; ++k)
        m_split[size_t(k)] = std::polar(1.0, -2 * kPi * k / m_size);
    m_re.resize(size_t(m_half));
    m_im.resize(size_t(m_half));
    m_spectrum.resize(size_t(m_half + 1));
}

void RealFft::transformHalf()
{
    double *re = m_re.data();
    double *im = m_im.data();
    const int n = m_half;
    // Span 1: the twiddle is 1.
    for (int s = 0; s < n; s += 2) {
        const double r = re[s + 1], i = im[s + 1];
        re[s + 1] = re[s] - r;
        im[s + 1] = im[s] - i;
        re[s] += r;
        im[s] += i;
    }
    for (int span = 2; span < n; span *= 2) {
        const double *wr = m_twiddleRe.data() + span;
        const double *wi = m_twiddleIm.data() + span;
        for (int s = 0; s < n; s += 2 * span) {
            double *__restrict aRe = re + s;
            double *__restrict aIm = im + s;
            double *__restrict bRe = re + s + span;
            double *__restrict bIm = im + s + span;
            for (int j = 0; j < span; ++j) {
                const double tr = wr[j] * bRe[j] - wi[j] * bIm[j];
                const double ti = wr[j] * bIm[j] + wi[j] * bRe[j];
                bRe[j] = aRe[j] - tr;
                bIm[j] = aIm[j] - ti;
                aRe[j] += tr;
                aIm[j] += ti;
            }
        }
    }
}

void RealFft::forward(const double *input, std::complex<double> *spectrum)
{
    for (int i = 0; i < m_half; ++i) {
        const int to = m_bitReversed[size_t(i)];
        m_re[size_t(to)] = input[2 * i];
        m_im[size_t(to)] = input[2 * i + 1];
    }
    transformHalf();
    // Z = E + iO, where E and O are the spectra of the even and odd samples:
    // E[k] = (Z[k] + conj Z[M-k]) / 2, O[k] = (Z[k] - conj Z[M-k]) / 2i, X[k] = E + w^k O,
    // and since w^(M-k) = -conj(w^k), X[M-k] = conj(E[k] - w^k O[k]): one pass for a pair.
    const double *re = m_re.data();
    const double *im = m_im.data();
    spectrum[0] = {re[0] + im[0], 0.0};
    spectrum[m_half] = {re[0] - im[0], 0.0};
    for (int k = 1; k <= m_half / 2; ++k) {
        const int m = m_half - k;
        const double evenRe = 0.5 * (re[k] + re[m]);
        const double evenIm = 0.5 * (im[k] - im[m]);
        const double oddRe = 0.5 * (im[k] + im[m]);
        const double oddIm = -0.5 * (re[k] - re[m]);
        const double wRe = m_split[size_t(k)].real(), wIm = m_split[size_t(k)].imag();
        const double turnedRe = wRe * oddRe - wIm * oddIm;
        const double turnedIm = wRe * oddIm + wIm * oddRe;
        spectrum[k] = {evenRe + turnedRe, evenIm + turnedIm};
        spectrum[m] = {evenRe - turnedRe, turnedIm - evenIm};
    }
}

void RealFft::powerSpectrum(const double *input, double *power)
{
    forward(input, m_spectrum.data());
    for (int k = 0; k <= m_half; ++k)
        power[k] = std::norm(m_spectrum[size_t(k)]);
}

void RealFft::inverse(const std::complex<double> *spectrum, double *output)
{
    auto bin = [&](int k) {
        return (k == 0 || k == m_half) ? std::complex<double>(spectrum[k].real(), 0.0)
                                       : spectrum[k];
    };
    // Undo the split: E[k] = (X[k] + conj X[M-k]) / 2, O[k] = (X[k] - conj X[M-k]) / (2 w^k),
    // Z[k] = E + iO. The inverse FFT runs forward on conj(Z) and conjugates the result.
    for (int k = 0; k < m_half; ++k) {
        const std::complex<double> x = bin(k);
        const std::complex<double> mirror = std::conj(bin(m_half - k));
        const std::complex<double> w = m_split[size_t(k)];
        const double evenRe = 0.5 * (x.real() + mirror.real());
        const double evenIm = 0.5 * (x.imag() + mirror.imag());
        const double diffRe = 0.5 * (x.real() - mirror.real());
        const double diffIm = 0.5 * (x.imag() - mirror.imag());
        // (diff) * conj(w)
        const double oddRe = diffRe * w.real() + diffIm * w.imag();
        const double oddIm = diffIm * w.real() - diffRe * w.imag();
        const int to = m_bitReversed[size_t(k)];
        m_re[size_t(to)] = evenRe - oddIm;
        m_im[size_t(to)] = -(evenIm + oddRe);
    }
    transformHalf();
    const double scale = 1.0 / m_half;
    for (int n = 0; n < m_half; ++n) {
        output[2 * n] = m_re[size_t(n)] * scale;
        output[2 * n + 1] = -m_im[size_t(n)] * scale;
    }
}

} // namespace emolens
