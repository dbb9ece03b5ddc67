// Fuzz target: MspPodcastFormat::scan over its label table. An input whose first non-blank
// byte is '{' or '[' is written as Labels/labels_consensus.json, any other as
// Labels/labels_consensus.csv. Three files exist under Audios/. An input with an odd length is
// scanned with the "4class" mapping, an even one with "original".

#include "ScanInvariants.h"
#include "ScratchCorpus.h"

#include "corpus/formats/MspPodcastFormat.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const emolens::fuzz::ScratchCorpus corpus(QStringLiteral("msp-podcast"),
                                                     {"Audios/MSP-PODCAST_0001_0001.wav",
                                                      "Audios/MSP-PODCAST_0001_0004.wav",
                                                      "Audios/MSP-PODCAST_0002_0001.wav"});
    static const emolens::MspPodcastFormat format;
    static const QString json = QStringLiteral("Labels/labels_consensus.json");
    static const QString csv = QStringLiteral("Labels/labels_consensus.csv");

    std::size_t first = 0;
    while (first < size && (data[first] == ' ' || data[first] == '\t' || data[first] == '\n' ||
                            data[first] == '\r'))
        ++first;
    const bool isJson = first < size && (data[first] == '{' || data[first] == '[');
    corpus.remove(isJson ? csv : json);
    corpus.write(isJson ? json : csv, data, size);

    const QString mapping = size % 2 == 1 ? QStringLiteral("4class") : QStringLiteral("original");
    emolens::SilentProgress progress;
    const emolens::CorpusScan scan = format.scan(corpus.root(), mapping, progress);
    emolens::fuzz::checkScan(scan, corpus.root(), /*insideRoot=*/true);
    return 0;
}
