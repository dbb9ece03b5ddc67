// emolens-cli features: all hidden layers of one audio file, for scripts and for checking the
// encoders against other implementations. The only CLI translation unit that sees Torch.

#include "CliCommands.h"

#include "SafeTensorsWriter.h"
#include "SpeechEncoder.h"
#include "audio/AudioFile.h"
#include "features/EncoderCatalog.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <cstdio>
#include <torch/torch.h>

namespace emolens::cli {

int featuresCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(encoderOption());
    parser.addOption({QStringLiteral("in"),
                      QStringLiteral("The audio file (any rate, any channels)."),
                      QStringLiteral("AUDIO")});
    parser.addOption({QStringLiteral("out"), QStringLiteral("The safetensors file to write."),
                      QStringLiteral("OUT.safetensors")});
    parser.addOption(deviceOption());
    parser.addOption(precisionOption());
    if (int code = parse(parser, arguments,
                         QStringLiteral("Run a speech encoder over one audio file and write every "
                                        "hidden layer as the tensor hidden_states [layers, frames, "
                                        "dim] (float32) to a safetensors file."));
        code >= 0)
        return code;
    const QString in = parser.value(QStringLiteral("in"));
    const QString out = parser.value(QStringLiteral("out"));
    if (in.isEmpty() || out.isEmpty())
        return fail(
            QStringLiteral("features needs --in AUDIO and --out OUT.safetensors (see --help)"));
    QString device;
    if (auto st = EncoderCatalog::resolveDevice(parser.value(QStringLiteral("device")), &device);
        !st)
        return fail(st.error());

    std::vector<float> samples;
    if (auto st = decodeMono(in, &samples, SpeechEncoder::kSampleRate); !st)
        return fail(QStringLiteral("%1: %2").arg(in, st.error()));

    std::unique_ptr<SpeechEncoder> encoder;
    if (auto st = EncoderCatalog::loadEncoder(parser.value(QStringLiteral("encoder")), device, 0,
                                              &encoder, nullptr, false,
                                              parser.value(QStringLiteral("precision")));
        !st)
        return fail(st.error());

    QElapsedTimer clock;
    clock.start();
    HiddenStates states;
    try {
        const at::Tensor waveform =
            torch::from_blob(samples.data(), {1, std::int64_t(samples.size())}, torch::kFloat32);
        if (ModelStatus st = encoder->encode(waveform, {}, states); !st)
            return fail(QStringLiteral("%1: %2").arg(in, QString::fromStdString(st.error())));
        const std::int64_t frames = states.frameLengths.at(0);
        const at::Tensor layers = states.layers.select(1, 0)
                                      .slice(1, 0, frames)
                                      .to(torch::kCPU, torch::kFloat32)
                                      .contiguous();
        const double seconds = clock.elapsed() / 1000.0;

        SafeTensorsWriter writer;
        writer.setMetadata("encoder", encoder->identity());
        writer.setMetadata("source", in.toStdString());
        writer.setMetadata("frames_per_second",
                           QString::number(encoder->framesPerSecond()).toStdString());
        if (ModelStatus st = writer.add("hidden_states", TensorDtype::F32,
                                        {layers.size(0), layers.size(1), layers.size(2)},
                                        layers.data_ptr<float>(), std::uint64_t(layers.nbytes()));
            !st)
            return fail(QString::fromStdString(st.error()));
        if (ModelStatus st = writer.write(out.toStdString()); !st)
            return fail(QString::fromStdString(st.error()));
        const double audioSeconds = double(samples.size()) / SpeechEncoder::kSampleRate;
        std::printf("Wrote %s: hidden_states [%lld layers, %lld frames, %lld dims] from %.2f s of "
                    "audio in %.2f s (%s, %s)\n",
                    qPrintable(out), static_cast<long long>(layers.size(0)),
                    static_cast<long long>(layers.size(1)), static_cast<long long>(layers.size(2)),
                    audioSeconds, seconds, encoder->identity().c_str(),
                    encoder->device().str().c_str());
    } catch (const std::exception &e) {
        return fail(QStringLiteral("%1: %2").arg(in, QString::fromUtf8(e.what())));
    }
    return 0;
}

} // namespace emolens::cli
