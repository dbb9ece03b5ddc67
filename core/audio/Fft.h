#pragma once
// RealFft: the discrete Fourier transform of real signals of one power-of-two length N, and
// its inverse, for the display spectrogram and the pitch tracker (plain C++, no library).
//
// Method: the N real samples are packed as N/2 complex values (even samples in the real
// parts, odd ones in the imaginary parts), transformed by an iterative radix-2 FFT of length
// N/2, and a split pass separates the two half spectra; inverse() runs the same steps
// backwards. The work arrays keep real and imaginary parts apart, so the butterflies are
// plain loops the compiler can vectorise.
//
// Thread-safety: a plan owns scratch space, so one RealFft must not be used by two threads
// at once; make one per thread (construction costs O(N)).
//
//   RealFft fft(512);
//   std::vector<std::complex<double>> spectrum(fft.binCount());
//   fft.forward(frame.data(), spectrum.data());

#include <complex>
#include <vector>

namespace emolens {

class RealFft
{
public:
    // size: N, a power of two, at least 4.
    explicit RealFft(int size);

    int size() const { return m_size; }
    int binCount() const { return m_half + 1; } // N/2 + 1: bins 0 .. N/2

    // X[k] = sum_n input[n] exp(-2 pi i k n / N) for k = 0 .. N/2 (the rest is conj(X[N-k])).
    void forward(const double *input, std::complex<double> *spectrum);
    // |X[k]|^2 for k = 0 .. N/2.
    void powerSpectrum(const double *input, double *power);
    // The N real samples whose forward() is spectrum (bins 0 .. N/2 of a Hermitian
    // spectrum; the imaginary parts of bins 0 and N/2 are ignored). Includes the 1/N.
    void inverse(const std::complex<double> *spectrum, double *output);

private:
    // In-place complex FFT of length N/2 on m_re/m_im, input in bit-reversed order.
    void transformHalf();

    int m_size = 0;
    int m_half = 0;
    std::vector<int> m_bitReversed;
    // Twiddles of the stage with butterfly span h live at [h, 2h): exp(-2 pi i j / (2h)).
    std::vector<double> m_twiddleRe;
    std::vector<double> m_twiddleIm;
    std::vector<std::complex<double>> m_split; // exp(-2 pi i k / N), k = 0 .. N/2
    std::vector<double> m_re;
    std::vector<double> m_im;
    std::vector<std::complex<double>> m_spectrum; // powerSpectrum()'s scratch
};

} // namespace emolens
