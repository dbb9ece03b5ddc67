#include "corpus/DelimitedText.h"

namespace emolens {

namespace {

// Reads one record starting at `pos`; on return `pos` is just after its line ending.
// Returns false (with *error set) when the record is malformed.
bool readRecord(const QString &text, qsizetype &pos, QChar delimiter, QStringList *fields,
                int *linesConsumed, QString *error)
{
    const qsizetype n = text.size();
    const QChar quote = QLatin1Char('"');
    QString field;
    int lines = 1;
    bool quoted = false;     // inside a quoted field
    bool afterQuote = false; // a quoted field just closed
    while (pos < n) {
        const QChar c = text.at(pos);
        if (quoted) {
            if (c == quote) {
                if (pos + 1 < n && text.at(pos + 1) == quote) {
                    field += quote;
                    pos += 2;
                    continue;
                }
                quoted = false;
                afterQuote = true;
                ++pos;
                continue;
            }
            if (c == QLatin1Char('\n'))
                ++lines;
            field += c;
            ++pos;
            continue;
        }
        if (c == delimiter) {
            fields->append(field);
            field.clear();
            afterQuote = false;
            ++pos;
            continue;
        }
        if (c == QLatin1Char('\r') && pos + 1 < n && text.at(pos + 1) == QLatin1Char('\n')) {
            pos += 2;
            fields->append(field);
            *linesConsumed = lines;
            return true;
        }
        if (c == QLatin1Char('\n') || c == QLatin1Char('\r')) {
            ++pos;
            fields->append(field);
            *linesConsumed = lines;
            return true;
        }
        if (afterQuote) {
            *error = QStringLiteral("unexpected text after a closing quote");
            *linesConsumed = lines;
            return false;
        }
        if (c == quote) {
            if (!field.isEmpty()) {
                *error = QStringLiteral("a quote in the middle of an unquoted field");
                *linesConsumed = lines;
                return false;
            }
            quoted = true;
            ++pos;
            continue;
        }
        field += c;
        ++pos;
    }
    if (quoted) {
        *error = QStringLiteral("a quoted field is never closed");
        *linesConsumed = lines;
        return false;
    }
    fields->append(field);
    *linesConsumed = lines;
    return true;
}

// Position just after the end of the line that contains `pos`.
qsizetype nextLineStart(const QString &text, qsizetype pos)
{
    const qsizetype nl = text.indexOf(QLatin1Char('\n'), pos);
    return nl < 0 ? text.size() : nl + 1;
}

} // namespace

QList<DelimitedRecord> parseDelimitedText(const QString &text, QChar delimiter)
{
    QList<DelimitedRecord> out;
    qsizetype pos = 0;
    if (text.startsWith(QChar(0xFEFF)))
        pos = 1;
    int line = 1;
    const qsizetype n = text.size();
    while (pos < n) {
        const QChar c = text.at(pos);
        if (c == QLatin1Char('\n')) {
            ++pos;
            ++line;
            continue;
        }
        if (c == QLatin1Char('\r')) {
            ++pos;
            if (pos < n && text.at(pos) == QLatin1Char('\n'))
                ++pos;
            ++line;
            continue;
        }
        DelimitedRecord record;
        record.line = line;
        const qsizetype start = pos;
        int lines = 1;
        if (readRecord(text, pos, delimiter, &record.fields, &lines, &record.error)) {
            line += lines;
        } else {
            record.fields.clear();
            pos = nextLineStart(text, start);
            ++line;
        }
        out.append(record);
    }
    return out;
}

QString quoteDelimitedField(const QString &field, QChar delimiter)
{
    const bool needsQuotes =
        field.contains(delimiter) || field.contains(QLatin1Char('"')) ||
        field.contains(QLatin1Char('\n')) || field.contains(QLatin1Char('\r')) ||
        (!field.isEmpty() && (field.front().isSpace() || field.back().isSpace())) ||
        field.startsWith(QChar(0xFEFF)); // a reader drops a byte order mark that starts a file
    if (!needsQuotes)
        return field;
    QString out = field;
    out.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + out + QLatin1Char('"');
}

QString delimitedLine(const QStringList &fields, QChar delimiter)
{
    // A record of one empty field would be a blank line, which readers skip.
    if (fields.size() == 1 && fields.first().isEmpty())
        return QStringLiteral("\"\"\n");
    QString out;
    for (qsizetype i = 0; i < fields.size(); ++i) {
        if (i)
            out += delimiter;
        out += quoteDelimitedField(fields.at(i), delimiter);
    }
    out += QLatin1Char('\n');
    return out;
}

} // namespace emolens
