#pragma once
// A tiny test runner for the models/ suites, which must build without Qt (on GPU machines
// configured with EMOLENS_MODELS_ONLY): tests register themselves with MODEL_TEST, VERIFY
// records a failure and carries on, REQUIRE stops the test. The runner takes an optional name
// prefix (ctest runs one suite per prefix) and exits non-zero when anything failed.

#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace emolens::modeltest {

struct TestCase
{
    std::string name;
    std::function<void()> body;
};

inline std::vector<TestCase> &registry()
{
    static std::vector<TestCase> tests;
    return tests;
}

inline int &failureCount()
{
    static int count = 0;
    return count;
}

struct Registrar
{
    Registrar(const char *name, std::function<void()> body)
    {
        registry().push_back({name, std::move(body)});
    }
};

struct RequireFailed
{
};

inline void report(const char *file, int line, const std::string &message)
{
    ++failureCount();
    std::cerr << file << ":" << line << ": FAILED: " << message << "\n";
}

// Where the committed fixtures are: EMOLENS_SOURCE_DIR (set by ctest) or the compile-time
// source directory.
inline std::string sourceDir()
{
    if (const char *dir = std::getenv("EMOLENS_SOURCE_DIR"); dir != nullptr && *dir != '\0')
        return dir;
    return EMOLENS_MODELS_TEST_SOURCE_DIR;
}

inline std::string fixtureDir(const std::string &name)
{
    return sourceDir() + "/tests/models/fixtures/" + name;
}

inline int runAll(int argc, char **argv)
{
    const std::string prefix = argc > 1 ? argv[1] : "";
    int run = 0;
    for (const TestCase &test : registry()) {
        if (test.name.compare(0, prefix.size(), prefix) != 0)
            continue;
        ++run;
        const int before = failureCount();
        std::cout << "RUN  " << test.name << std::endl;
        try {
            test.body();
        } catch (const RequireFailed &) {
        } catch (const std::exception &error) {
            report(test.name.c_str(), 0, std::string("exception: ") + error.what());
        }
        std::cout << (failureCount() == before ? "PASS " : "FAIL ") << test.name << std::endl;
    }
    if (run == 0) {
        std::cerr << "no test matches \"" << prefix << "\"\n";
        return 2;
    }
    std::cout << run << " tests, " << failureCount() << " failures" << std::endl;
    return failureCount() == 0 ? 0 : 1;
}

} // namespace emolens::modeltest

#define MODEL_TEST_CONCAT2(a, b) a##b
#define MODEL_TEST_CONCAT(a, b) MODEL_TEST_CONCAT2(a, b)
#define MODEL_TEST(name)                                                                           \
    static void name();                                                                            \
    static const ::emolens::modeltest::Registrar MODEL_TEST_CONCAT(registrar_, name)(#name,        \
                                                                                     &name);       \
    static void name()

#define VERIFY(condition)                                                                          \
    do {                                                                                           \
        if (!(condition))                                                                          \
            ::emolens::modeltest::report(__FILE__, __LINE__, #condition);                          \
    } while (false)

#define VERIFY_MSG(condition, message)                                                             \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::ostringstream modelTestStream;                                                    \
            modelTestStream << #condition << ": " << message;                                      \
            ::emolens::modeltest::report(__FILE__, __LINE__, modelTestStream.str());               \
        }                                                                                          \
    } while (false)

#define REQUIRE(condition)                                                                         \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            ::emolens::modeltest::report(__FILE__, __LINE__, #condition);                          \
            throw ::emolens::modeltest::RequireFailed();                                           \
        }                                                                                          \
    } while (false)

#define REQUIRE_OK(status)                                                                         \
    do {                                                                                           \
        const ::emolens::ModelStatus &modelTestStatus = (status);                                  \
        if (!modelTestStatus) {                                                                    \
            ::emolens::modeltest::report(__FILE__, __LINE__,                                       \
                                         std::string(#status) + ": " + modelTestStatus.error());   \
            throw ::emolens::modeltest::RequireFailed();                                           \
        }                                                                                          \
    } while (false)
