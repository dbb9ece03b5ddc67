// Fuzz target: parseDelimitedText (core/corpus/DelimitedText), the RFC 4180 reader behind the
// manifests, CREMA-D demographics and MSP-Podcast label tables. The input is read as UTF-8 with
// the delimiter ',' when its length is even and a tab when odd. Besides not crashing, records
// must come in line order with either fields or an error, and every record read must survive
// the writer (delimitedLine) and a second read unchanged: what the csv exporter writes, the
// importer reads back.

#include "corpus/DelimitedText.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void violated(const char *what, int line)
{
    std::fprintf(stderr, "delimited text invariant violated on line %d: %s\n", line, what);
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    const QChar delimiter = size % 2 == 0 ? QLatin1Char(',') : QLatin1Char('\t');
    const QList<emolens::DelimitedRecord> records = emolens::parseDelimitedText(text, delimiter);
    int previousLine = 0;
    for (const emolens::DelimitedRecord &record : records) {
        if (record.line <= previousLine)
            violated("records out of line order", record.line);
        previousLine = record.line;
        if (!record.error.isEmpty()) {
            if (!record.fields.isEmpty())
                violated("a broken record with fields", record.line);
            continue;
        }
        if (record.fields.isEmpty())
            violated("a record with neither fields nor an error", record.line);
        const QList<emolens::DelimitedRecord> again = emolens::parseDelimitedText(
            emolens::delimitedLine(record.fields, delimiter), delimiter);
        if (again.size() != 1 || !again.first().error.isEmpty() ||
            again.first().fields != record.fields)
            violated("a record that does not survive writing and reading back", record.line);
    }
    return 0;
}
