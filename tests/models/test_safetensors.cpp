// The JSON reader, the safetensors reader/writer and the model-folder loader: well-formed
// files load, and every kind of bad file (truncated, lying header, out-of-range or overlapping
// offsets, missing or mis-shaped tensor, wrong dtype, unknown model type, malformed JSON)
// fails with a message naming the file and the tensor, never a crash or a half-built model.

#include "Json.h"
#include "ModelTest.h"
#include "ModelWeights.h"
#include "SpeechEncoder.h"
#include "TensorFiles.h"

using namespace emolens;
using namespace emolens::modeltest;

namespace {

// A safetensors file written byte by byte, for headers no writer would produce.
std::string rawSafetensors(const std::string &header, const std::string &data)
{
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i)
        bytes[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    return bytes + header + data;
}

std::string openError(const std::string &path)
{
    std::unique_ptr<SafeTensorsFile> file;
    const ModelStatus status = SafeTensorsFile::open(path, file);
    VERIFY(file == nullptr || status.ok());
    return status.ok() ? std::string() : status.error();
}

std::string loadError(const std::string &folder)
{
    std::unique_ptr<SpeechEncoder> encoder;
    const ModelStatus status = SpeechEncoder::loadFolder(folder, {}, encoder);
    VERIFY(status.ok() == (encoder != nullptr));
    return status.ok() ? std::string() : status.error();
}

} // namespace

MODEL_TEST(json_reads_a_config)
{
    JsonValue value;
    std::string error;
    REQUIRE(JsonValue::parse(R"( {"a": [1, -2.5e1, true, null], "b": "x\u00e9\ud83d\ude00\n",
                                  "big": 9007199254740993} )",
                             value, error));
    REQUIRE(value.isObject());
    const JsonValue *a = value.find("a");
    REQUIRE(a != nullptr && a->isArray() && a->array().size() == 4);
    VERIFY(a->array()[0].isInteger() && a->array()[0].integer() == 1);
    VERIFY(!a->array()[1].isInteger() && a->array()[1].number() == -25.0);
    VERIFY(a->array()[2].boolean());
    VERIFY(a->array()[3].isNull());
    VERIFY(value.find("b")->string() == "x\xc3\xa9\xf0\x9f\x98\x80\n");
    // Offsets above 2^53 stay exact.
    VERIFY(value.find("big")->integer() == 9007199254740993LL);
    VERIFY(value.find("missing") == nullptr);
}

MODEL_TEST(json_rejects_what_is_not_strict_json)
{
    const char *bad[] = {
        "{\"a\": 1,}",
        "[1, 2",
        "{\"a\" 1}",
        "{'a': 1}",
        "{\"a\": 01}",
        "{\"a\": NaN}",
        "// c\n{}",
        "{\"a\": 1} x",
        "{\"a\": 1, \"a\": 2}",
        "\"\\x\"",
        "\"\xff\"",
        "\"\\ud800\"",
        "",
        "-",
        "1.",
        "{\"a\": tru}",
    };
    for (const char *text : bad) {
        JsonValue value;
        std::string error;
        VERIFY_MSG(!JsonValue::parse(text, value, error), text);
        VERIFY_MSG(contains(error, "line ") && contains(error, "column "), error);
    }
    std::string deep(200, '[');
    JsonValue value;
    std::string error;
    VERIFY(!JsonValue::parse(deep, value, error));
    VERIFY_MSG(contains(error, "nested"), error);
    std::string lines = "{\n  \"a\": 1,\n  \"b\": ]\n}";
    VERIFY(!JsonValue::parse(lines, value, error));
    VERIFY_MSG(contains(error, "line 3"), error);
}

MODEL_TEST(safetensors_round_trip)
{
    ScratchFolder scratch;
    const at::Tensor weights = at::arange(12, at::kFloat).view({3, 4});
    const std::vector<std::int64_t> ids = {7, -1, 1LL << 40};
    const std::vector<std::uint16_t> halves = {0x3c00, 0xc000}; // 1.0, -2.0 in F16
    SafeTensorsWriter writer;
    REQUIRE_OK(writer.add("layer.weight", TensorDtype::F32, {3, 4}, weights.data_ptr(), 48));
    REQUIRE_OK(writer.add("ids", TensorDtype::I64, {3}, ids.data(), 24));
    REQUIRE_OK(writer.add("half \"quoted\"", TensorDtype::F16, {2}, halves.data(), 4));
    REQUIRE_OK(writer.add("empty", TensorDtype::F32, {0, 5}, nullptr, 0));
    VERIFY(!writer.add("ids", TensorDtype::I64, {3}, ids.data(), 24).ok());
    VERIFY(!writer.add("short", TensorDtype::F32, {4}, ids.data(), 8).ok());
    writer.setMetadata("format", "pt");
    const std::string path = scratch.file("round.safetensors");
    REQUIRE_OK(writer.write(path));
    VERIFY(!fs::exists(path + ".partial"));

    std::unique_ptr<SafeTensorsFile> file;
    REQUIRE_OK(SafeTensorsFile::open(path, file));
    VERIFY(file->tensors().size() == 4);
    VERIFY(file->metadata().at("format") == "pt");
    // The header is padded so the data section starts 8-byte aligned.
    VERIFY((file->tensors().front().data - file->fileBytes()) % 8 == 0);
    const SafeTensorInfo *w = file->find("layer.weight");
    REQUIRE(w != nullptr);
    VERIFY(w->shape == std::vector<std::int64_t>({3, 4}));
    VERIFY(at::equal(readTensor(path, "layer.weight"), weights));
    const SafeTensorInfo *i = file->find("ids");
    REQUIRE(i != nullptr && i->dtype == TensorDtype::I64);
    VERIFY(std::memcmp(i->data, ids.data(), 24) == 0);
    const SafeTensorInfo *h = file->find("half \"quoted\"");
    REQUIRE(h != nullptr && h->dtype == TensorDtype::F16 && h->byteCount == 4);
    VERIFY(file->find("empty") != nullptr && file->find("empty")->elementCount() == 0);
}

MODEL_TEST(safetensors_reads_the_python_fixture)
{
    const std::string path = fixtureDir("wav2vec2-tiny-base") + "/model.safetensors";
    std::unique_ptr<SafeTensorsFile> file;
    REQUIRE_OK(SafeTensorsFile::open(path, file));
    const SafeTensorInfo *w = file->find("wav2vec2.encoder.layers.0.attention.q_proj.weight");
    REQUIRE(w != nullptr);
    VERIFY(w->dtype == TensorDtype::F32 && w->shapeText() == "[32, 32]");
    VERIFY(file->metadata().at("format") == "pt");
}

MODEL_TEST(safetensors_rejects_broken_files)
{
    ScratchFolder scratch;
    const std::string data(16, '\x01');
    const auto attempt = [&](const std::string &fileName, const std::string &bytes) {
        const std::string path = scratch.file(fileName);
        writeBytes(path, bytes);
        const std::string error = openError(path);
        VERIFY_MSG(contains(error, path), fileName << " -> \"" << error << "\"");
        return error;
    };
    const std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
    writeBytes(scratch.file("good.safetensors"), rawSafetensors(good, data));
    VERIFY(openError(scratch.file("good.safetensors")).empty());

    VERIFY(contains(attempt("empty.safetensors", ""), "too short"));
    VERIFY(contains(attempt("tiny.safetensors", "abc"), "too short"));

    std::string lying = rawSafetensors(good, data);
    lying[0] = '\xff';
    lying[1] = '\xff';
    VERIFY(contains(attempt("lying.safetensors", lying), "runs past the end of the file"));

    const std::string whole = rawSafetensors(good, data);
    std::string error = attempt("truncated.safetensors", whole.substr(0, whole.size() - 5));
    VERIFY_MSG(contains(error, "tensor \"b\"") && contains(error, "past the end"), error);

    error = attempt("out-of-range.safetensors",
                    rawSafetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
                                   data));
    VERIFY_MSG(contains(error, "tensor \"b\"") && contains(error, "[16, 24]"), error);

    error = attempt("overlap.safetensors",
                    rawSafetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                   data));
    VERIFY_MSG(contains(error, "tensor \"b\"") && contains(error, "overlap") &&
                   contains(error, "\"a\""),
               error);

    error = attempt("hole.safetensors",
                    rawSafetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                   data));
    VERIFY_MSG(contains(error, "tensor \"b\"") && contains(error, "belong to no tensor"), error);

    error =
        attempt("trailing.safetensors",
                rawSafetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data));
    VERIFY_MSG(contains(error, "belong to no tensor"), error);

    error = attempt("shape.safetensors",
                    rawSafetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]},)"
                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                   data));
    VERIFY_MSG(contains(error, "tensor \"a\"") && contains(error, "[3]"), error);

    error = attempt("huge-shape.safetensors",
                    rawSafetensors(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],)"
                                   R"("data_offsets":[0,16]}})",
                                   data));
    VERIFY_MSG(contains(error, "tensor \"a\"") && contains(error, "does not match"), error);

    error =
        attempt("dtype.safetensors",
                rawSafetensors(R"({"a":{"dtype":"F33","shape":[4],"data_offsets":[0,16]}})", data));
    VERIFY_MSG(contains(error, "tensor \"a\"") && contains(error, "unknown dtype \"F33\""), error);

    error =
        attempt("json.safetensors",
                rawSafetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})", data));
    VERIFY_MSG(contains(error, "malformed") && contains(error, "line 1"), error);

    error = attempt(
        "negative.safetensors",
        rawSafetensors(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", data));
    VERIFY_MSG(contains(error, "tensor \"a\""), error);
}

MODEL_TEST(loader_loads_single_and_sharded_folders_alike)
{
    ScratchFolder scratch;
    const std::string single = scratch.file("single");
    const std::string sharded = scratch.file("sharded");
    fs::create_directories(single);
    fs::create_directories(sharded);
    copyFixture("wav2vec2-tiny-base", single);

    // Two shards and an index, as save_pretrained writes for large models.
    const auto tensors = readAll(single + "/model.safetensors");
    std::vector<std::pair<std::string, at::Tensor>> first(tensors.begin(), tensors.begin() + 20);
    std::vector<std::pair<std::string, at::Tensor>> second(tensors.begin() + 20, tensors.end());
    writeAll(sharded + "/model-00001-of-00002.safetensors", first);
    writeAll(sharded + "/model-00002-of-00002.safetensors", second);
    std::string index = "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {";
    for (std::size_t i = 0; i < tensors.size(); ++i)
        index += (i ? ",\"" : "\"") + tensors[i].first + "\": \"model-0000" + (i < 20 ? "1" : "2") +
                 "-of-00002.safetensors\"";
    index += "}}";
    writeBytes(sharded + "/model.safetensors.index.json", index);
    writeBytes(sharded + "/config.json", readBytes(single + "/config.json"));

    std::unique_ptr<SpeechEncoder> a, b;
    REQUIRE_OK(SpeechEncoder::loadFolder(single, {}, a));
    REQUIRE_OK(SpeechEncoder::loadFolder(sharded, {}, b));
    const at::Tensor wave = readTensor(fixtureDir("utterance.safetensors"), "waveform");
    HiddenStates sa, sb;
    REQUIRE_OK(a->encode(wave, {}, sa));
    REQUIRE_OK(b->encode(wave, {}, sb));
    VERIFY(at::equal(sa.layers, sb.layers));

    // An index that promises a tensor its shard lacks.
    replaceOnce(index, "\"wav2vec2.encoder.layer_norm.bias\": \"model-00001",
                "\"wav2vec2.encoder.layer_norm.bias\": \"model-00002");
    writeBytes(sharded + "/model.safetensors.index.json", index);
    const std::string error = loadError(sharded);
    VERIFY_MSG(contains(error, "model-00002-of-00002.safetensors") &&
                   contains(error, "wav2vec2.encoder.layer_norm.bias"),
               error);
    // A shard name that tries to leave the folder.
    replaceOnce(index, "\"model-00002-of-00002.safetensors\"", "\"../model.safetensors\"");
    writeBytes(sharded + "/model.safetensors.index.json", index);
    VERIFY(contains(loadError(sharded), "not a plain file name"));
}

MODEL_TEST(loader_names_the_file_and_tensor_of_every_bad_model)
{
    ScratchFolder scratch;
    int caseNumber = 0;
    const auto folderFor = [&]() {
        const std::string folder = scratch.file("case" + std::to_string(++caseNumber));
        fs::create_directories(folder);
        return folder;
    };
    const std::string fixture = "wav2vec2-tiny-base";
    const std::string victim = "wav2vec2.encoder.layers.1.attention.q_proj.weight";

    {
        const std::string folder = folderFor();
        copyFixture(fixture, folder,
                    [&](std::string &name, at::Tensor &) { return name != victim; });
        const std::string error = loadError(folder);
        VERIFY_MSG(contains(error, folder + "/model.safetensors") && contains(error, victim) &&
                       contains(error, "missing"),
                   error);
    }
    {
        const std::string folder = folderFor();
        copyFixture(fixture, folder, [&](std::string &name, at::Tensor &tensor) {
            if (name == victim)
                tensor = tensor.reshape({16, 64});
            return true;
        });
        const std::string error = loadError(folder);
        VERIFY_MSG(contains(error, victim) && contains(error, "[16, 64]") &&
                       contains(error, "[32, 32]"),
                   error);
    }
    {
        // Same bytes, declared as I32: a dtype no weight may have.
        const std::string folder = folderFor();
        copyFixture(fixture, folder);
        std::string bytes = readBytes(folder + "/model.safetensors");
        const std::size_t at = bytes.find("\"" + victim + "\":{\"dtype\":\"F32\"");
        REQUIRE(at != std::string::npos);
        bytes.replace(bytes.find("F32", at), 3, "I32");
        writeBytes(folder + "/model.safetensors", bytes);
        const std::string error = loadError(folder);
        VERIFY_MSG(contains(error, victim) && contains(error, "I32"), error);
    }
    {
        const std::string folder = folderFor();
        copyFixture(fixture, folder, {}, [](std::string &config) {
            replaceOnce(config, "\"model_type\": \"wav2vec2\"", "\"model_type\": \"bert\"");
        });
        const std::string error = loadError(folder);
        VERIFY_MSG(contains(error, folder + "/config.json") && contains(error, "\"bert\""), error);
    }
    {
        const std::string folder = folderFor();
        copyFixture(fixture, folder, {}, [](std::string &config) {
            replaceOnce(config, "\"hidden_size\": 32,", "\"hidden_size\": 32,,");
        });
        const std::string error = loadError(folder);
        VERIFY_MSG(contains(error, "config.json") && contains(error, "malformed") &&
                       contains(error, "line "),
                   error);
    }
    {
        // A config that disagrees with the weights: the first mis-shaped tensor is named.
        const std::string folder = folderFor();
        copyFixture(fixture, folder, {}, [](std::string &config) {
            replaceOnce(config, "\"intermediate_size\": 64", "\"intermediate_size\": 128");
        });
        const std::string error = loadError(folder);
        VERIFY_MSG(contains(error, "feed_forward.intermediate_dense.weight") &&
                       contains(error, "[128, 32]"),
                   error);
    }
    {
        const std::string folder = folderFor();
        copyFixture(fixture, folder);
        const std::string path = folder + "/model.safetensors";
        const std::string bytes = readBytes(path);
        writeBytes(path, bytes.substr(0, bytes.size() - 1000));
        const std::string error = loadError(folder);
        VERIFY_MSG(contains(error, path) && contains(error, "tensor \""), error);
    }
    {
        const std::string folder = folderFor();
        writeBytes(folder + "/config.json", readBytes(fixtureDir(fixture) + "/config.json"));
        writeBytes(folder + "/pytorch_model.bin", "PK not loaded");
        const std::string error = loadError(folder);
        VERIFY_MSG(contains(error, "pytorch_model.bin") && contains(error, "pickle"), error);
    }
    VERIFY(contains(loadError(scratch.file("no-such-folder")), "config.json"));
}

MODEL_TEST(loader_accepts_half_precision_weights)
{
    ScratchFolder scratch;
    const std::string source = fixtureDir("hubert-tiny-base") + "/model.safetensors";
    SafeTensorsWriter writer;
    std::vector<at::Tensor> keep;
    for (const auto &[name, tensor] : readAll(source)) {
        keep.push_back(tensor.to(at::kHalf).contiguous());
        REQUIRE_OK(writer.add(name, TensorDtype::F16, tensor.sizes().vec(), keep.back().data_ptr(),
                              static_cast<std::uint64_t>(tensor.numel()) * 2));
    }
    REQUIRE_OK(writer.write(scratch.file("model.safetensors")));
    writeBytes(scratch.file("config.json"),
               readBytes(fixtureDir("hubert-tiny-base") + "/config.json"));
    std::unique_ptr<SpeechEncoder> half, full;
    REQUIRE_OK(SpeechEncoder::loadFolder(scratch.path(), {}, half));
    REQUIRE_OK(SpeechEncoder::loadFolder(fixtureDir("hubert-tiny-base"), {}, full));
    VERIFY(half->identity() != full->identity());
    const at::Tensor wave = readTensor(fixtureDir("utterance.safetensors"), "waveform");
    HiddenStates a, b;
    REQUIRE_OK(half->encode(wave, {}, a));
    REQUIRE_OK(full->encode(wave, {}, b));
    // fp16 rounding of the weights only: close, not equal.
    VERIFY_MSG(maxAbsDiff(a.layers, b.layers) < 0.05, maxAbsDiff(a.layers, b.layers));
}
