// Fuzz target: GenericFormat::scan of a manifest. The input is written as manifest.tsv when its
// first line holds a tab, else as manifest.csv; the folder holds a few audio files the manifest
// may name (audio/a.wav, audio/b.wav, c.flac, "sub dir/d.wav"). An input with an odd length is
// scanned with the "4class" mapping, an even one with "original".

#include "ScanInvariants.h"
#include "ScratchCorpus.h"

#include "corpus/formats/GenericFormat.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const emolens::fuzz::ScratchCorpus corpus(
        QStringLiteral("generic"), {"audio/a.wav", "audio/b.wav", "c.flac", "sub dir/d.wav"});
    static const emolens::GenericFormat format;
    static const QString csv = QStringLiteral("manifest.csv");
    static const QString tsv = QStringLiteral("manifest.tsv");

    const std::uint8_t *end = data + size;
    const std::uint8_t *lineEnd = std::find(data, end, std::uint8_t('\n'));
    const bool isTsv = std::find(data, lineEnd, std::uint8_t('\t')) != lineEnd;
    corpus.remove(isTsv ? csv : tsv);
    corpus.write(isTsv ? tsv : csv, data, size);

    const QString mapping = size % 2 == 1 ? QStringLiteral("4class") : QStringLiteral("original");
    emolens::SilentProgress progress;
    const emolens::CorpusScan scan = format.scan(corpus.root(), mapping, progress);
    emolens::fuzz::checkScan(scan, corpus.root(), /*insideRoot=*/false);
    return 0;
}
