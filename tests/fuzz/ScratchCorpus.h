#pragma once
// ScratchCorpus: a corpus folder in a temporary directory that lives as long as the fuzz target's
// process, laid out once (empty audio files where a format expects them) so that each input only
// rewrites the label file it is about. Formats read file names, never audio bytes, during a
// scan, so empty .wav files are enough. One thread only, as libFuzzer calls the target.

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QString>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

namespace emolens::fuzz {

class ScratchCorpus
{
public:
    // `folderName` is the corpus folder (the scan takes its name as the corpus name).
    ScratchCorpus(const QString &folderName, std::initializer_list<const char *> emptyFiles)
    {
        if (!m_dir.isValid() || !QDir(m_dir.path()).mkdir(folderName)) {
            std::fprintf(stderr, "cannot create a temporary corpus folder\n");
            std::abort();
        }
        m_root = QDir(m_dir.path()).filePath(folderName);
        for (const char *relative : emptyFiles)
            write(QString::fromUtf8(relative), nullptr, 0);
    }

    const QString &root() const { return m_root; }
    QString path(const QString &relative) const { return QDir(m_root).filePath(relative); }

    // Replaces the file at `relative` (parent folders made as needed) with `size` bytes.
    void write(const QString &relative, const std::uint8_t *data, std::size_t size) const
    {
        const QString target = path(relative);
        QFile file(target);
        if (!QDir().mkpath(QFileInfo(target).absolutePath()) ||
            !file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
            (size > 0 &&
             file.write(reinterpret_cast<const char *>(data), qint64(size)) != qint64(size))) {
            std::fprintf(stderr, "cannot write %s\n", qPrintable(target));
            std::abort();
        }
    }

    void remove(const QString &relative) const { QFile::remove(path(relative)); }

private:
    QTemporaryDir m_dir;
    QString m_root;
};

} // namespace emolens::fuzz
