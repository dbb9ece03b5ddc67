// Fuzz target: IemocapFormat::scan over one dialog's label files. The input is the dialog's
// EmoEvaluation text, optionally followed by a NUL byte and its transcription text; three of
// the dialog's utterances have audio. An input with an odd length is scanned with the
// "original" mapping, an even one with "4class".

#include "ScanInvariants.h"
#include "ScratchCorpus.h"

#include "corpus/formats/IemocapFormat.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const emolens::fuzz::ScratchCorpus corpus(
        QStringLiteral("iemocap"),
        {"Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav",
         "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M000.wav",
         "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F001.wav"});
    static const emolens::IemocapFormat format;
    static const QString evaluation =
        QStringLiteral("Session1/dialog/EmoEvaluation/Ses01F_impro01.txt");
    static const QString transcription =
        QStringLiteral("Session1/dialog/transcriptions/Ses01F_impro01.txt");

    const std::uint8_t *end = data + size;
    const std::uint8_t *separator = std::find(data, end, std::uint8_t(0));
    corpus.write(evaluation, data, std::size_t(separator - data));
    if (separator == end)
        corpus.remove(transcription);
    else
        corpus.write(transcription, separator + 1, std::size_t(end - separator - 1));

    const QString mapping = size % 2 == 1 ? QStringLiteral("original") : QStringLiteral("4class");
    emolens::SilentProgress progress;
    const emolens::CorpusScan scan = format.scan(corpus.root(), mapping, progress);
    emolens::fuzz::checkScan(scan, corpus.root(), /*insideRoot=*/true);
    return 0;
}
