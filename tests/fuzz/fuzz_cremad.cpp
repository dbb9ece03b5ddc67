// Fuzz target: CremaDFormat::scan with the input as VideoDemographics.csv (ActorID, Age, Sex,
// Race, Ethnicity) beside AudioWAV/, which holds clips of three actors. An input with an odd
// length is scanned with the "4class" mapping, an even one with "original".

#include "ScanInvariants.h"
#include "ScratchCorpus.h"

#include "corpus/formats/CremaDFormat.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const emolens::fuzz::ScratchCorpus corpus(
        QStringLiteral("cremad"), {"AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1001_IEO_HAP_HI.wav",
                                   "AudioWAV/1002_TIE_SAD_LO.wav", "AudioWAV/1091_MTI_FEA_MD.wav"});
    static const emolens::CremaDFormat format;

    corpus.write(QStringLiteral("VideoDemographics.csv"), data, size);

    const QString mapping = size % 2 == 1 ? QStringLiteral("4class") : QStringLiteral("original");
    emolens::SilentProgress progress;
    const emolens::CorpusScan scan = format.scan(corpus.root(), mapping, progress);
    emolens::fuzz::checkScan(scan, corpus.root(), /*insideRoot=*/true);
    return 0;
}
