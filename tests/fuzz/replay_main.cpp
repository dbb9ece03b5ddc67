// Replays saved inputs through a fuzz target's LLVMFuzzerTestOneInput when the target is built
// without libFuzzer (the ordinary build), so the seed corpus and every input that once broke a
// parser run as a plain ctest on every build.
//
//     fuzz_replay_json tests/fuzz/corpus/json tests/fuzz/regressions/json
//
// Each argument is a file or a folder (read recursively, in name order; an absent one is
// skipped). An input that throws
// fails the run with its name; a crash or a failed assertion ends the process, which ctest
// reports as a failure too.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool collectInputs(const fs::path &argument, std::vector<fs::path> &inputs)
{
    std::error_code error;
    if (!fs::exists(argument, error)) {
        // A target without regressions has no regressions folder (git keeps no empty folders).
        std::printf("%s: absent, nothing to replay\n", argument.string().c_str());
        return true;
    }
    if (fs::is_regular_file(argument, error)) {
        inputs.push_back(argument);
        return true;
    }
    if (!fs::is_directory(argument, error)) {
        std::fprintf(stderr, "%s: not a file or a folder\n", argument.string().c_str());
        return false;
    }
    std::vector<fs::path> found;
    for (fs::recursive_directory_iterator it(argument, error), end; !error && it != end;
         it.increment(error)) {
        if (it->is_regular_file(error) && it->path().filename().string().front() != '.')
            found.push_back(it->path());
    }
    if (error) {
        std::fprintf(stderr, "%s: cannot list the folder (%s)\n", argument.string().c_str(),
                     error.message().c_str());
        return false;
    }
    std::sort(found.begin(), found.end());
    inputs.insert(inputs.end(), found.begin(), found.end());
    return true;
}

bool readInput(const fs::path &path, std::vector<std::uint8_t> &bytes)
{
    std::ifstream file(path, std::ios::binary);
    if (!file)
        return false;
    bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    return !file.bad();
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
        return 2;
    }
    std::vector<fs::path> inputs;
    bool listed = true;
    for (int i = 1; i < argc; ++i)
        listed = collectInputs(argv[i], inputs) && listed;
    if (!listed)
        return 2;

    int failures = 0;
    for (const fs::path &path : inputs) {
        std::vector<std::uint8_t> bytes;
        if (!readInput(path, bytes)) {
            std::fprintf(stderr, "FAIL %s: cannot read the input\n", path.string().c_str());
            ++failures;
            continue;
        }
        // A null pointer for an empty input, as libFuzzer may pass.
        const std::uint8_t *data = bytes.empty() ? nullptr : bytes.data();
        try {
            LLVMFuzzerTestOneInput(data, bytes.size());
            std::printf("ok   %s (%zu bytes)\n", path.string().c_str(), bytes.size());
        } catch (const std::exception &e) {
            std::fprintf(stderr, "FAIL %s: exception: %s\n", path.string().c_str(), e.what());
            ++failures;
        } catch (...) {
            std::fprintf(stderr, "FAIL %s: unknown exception\n", path.string().c_str());
            ++failures;
        }
        std::fflush(stdout);
    }
    std::printf("replayed %zu inputs, %d failed\n", inputs.size(), failures);
    if (inputs.empty()) {
        std::fprintf(stderr, "no inputs found\n");
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
