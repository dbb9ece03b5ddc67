#pragma once
// DelimitedText: reading and writing CSV/TSV as RFC 4180 describes it (quoted fields may
// hold the delimiter, line breaks and doubled quotes). Used by the generic manifest importer,
// the CREMA-D demographics and MSP-Podcast label tables, and the csv exporter, so that what
// the exporter writes the importer reads back unchanged. Pure functions, any thread.

#include <QList>
#include <QString>
#include <QStringList>

namespace emolens {

struct DelimitedRecord
{
    int line = 0;       // 1-based line where the record starts
    QStringList fields; // empty when error is set
    QString error;      // why the record could not be read (e.g. a quote never closed)
};

// Splits text into records. Blank lines are skipped; a UTF-8 byte order mark is ignored; CRLF
// and LF both end a record. A broken record (unclosed quote, text after a closing quote) is
// returned with its error, and reading resumes on the line after the one where it started,
// so one bad line costs one record, not the rest of the file.
QList<DelimitedRecord> parseDelimitedText(const QString &text, QChar delimiter);

// One field, quoted when it holds the delimiter, a quote, a line break or outer spaces.
QString quoteDelimitedField(const QString &field, QChar delimiter = QLatin1Char(','));
// A whole record with its line ending ("\n").
QString delimitedLine(const QStringList &fields, QChar delimiter = QLatin1Char(','));

} // namespace emolens
