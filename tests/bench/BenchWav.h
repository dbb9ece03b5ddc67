#pragma once
// The benchmarks' WAV writer: 16-bit PCM mono, samples in [-1, 1] (clamped). Header only, for
// the benchmarks under tests/bench.

#include <QByteArray>
#include <QDataStream>
#include <QFile>
#include <QString>

#include <algorithm>
#include <vector>

namespace emolens::bench {

inline bool writeWav(const QString &path, const std::vector<float> &samples, int sampleRate)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    const quint32 dataBytes = quint32(samples.size() * 2);
    QByteArray header;
    QDataStream out(&header, QIODevice::WriteOnly);
    out.setByteOrder(QDataStream::LittleEndian);
    out.writeRawData("RIFF", 4);
    out << quint32(36 + dataBytes);
    out.writeRawData("WAVEfmt ", 8);
    out << quint32(16) << quint16(1) << quint16(1) << quint32(sampleRate) << quint32(sampleRate * 2)
        << quint16(2) << quint16(16);
    out.writeRawData("data", 4);
    out << dataBytes;
    std::vector<qint16> pcm(samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i)
        pcm[i] = qint16(std::clamp(samples[i], -1.0f, 1.0f) * 32767.0f);
    return file.write(header) == header.size() &&
           file.write(reinterpret_cast<const char *>(pcm.data()), qint64(dataBytes)) ==
               qint64(dataBytes);
}

} // namespace emolens::bench
