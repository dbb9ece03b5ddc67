// The encoders as a user meets them: the Transformers reproduce torchaudio's reference
// models layer by layer (fixtures made by make_parity_fixtures.py), a padded batch gives each
// clip the features it gets alone, WavLM's relative position bias behaves, and fbank yields
// normalised 80-band frames at 50 frames/s.

#include "FbankEncoder.h"
#include "ModelTest.h"
#include "SelfSupervisedEncoder.h"
#include "SpeechEncoder.h"
#include "TensorFiles.h"

#include <cmath>
#include <iomanip>

using namespace emolens;
using namespace emolens::modeltest;

namespace {

constexpr double kParityTolerance = 1e-4;
constexpr double kPaddingTolerance = 1e-5;
const char *const kFixtures[] = {"wav2vec2-tiny-base", "wav2vec2-tiny-large", "hubert-tiny-base"};

at::Tensor utterance()
{
    return readTensor(fixtureDir("utterance.safetensors"), "waveform"); // [1, 16000]
}

std::int64_t shortSamples()
{
    std::unique_ptr<SafeTensorsFile> file;
    REQUIRE_OK(SafeTensorsFile::open(fixtureDir("utterance.safetensors"), file));
    return std::stoll(file->metadata().at("short_samples"));
}

std::unique_ptr<SpeechEncoder> load(const std::string &folder,
                                    EncoderPath path = EncoderPath::Automatic,
                                    EncoderPrecision precision = EncoderPrecision::Float32)
{
    std::unique_ptr<SpeechEncoder> encoder;
    EncoderOptions options;
    options.threadCount = 2;
    options.path = path;
    options.precision = precision;
    REQUIRE_OK(SpeechEncoder::loadFolder(folder, options, encoder));
    return encoder;
}

// Both ways of laying out a batch (on the CPU, as a GPU would take it): each test that loops
// over them holds for both.
const EncoderPath kPaths[] = {EncoderPath::PerClip, EncoderPath::Batched};

const char *pathName(EncoderPath path)
{
    return path == EncoderPath::Batched ? "batched" : "per clip";
}

HiddenStates encode(const SpeechEncoder &encoder, const at::Tensor &waveforms,
                    const std::vector<std::int64_t> &lengths = {})
{
    HiddenStates states;
    REQUIRE_OK(encoder.encode(waveforms, lengths, states));
    return states;
}

// Row `row` of a padded batch against the same clip encoded alone, valid frames only.
double paddedRowDiff(const HiddenStates &batch, std::int64_t row, const HiddenStates &alone)
{
    const std::int64_t frames = alone.layers.size(2);
    REQUIRE(batch.frameLengths[static_cast<std::size_t>(row)] == frames);
    return maxAbsDiff(batch.layers.select(1, row).narrow(1, 0, frames), alone.layers.select(1, 0));
}

// A batch of [the first `shortLength` samples padded with noise, the whole utterance].
at::Tensor paddedBatch(const at::Tensor &wave, std::int64_t shortLength)
{
    at::Tensor batch = wave.repeat({2, 1});
    batch[0].narrow(0, shortLength, wave.size(1) - shortLength).normal_();
    return batch;
}

} // namespace

MODEL_TEST(encoder_matches_torchaudio_on_every_layer)
{
    const at::Tensor wave = utterance();
    for (const EncoderPath path : kPaths)
        for (const char *fixture : kFixtures) {
            const std::string folder = fixtureDir(fixture);
            const auto encoder = load(folder, path);
            const at::Tensor reference = readTensor(folder + "/reference.safetensors",
                                                    "hidden_states"); // [3, 1, 49, 32]
            VERIFY(encoder->layerCount() == 3);
            VERIFY(encoder->hiddenSize() == 32);
            VERIFY(encoder->framesPerSecond() == 50.0);
            VERIFY(encoder->frameCount(wave.size(1)) == reference.size(2));
            const HiddenStates states = encode(*encoder, wave);
            REQUIRE(states.layers.sizes() == reference.sizes());
            VERIFY(states.frameLengths == std::vector<std::int64_t>{reference.size(2)});
            std::cout << "  " << fixture << " (" << pathName(path) << ") max abs diff per layer:";
            for (std::int64_t layer = 0; layer < reference.size(0); ++layer) {
                const double diff = maxAbsDiff(states.layers[layer], reference[layer]);
                std::cout << " " << std::scientific << std::setprecision(2) << diff;
                VERIFY_MSG(diff <= kParityTolerance,
                           fixture << " " << pathName(path) << " layer " << layer << ": " << diff);
            }
            std::cout << " (reference magnitude " << std::fixed << std::setprecision(2)
                      << reference.abs().max().item<double>() << ")" << std::endl;
        }
}

MODEL_TEST(encoder_gives_a_padded_clip_the_features_it_gets_alone)
{
    const at::Tensor wave = utterance();
    const std::int64_t shortLength = shortSamples();
    const at::Tensor batch = paddedBatch(wave, shortLength);
    for (const EncoderPath path : kPaths)
        for (const char *fixture : kFixtures) {
            const std::string folder = fixtureDir(fixture);
            const auto encoder = load(folder, path);
            const HiddenStates padded = encode(*encoder, batch, {shortLength, wave.size(1)});
            const HiddenStates alone = encode(*encoder, wave.narrow(1, 0, shortLength));
            const HiddenStates full = encode(*encoder, wave);
            VERIFY(
                padded.frameLengths ==
                (std::vector<std::int64_t>{encoder->frameCount(shortLength), full.layers.size(2)}));
            const double shortDiff = paddedRowDiff(padded, 0, alone);
            const double fullDiff = paddedRowDiff(padded, 1, full);
            VERIFY_MSG(shortDiff <= kPaddingTolerance, fixture << ": " << shortDiff);
            VERIFY_MSG(fullDiff <= kPaddingTolerance, fixture << ": " << fullDiff);
            // And against torchaudio's run of the short clip alone.
            const at::Tensor reference =
                readTensor(folder + "/reference.safetensors", "hidden_states_short");
            const double referenceDiff = maxAbsDiff(
                padded.layers.select(1, 0).narrow(1, 0, reference.size(2)), reference.select(1, 0));
            VERIFY_MSG(referenceDiff <= kParityTolerance, fixture << ": " << referenceDiff);
            // Padding frames are zero, not noise.
            const at::Tensor tail = padded.layers.select(1, 0).narrow(
                1, reference.size(2), padded.layers.size(2) - reference.size(2));
            VERIFY(tail.abs().max().item<double>() == 0.0);
            std::cout << "  " << fixture << " (" << pathName(path)
                      << ") padded vs alone: " << std::scientific << std::setprecision(2)
                      << std::max(shortDiff, fullDiff)
                      << ", padded vs torchaudio: " << referenceDiff << std::endl;
        }
}

MODEL_TEST(encoder_identity_follows_the_weights)
{
    const auto base = load(fixtureDir("wav2vec2-tiny-base"));
    const auto again = load(fixtureDir("wav2vec2-tiny-base"));
    const auto hubert = load(fixtureDir("hubert-tiny-base"));
    VERIFY(base->identity() == again->identity());
    VERIFY(base->identity() != hubert->identity());
    VERIFY(base->identity().rfind("wav2vec2-", 0) == 0);
    VERIFY(hubert->identity().rfind("hubert-", 0) == 0);

    ScratchFolder scratch;
    copyFixture("wav2vec2-tiny-base", scratch.path(), [](std::string &name, at::Tensor &t) {
        if (name == "wav2vec2.encoder.layers.1.final_layer_norm.bias")
            t = t.clone().add_(1e-3);
        return true;
    });
    VERIFY(load(scratch.path())->identity() != base->identity());
}

MODEL_TEST(encoder_handles_short_and_bad_input_without_crashing)
{
    for (const EncoderPath path : kPaths) {
        const auto encoder = load(fixtureDir("hubert-tiny-base"), path);
        // Shorter than the receptive field (400 samples): no frames, no error.
        const HiddenStates tiny = encode(*encoder, at::zeros({2, 300}));
        VERIFY(tiny.layers.sizes() == (std::vector<std::int64_t>{3, 2, 0, 32}));
        // One clip empty inside a real batch.
        const at::Tensor wave = utterance();
        // Every clip too short for a frame in a wide batch, and a clip of a few frames.
        const HiddenStates none = encode(*encoder, wave.repeat({2, 1}), {0, 399});
        VERIFY(none.frameLengths == (std::vector<std::int64_t>{0, 0}));
        VERIFY(none.layers.abs().max().item<double>() == 0.0);
        const HiddenStates few = encode(*encoder, wave.narrow(1, 0, 2000));
        VERIFY(few.frameLengths == std::vector<std::int64_t>{6});
        VERIFY(!at::isnan(few.layers).any().item<bool>());
        const HiddenStates mixed = encode(*encoder, wave.repeat({2, 1}), {0, wave.size(1)});
        VERIFY(mixed.frameLengths[0] == 0);
        VERIFY(mixed.layers.select(1, 0).abs().max().item<double>() == 0.0);
        VERIFY(!at::isnan(mixed.layers).any().item<bool>());
        // NaN in the padding stays out of the features.
        at::Tensor poisoned = wave.repeat({2, 1});
        poisoned[0].narrow(0, 8000, 8000).fill_(NAN);
        const HiddenStates clean = encode(*encoder, poisoned, {8000, wave.size(1)});
        VERIFY(!at::isnan(clean.layers).any().item<bool>());

        HiddenStates out;
        VERIFY(!encoder->encode(at::zeros({16000}), {}, out).ok());
        VERIFY(!encoder->encode(at::zeros({2, 16000}), {16000}, out).ok());
        VERIFY(!encoder->encode(at::zeros({1, 16000}), {16001}, out).ok());
        VERIFY(!encoder->encode(at::zeros({1, 16000}, at::kLong), {}, out).ok());
        VERIFY(!out.layers.defined());
    }
}

MODEL_TEST(encoder_is_deterministic)
{
    const auto encoder = load(fixtureDir("wav2vec2-tiny-large"));
    const at::Tensor wave = utterance();
    VERIFY(at::equal(encode(*encoder, wave).layers, encode(*encoder, wave).layers));
}

MODEL_TEST(wavlm_without_position_bias_is_wav2vec2)
{
    // WavLM is wav2vec 2.0 plus a gated relative position bias: with the bias table at zero,
    // the torchaudio reference of the same weights must come out, for post-LN and pre-LN.
    const at::Tensor wave = utterance();
    for (const char *fixture : {"wav2vec2-tiny-base", "wav2vec2-tiny-large"}) {
        ScratchFolder scratch;
        makeWavlm(fixture, scratch.path(), 0.0);
        const auto encoder = load(scratch.path());
        VERIFY(encoder->identity().rfind("wavlm-", 0) == 0);
        const at::Tensor reference =
            readTensor(fixtureDir(fixture) + "/reference.safetensors", "hidden_states");
        const double diff = maxAbsDiff(encode(*encoder, wave).layers, reference);
        VERIFY_MSG(diff <= kParityTolerance, fixture << ": " << diff);
    }
}

MODEL_TEST(wavlm_position_bias_changes_features_and_respects_padding)
{
    const at::Tensor wave = utterance();
    const std::int64_t shortLength = shortSamples();
    for (const EncoderPath path : kPaths)
        for (const char *fixture : {"wav2vec2-tiny-base", "wav2vec2-tiny-large"}) {
            ScratchFolder scratch;
            makeWavlm(fixture, scratch.path(), 1.0);
            const auto encoder = load(scratch.path(), path);
            const HiddenStates full = encode(*encoder, wave);
            VERIFY(full.layers.sizes() == (std::vector<std::int64_t>{3, 1, 49, 32}));
            VERIFY(at::equal(full.layers, encode(*encoder, wave).layers));
            const at::Tensor reference =
                readTensor(fixtureDir(fixture) + "/reference.safetensors", "hidden_states");
            // Layer 0 precedes attention, so only the Transformer layers move.
            VERIFY(maxAbsDiff(full.layers[0], reference[0]) <= kParityTolerance);
            VERIFY(maxAbsDiff(full.layers[2], reference[2]) > 1e-2);

            const HiddenStates padded =
                encode(*encoder, paddedBatch(wave, shortLength), {shortLength, wave.size(1)});
            const HiddenStates alone = encode(*encoder, wave.narrow(1, 0, shortLength));
            const double shortDiff = paddedRowDiff(padded, 0, alone);
            const double fullDiff = paddedRowDiff(padded, 1, full);
            VERIFY_MSG(shortDiff <= kPaddingTolerance,
                       fixture << " " << pathName(path) << ": " << shortDiff);
            VERIFY_MSG(fullDiff <= kPaddingTolerance,
                       fixture << " " << pathName(path) << ": " << fullDiff);
        }
}

MODEL_TEST(encoder_long_clips_give_what_the_batched_path_gives)
{
    // A 75 s clip: the per-clip path computes attention in blocks of query rows (2 heads x
    // 3,749 frames: 559 rows a block, 7 blocks), and WavLM's bias block by block too (2 x
    // 3,749^2 elements is past what is kept whole); the batched path takes the whole score
    // matrix at once. Same features, for HuBERT and for WavLM; a shorter clip padded beside it
    // keeps its own.
    const at::Tensor wave = utterance();
    const at::Tensor longClip = wave.repeat({1, 75}) + at::randn({1, 75 * wave.size(1)}) * 0.01;
    const std::int64_t shortLength = 20 * wave.size(1) + 123;
    at::Tensor batch = longClip.repeat({2, 1});
    batch[1].narrow(0, shortLength, batch.size(1) - shortLength).normal_();
    ScratchFolder scratch;
    makeWavlm("wav2vec2-tiny-base", scratch.path(), 1.0);
    for (const std::string &folder : {fixtureDir("hubert-tiny-base"), scratch.path()}) {
        const auto perClip = load(folder, EncoderPath::PerClip);
        const auto batched = load(folder, EncoderPath::Batched);
        const std::vector<std::int64_t> lengths = {longClip.size(1), shortLength};
        const HiddenStates a = encode(*perClip, batch, lengths);
        const HiddenStates b = encode(*batched, batch, lengths);
        VERIFY(a.frameLengths == b.frameLengths);
        VERIFY(a.layers.size(2) == 3749);
        const double diff = maxAbsDiff(a.layers, b.layers);
        VERIFY_MSG(diff <= kPaddingTolerance, folder << ": " << diff);
        std::cout << "  " << perClip->identity().substr(0, 6)
                  << " 75 s + 20 s, per clip in blocks vs batched: " << std::scientific
                  << std::setprecision(2) << diff << std::endl;
    }
}

MODEL_TEST(encoder_bf16_stays_near_fp32_and_has_its_own_identity)
{
    // bfloat16 keeps 8 significant bits: each layer's features stay within a few percent of
    // float32's (relative to the layer's magnitude), on both paths, padding still zero, and
    // the identity - the feature cache key - differs.
    const at::Tensor wave = utterance();
    const std::int64_t shortLength = shortSamples();
    for (const EncoderPath path : kPaths)
        for (const char *fixture : kFixtures) {
            const std::string folder = fixtureDir(fixture);
            const auto fp32 = load(folder, path);
            const auto bf16 = load(folder, path, EncoderPrecision::BFloat16);
            VERIFY(bf16->identity() == fp32->identity() + "-bf16");
            const HiddenStates exact = encode(*fp32, wave);
            const HiddenStates rough =
                encode(*bf16, paddedBatch(wave, shortLength), {shortLength, wave.size(1)});
            VERIFY(rough.layers.scalar_type() == at::kFloat);
            std::cout << "  " << fixture << " (" << pathName(path)
                      << ") bf16 vs fp32, max abs diff "
                      << "/ layer magnitude:";
            for (std::int64_t layer = 0; layer < exact.layers.size(0); ++layer) {
                const double magnitude = exact.layers[layer].abs().max().item<double>();
                const double relative =
                    maxAbsDiff(rough.layers[layer].select(0, 1), exact.layers[layer].select(0, 0)) /
                    magnitude;
                std::cout << " " << std::fixed << std::setprecision(4) << relative;
                VERIFY_MSG(relative < 0.05, fixture << " layer " << layer << ": " << relative);
            }
            std::cout << std::endl;
            const std::int64_t shortFrames = rough.frameLengths[0];
            const at::Tensor tail = rough.layers.select(1, 0).narrow(
                1, shortFrames, rough.layers.size(2) - shortFrames);
            VERIFY(tail.abs().max().item<double>() == 0.0);
        }
    EncoderPrecision precision = EncoderPrecision::Float32;
    VERIFY(parsePrecision("bf16", precision) && precision == EncoderPrecision::BFloat16);
    VERIFY(parsePrecision("fp32", precision) && precision == EncoderPrecision::Float32);
    VERIFY(!parsePrecision("fp16", precision));
    VERIFY(std::string(precisionName(EncoderPrecision::BFloat16)) == "bf16");
}

MODEL_TEST(wavlm_buckets_follow_the_published_scheme)
{
    // Expected values computed with the bucket formula of WavLM's reference code
    // (num_buckets 320, max_distance 800) for 1200 frames.
    const at::Tensor buckets =
        SelfSupervisedEncoder::relativePositionBuckets(1200, 320, 800, c10::Device(c10::kCPU));
    const std::int64_t expected[][3] = {
        {0, 0, 0},     {5, 4, 1},      {4, 5, 161},    {0, 79, 239},  {0, 80, 240},
        {0, 81, 240},  {100, 0, 87},   {0, 100, 247},  {0, 250, 279}, {0, 799, 319},
        {0, 800, 319}, {1100, 0, 159}, {0, 1199, 319}, {600, 37, 147}};
    for (const auto &[query, key, bucket] : expected) {
        const std::int64_t got = buckets[query][key].item<std::int64_t>();
        VERIFY_MSG(got == bucket, "(" << query << ", " << key << "): " << got << " vs " << bucket);
    }
    VERIFY(buckets.min().item<std::int64_t>() == 0);
    VERIFY(buckets.max().item<std::int64_t>() == 319);
}

MODEL_TEST(wavlm_needs_its_bias_tensors)
{
    ScratchFolder scratch;
    makeWavlm("wav2vec2-tiny-base", scratch.path(), 1.0);
    std::string bytes = readBytes(scratch.file("model.safetensors"));
    const std::string name = "wavlm.encoder.layers.0.attention.rel_attn_embed.weight";
    replaceOnce(bytes, "\"" + name + "\"", "\"" + std::string(name.size(), 'x') + "\"");
    writeBytes(scratch.file("model.safetensors"), bytes);
    std::unique_ptr<SpeechEncoder> encoder;
    const ModelStatus status = SpeechEncoder::loadFolder(scratch.path(), {}, encoder);
    VERIFY(!status.ok() && encoder == nullptr);
    VERIFY_MSG(contains(status.error(), name) && contains(status.error(), "missing"),
               status.error());
}

MODEL_TEST(fbank_gives_normalised_bands_at_50_frames_per_second)
{
    std::unique_ptr<SpeechEncoder> fbank;
    REQUIRE_OK(SpeechEncoder::createFbank({}, fbank));
    VERIFY(fbank->identity() == "fbank-v1");
    VERIFY(fbank->layerCount() == 1 && fbank->hiddenSize() == 80);
    VERIFY(fbank->framesPerSecond() == 50.0);
    const at::Tensor wave = utterance();
    // 98 windows of 25 ms every 10 ms in one second, pooled in pairs.
    VERIFY(fbank->frameCount(16000) == 49);
    VERIFY(fbank->frameCount(399) == 0);
    const HiddenStates states = encode(*fbank, wave);
    REQUIRE(states.layers.sizes() == (std::vector<std::int64_t>{1, 1, 49, 80}));
    VERIFY(states.frameLengths == std::vector<std::int64_t>{49});
    // All 98 windows are used, so each band's pooled mean is still zero; pooling pairs can
    // only shrink the spread.
    const at::Tensor frames = states.layers[0][0];
    VERIFY(frames.mean(0).abs().max().item<double>() < 1e-4);
    const double spread = frames.std(0, /*unbiased=*/false).max().item<double>();
    VERIFY_MSG(spread > 0.5 && spread <= 1.0 + 1e-4, spread);
}

MODEL_TEST(fbank_puts_a_tone_in_its_band_and_ignores_padding)
{
    std::unique_ptr<SpeechEncoder> fbank;
    REQUIRE_OK(SpeechEncoder::createFbank({}, fbank));
    // A 1 kHz tone over noise: the band whose triangle centres nearest 1 kHz (HTK mel, 80
    // bands from 20 Hz to 8 kHz) must be the loudest one, before normalisation flattens it,
    // so compare against a noise-only clip.
    at::manual_seed(3);
    const at::Tensor t = at::arange(16000, at::kFloat) / 16000.0;
    const at::Tensor noise = at::randn({16000}) * 0.01;
    const at::Tensor tone = (t * (2.0 * 3.14159265358979 * 1000.0)).sin() * 0.5;
    const at::Tensor clip = at::stack({tone * (t < 0.5).to(at::kFloat) + noise, noise});
    const HiddenStates states = encode(*fbank, clip);
    const at::Tensor withTone = states.layers[0][0].narrow(0, 0, 20).mean(0);
    const at::Tensor later = states.layers[0][0].narrow(0, 29, 20).mean(0);
    const std::int64_t loudest = (withTone - later).argmax().item<std::int64_t>();
    const auto mel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
    const double step = (mel(8000.0) - mel(20.0)) / 81.0;
    const auto expected =
        static_cast<std::int64_t>(std::lround((mel(1000.0) - mel(20.0)) / step)) - 1;
    VERIFY_MSG(std::abs(loudest - expected) <= 1, loudest << " vs " << expected);

    const std::int64_t shortLength = 9000;
    at::Tensor batch = clip.clone();
    batch[1].narrow(0, shortLength, 16000 - shortLength).normal_();
    const HiddenStates padded = encode(*fbank, batch, {16000, shortLength});
    const HiddenStates alone = encode(*fbank, clip[1].narrow(0, 0, shortLength).unsqueeze(0));
    VERIFY(padded.frameLengths == (std::vector<std::int64_t>{49, fbank->frameCount(shortLength)}));
    VERIFY(paddedRowDiff(padded, 1, alone) <= kPaddingTolerance);
    VERIFY(paddedRowDiff(padded, 0, encode(*fbank, clip[0].unsqueeze(0))) <= kPaddingTolerance);
}
