#include "audio/AudioFile.h"

#include <QByteArray>
#include <QFile>

#include <sndfile.h>
#include <soxr.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>

namespace emolens {

namespace {

// Files up to this size are read into memory once: the same bytes are hashed and handed to
// libsndfile, so a short clip costs one read. Bigger files are hashed in a stream and opened
// by path; validation then touches only their header and their last frames.
constexpr qint64 kWholeReadLimitBytes = 64 * 1024 * 1024;
constexpr qint64 kHashChunkBytes = 1024 * 1024;
// A thread keeps its read buffer between probes up to this size.
constexpr size_t kKeptBufferBytes = 8 * 1024 * 1024;
// How many frames at the end of a file the probe decodes to prove the data is all there.
constexpr sf_count_t kTailCheckFrames = 1024;

// libsndfile reports open failures through a process-wide error slot (sf_strerror(nullptr)).
// Opening under this lock keeps two threads from reading each other's message. Opening is
// header parsing only, so the lock is held for microseconds.
std::mutex &openMutex()
{
    static std::mutex mutex;
    return mutex;
}

QString digestToHex(const XXH128_hash_t &hash)
{
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, hash);
    return QString::fromLatin1(
        QByteArray(reinterpret_cast<const char *>(canonical.digest), sizeof(canonical.digest))
            .toHex());
}

// A read-only view of bytes in memory that libsndfile reads through its virtual I/O.
struct MemoryStream
{
    const unsigned char *data = nullptr;
    sf_count_t size = 0;
    sf_count_t position = 0;
};

sf_count_t memoryLength(void *user)
{
    return static_cast<MemoryStream *>(user)->size;
}

sf_count_t memorySeek(sf_count_t offset, int whence, void *user)
{
    auto *stream = static_cast<MemoryStream *>(user);
    sf_count_t target = offset;
    if (whence == SEEK_CUR)
        target = stream->position + offset;
    else if (whence == SEEK_END)
        target = stream->size + offset;
    if (target < 0)
        return -1;
    stream->position = target;
    return target;
}

sf_count_t memoryRead(void *destination, sf_count_t count, void *user)
{
    auto *stream = static_cast<MemoryStream *>(user);
    const sf_count_t available = std::max<sf_count_t>(0, stream->size - stream->position);
    const sf_count_t n = std::min(count, available);
    if (n > 0)
        std::memcpy(destination, stream->data + stream->position, size_t(n));
    stream->position += n;
    return n;
}

sf_count_t memoryWrite(const void *, sf_count_t, void *)
{
    return 0;
}

sf_count_t memoryTell(void *user)
{
    return static_cast<MemoryStream *>(user)->position;
}

// Closes the SNDFILE on every return path.
struct SndFileCloser
{
    void operator()(SNDFILE *file) const
    {
        if (file)
            sf_close(file);
    }
};
using SndFileHandle = std::unique_ptr<SNDFILE, SndFileCloser>;

QString openFailure()
{
    return QStringLiteral("not an audio file libsndfile can read: %1")
        .arg(QString::fromLocal8Bit(sf_strerror(nullptr)));
}

SndFileHandle openFromMemory(MemoryStream *stream, SF_INFO *info, QString *error)
{
    SF_VIRTUAL_IO io{memoryLength, memorySeek, memoryRead, memoryWrite, memoryTell};
    std::memset(info, 0, sizeof(*info));
    std::lock_guard<std::mutex> lock(openMutex());
    SndFileHandle file(sf_open_virtual(&io, SFM_READ, info, stream));
    if (!file)
        *error = openFailure();
    return file;
}

SndFileHandle openFromPath(const QString &path, SF_INFO *info, QString *error)
{
    std::memset(info, 0, sizeof(*info));
    std::lock_guard<std::mutex> lock(openMutex());
    SndFileHandle file(sf_open(QFile::encodeName(path).constData(), SFM_READ, info));
    if (!file)
        *error = openFailure();
    return file;
}

QString sampleFormatName(int subtype)
{
    switch (subtype) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
        return QStringLiteral("PCM 8");
    case SF_FORMAT_PCM_16:
        return QStringLiteral("PCM 16");
    case SF_FORMAT_PCM_24:
        return QStringLiteral("PCM 24");
    case SF_FORMAT_PCM_32:
        return QStringLiteral("PCM 32");
    case SF_FORMAT_FLOAT:
        return QStringLiteral("float 32");
    case SF_FORMAT_DOUBLE:
        return QStringLiteral("float 64");
    case SF_FORMAT_ULAW:
        return QStringLiteral("u-law");
    case SF_FORMAT_ALAW:
        return QStringLiteral("A-law");
    case SF_FORMAT_IMA_ADPCM:
        return QStringLiteral("IMA ADPCM");
    case SF_FORMAT_MS_ADPCM:
        return QStringLiteral("MS ADPCM");
    case SF_FORMAT_GSM610:
        return QStringLiteral("GSM 6.10");
    case SF_FORMAT_VORBIS:
        return QStringLiteral("Vorbis");
    case SF_FORMAT_OPUS:
        return QStringLiteral("Opus");
    default:
        break;
    }
    SF_FORMAT_INFO formatInfo{};
    formatInfo.format = subtype;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &formatInfo, sizeof(formatInfo)) == 0 &&
        formatInfo.name)
        return QString::fromLatin1(formatInfo.name);
    return QStringLiteral("encoding 0x%1").arg(subtype, 0, 16);
}

QString formatName(int format)
{
    const int major = format & SF_FORMAT_TYPEMASK;
    const int subtype = format & SF_FORMAT_SUBMASK;
    switch (major) {
    case SF_FORMAT_MPEG:
        return QStringLiteral("MP3");
    case SF_FORMAT_OGG:
        return QStringLiteral("OGG ") + sampleFormatName(subtype);
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
        return QStringLiteral("WAV ") + sampleFormatName(subtype);
    case SF_FORMAT_RF64:
        return QStringLiteral("RF64 ") + sampleFormatName(subtype);
    case SF_FORMAT_W64:
        return QStringLiteral("W64 ") + sampleFormatName(subtype);
    case SF_FORMAT_FLAC:
        return QStringLiteral("FLAC ") + sampleFormatName(subtype);
    case SF_FORMAT_AIFF:
        return QStringLiteral("AIFF ") + sampleFormatName(subtype);
    case SF_FORMAT_AU:
        return QStringLiteral("AU ") + sampleFormatName(subtype);
    case SF_FORMAT_CAF:
        return QStringLiteral("CAF ") + sampleFormatName(subtype);
    default:
        break;
    }
    SF_FORMAT_INFO formatInfo{};
    formatInfo.format = major;
    QString container = QStringLiteral("audio");
    if (sf_command(nullptr, SFC_GET_FORMAT_MAJOR, &formatInfo, sizeof(formatInfo)) == 0 &&
        formatInfo.name)
        container = QString::fromLatin1(formatInfo.name);
    return container + QLatin1Char(' ') + sampleFormatName(subtype);
}

quint32 readLe32(const unsigned char *p)
{
    return quint32(p[0]) | quint32(p[1]) << 8 | quint32(p[2]) << 16 | quint32(p[3]) << 24;
}

// For a RIFF WAV in memory: the size its data chunk declares and the bytes actually there.
// Returns false when the bytes are not a RIFF WAV or have no data chunk.
bool wavDataChunk(const unsigned char *bytes, qint64 size, qint64 *declared, qint64 *present)
{
    if (size < 12 || std::memcmp(bytes, "RIFF", 4) != 0 || std::memcmp(bytes + 8, "WAVE", 4) != 0)
        return false;
    qint64 offset = 12;
    while (offset + 8 <= size) {
        const quint32 chunkSize = readLe32(bytes + offset + 4);
        if (std::memcmp(bytes + offset, "data", 4) == 0) {
            *declared = chunkSize;
            *present = size - (offset + 8);
            return true;
        }
        offset += 8 + qint64(chunkSize) + (chunkSize & 1);
    }
    return false;
}

// Everything the probe checks once libsndfile has opened the file.
Status validateOpened(SNDFILE *file, const SF_INFO &sfInfo, AudioInfo *info)
{
    if (sfInfo.channels <= 0 || sfInfo.samplerate <= 0)
        return Status::failure(QStringLiteral("the header gives %1 channels at %2 Hz")
                                   .arg(sfInfo.channels)
                                   .arg(sfInfo.samplerate));
    if (sfInfo.frames <= 0)
        return Status::failure(QStringLiteral("no audio frames"));
    // libsndfile gives this when it cannot find the end of the stream, e.g. an Ogg file cut
    // in the middle of a page.
    if (sfInfo.frames == SF_COUNT_MAX)
        return Status::failure(
            QStringLiteral("the file is truncated or damaged: its length cannot be determined"));

    // libsndfile logs "data : N (should be M)" when the audio chunk claims more bytes than the
    // file holds. Only the audio chunk counts: a RIFF size off by a few bytes is a harmless
    // quirk of some writers and must not reject a real corpus file.
    char log[4096] = {};
    sf_command(file, SFC_GET_LOG_INFO, log, sizeof(log));
    for (const QByteArray &line : QByteArray(log).split('\n')) {
        const QByteArray trimmed = line.trimmed();
        if ((trimmed.startsWith("data") || trimmed.startsWith("SSND")) &&
            trimmed.contains("should be"))
            return Status::failure(QStringLiteral(
                "the file is truncated: its header promises more audio than it holds"));
    }

    // Decode the last frames: a file cut short cannot deliver them.
    if (sfInfo.seekable) {
        const sf_count_t first = std::max<sf_count_t>(0, sfInfo.frames - kTailCheckFrames);
        const sf_count_t wanted = sfInfo.frames - first;
        std::vector<float> tail(size_t(wanted) * size_t(sfInfo.channels));
        sf_count_t got = 0;
        if (sf_seek(file, first, SEEK_SET) == first)
            got = sf_readf_float(file, tail.data(), wanted);
        if (got < wanted)
            return Status::failure(
                QStringLiteral("the file is truncated: only %1 of the %2 frames its header "
                               "promises could be read")
                    .arg(first + got)
                    .arg(sfInfo.frames));
    }

    info->sampleRate = sfInfo.samplerate;
    info->channels = sfInfo.channels;
    info->frames = sfInfo.frames;
    info->durationSeconds = double(sfInfo.frames) / sfInfo.samplerate;
    info->formatName = formatName(sfInfo.format);
    return Status::success();
}

Status streamHash(QFile &file, QString *hexDigest)
{
    XXH3_state_t *state = XXH3_createState();
    if (!state)
        return Status::failure(QStringLiteral("out of memory while hashing"));
    XXH3_128bits_reset(state);
    std::vector<char> buffer(static_cast<size_t>(kHashChunkBytes));
    Status status;
    for (;;) {
        const qint64 n = file.read(buffer.data(), qint64(buffer.size()));
        if (n < 0) {
            status = Status::failure(QStringLiteral("cannot read: %1").arg(file.errorString()));
            break;
        }
        if (n == 0)
            break;
        XXH3_128bits_update(state, buffer.data(), size_t(n));
    }
    if (status.ok())
        *hexDigest = digestToHex(XXH3_128bits_digest(state));
    XXH3_freeState(state);
    return status;
}

} // namespace

Status hashFile(const QString &path, QString *hexDigest)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
        return Status::failure(QStringLiteral("cannot open: %1").arg(file.errorString()));
    return streamHash(file, hexDigest);
}

Status probeAudioFile(const QString &path, AudioProbe *probe)
{
    *probe = AudioProbe();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
        return Status::failure(QStringLiteral("cannot open: %1").arg(file.errorString()));
    const qint64 size = file.size();
    probe->fileSizeBytes = size;
    if (size == 0)
        return Status::failure(QStringLiteral("the file is empty (0 bytes): no audio frames"));

    QString error;
    SF_INFO sfInfo;
    if (size > kWholeReadLimitBytes) {
        Status hashed = streamHash(file, &probe->contentHash);
        if (!hashed)
            return hashed;
        file.close();
        SndFileHandle sound = openFromPath(path, &sfInfo, &error);
        if (!sound)
            return Status::failure(error);
        return validateOpened(sound.get(), sfInfo, &probe->info);
    }

    // One read per file; the buffer is reused by the thread's next probe.
    thread_local std::vector<unsigned char> buffer;
    buffer.resize(size_t(size));
    qint64 done = 0;
    while (done < size) {
        const qint64 n = file.read(reinterpret_cast<char *>(buffer.data()) + done, size - done);
        if (n <= 0)
            return Status::failure(QStringLiteral("cannot read: %1").arg(file.errorString()));
        done += n;
    }
    file.close();
    probe->contentHash = digestToHex(XXH3_128bits(buffer.data(), size_t(size)));
    // Give back memory a long file borrowed, once this probe is done with it.
    struct BufferTrim
    {
        std::vector<unsigned char> &buffer;
        ~BufferTrim()
        {
            if (buffer.capacity() > kKeptBufferBytes)
                std::vector<unsigned char>().swap(buffer);
        }
    } trim{buffer};

    qint64 declared = 0;
    qint64 present = 0;
    if (wavDataChunk(buffer.data(), size, &declared, &present) && declared > present &&
        declared != 0xFFFFFFFF)
        return Status::failure(QStringLiteral("the file is truncated: its header promises %1 "
                                              "bytes of audio but only %2 are present")
                                   .arg(declared)
                                   .arg(present));

    MemoryStream stream{buffer.data(), sf_count_t(size), 0};
    SndFileHandle sound = openFromMemory(&stream, &sfInfo, &error);
    if (!sound)
        return Status::failure(error);
    return validateOpened(sound.get(), sfInfo, &probe->info);
}

Status decodeMono(const QString &path, std::vector<float> *samples, int targetSampleRate,
                  AudioInfo *originalInfo)
{
    samples->clear();
    if (targetSampleRate < 0)
        return Status::failure(
            QStringLiteral("invalid target sample rate %1 Hz").arg(targetSampleRate));
    QString error;
    SF_INFO sfInfo;
    SndFileHandle sound = openFromPath(path, &sfInfo, &error);
    if (!sound)
        return Status::failure(error);
    if (sfInfo.channels <= 0 || sfInfo.samplerate <= 0)
        return Status::failure(QStringLiteral("the header gives %1 channels at %2 Hz")
                                   .arg(sfInfo.channels)
                                   .arg(sfInfo.samplerate));

    const int channels = sfInfo.channels;
    std::vector<float> mono;
    if (sfInfo.frames > 0 && sfInfo.frames < (sf_count_t(1) << 34))
        mono.reserve(size_t(sfInfo.frames));
    constexpr sf_count_t kChunkFrames = 65536;
    std::vector<float> chunk(size_t(kChunkFrames) * size_t(channels));
    for (;;) {
        const sf_count_t got = sf_readf_float(sound.get(), chunk.data(), kChunkFrames);
        if (got <= 0)
            break;
        if (channels == 1) {
            mono.insert(mono.end(), chunk.begin(), chunk.begin() + got);
            continue;
        }
        const float scale = 1.0f / float(channels);
        for (sf_count_t frame = 0; frame < got; ++frame) {
            const float *values = chunk.data() + frame * channels;
            float sum = 0;
            for (int c = 0; c < channels; ++c)
                sum += values[c];
            mono.push_back(sum * scale);
        }
    }
    if (mono.empty())
        return Status::failure(QStringLiteral("no audio frames"));

    if (originalInfo) {
        originalInfo->sampleRate = sfInfo.samplerate;
        originalInfo->channels = channels;
        originalInfo->frames = qint64(mono.size());
        originalInfo->durationSeconds = double(mono.size()) / sfInfo.samplerate;
        originalInfo->formatName = formatName(sfInfo.format);
    }

    if (targetSampleRate == 0 || targetSampleRate == sfInfo.samplerate) {
        *samples = std::move(mono);
        return Status::success();
    }

    const double ratio = double(targetSampleRate) / sfInfo.samplerate;
    const size_t outputLength = size_t(std::llround(double(mono.size()) * ratio));
    samples->assign(outputLength, 0.0f);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    size_t produced = 0;
    const soxr_error_t soxrError =
        soxr_oneshot(sfInfo.samplerate, targetSampleRate, 1, mono.data(), mono.size(), nullptr,
                     samples->data(), outputLength, &produced, nullptr, &quality, nullptr);
    if (soxrError) {
        samples->clear();
        return Status::failure(QStringLiteral("resampling from %1 Hz to %2 Hz failed: %3")
                                   .arg(sfInfo.samplerate)
                                   .arg(targetSampleRate)
                                   .arg(QString::fromLatin1(soxrError)));
    }
    // soxr delivers the whole flushed output in one shot; anything short stays as silence so
    // the duration matches the original exactly.
    return Status::success();
}

Status speedPerturb(const std::vector<float> &samples, int sampleRate, double rate,
                    std::vector<float> *out)
{
    if (!(rate > 0 && rate <= 4))
        return Status::failure(
            QStringLiteral("speed perturbation needs a rate in (0, 4], not %1").arg(rate));
    if (rate == 1 || samples.empty()) {
        *out = samples;
        return Status::success();
    }
    const double inputRate = double(sampleRate) * rate;
    const size_t outputLength = size_t(std::llround(double(samples.size()) / rate));
    out->assign(outputLength, 0.0f);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    size_t produced = 0;
    const soxr_error_t soxrError =
        soxr_oneshot(inputRate, sampleRate, 1, samples.data(), samples.size(), nullptr, out->data(),
                     outputLength, &produced, nullptr, &quality, nullptr);
    if (soxrError) {
        out->clear();
        return Status::failure(QStringLiteral("speed perturbation at %1 failed: %2")
                                   .arg(rate)
                                   .arg(QString::fromLatin1(soxrError)));
    }
    return Status::success();
}

QString speedKey(const QString &contentHash, double rate)
{
    return rate == 1 ? contentHash : QStringLiteral("%1-speed%2").arg(contentHash).arg(rate);
}

} // namespace emolens
