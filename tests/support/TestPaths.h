#pragma once
// Where the generated test corpora and the source tree are, for Qt Test suites.

#include <QDir>
#include <QString>
#include <QtGlobal>

namespace emolens::test {

// Root of the corpora that make_test_corpora generated (one folder per layout).
inline QString corporaRoot()
{
    return qEnvironmentVariable("EMOLENS_TEST_CORPORA");
}
inline QString corpus(const QString &layout)
{
    return QDir(corporaRoot()).filePath(layout);
}
inline QString sourceRoot()
{
    return qEnvironmentVariable("EMOLENS_SOURCE_DIR");
}

} // namespace emolens::test
