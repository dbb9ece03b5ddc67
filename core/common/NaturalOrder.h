#pragma once
// Natural order for names people give to speakers, clips and files: runs of digits compare
// as numbers ("spk2" before "spk10", "utt007" equal in rank to "utt7" and then by length),
// the rest case-insensitively. Independent of the process locale (QCollator's numeric mode
// is not available under the C locale, which is what a service or a bare session runs in).

#include <QString>

namespace emolens {

// < 0, 0 or > 0, like QString::compare.
inline int naturalCompare(const QString &a, const QString &b)
{
    qsizetype i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        const bool digitA = a[i].isDigit(), digitB = b[j].isDigit();
        if (digitA && digitB) {
            // Skip leading zeros, then the longer run of digits is the larger number.
            qsizetype si = i, sj = j;
            while (si < a.size() && a[si] == QLatin1Char('0'))
                ++si;
            while (sj < b.size() && b[sj] == QLatin1Char('0'))
                ++sj;
            qsizetype ei = si, ej = sj;
            while (ei < a.size() && a[ei].isDigit())
                ++ei;
            while (ej < b.size() && b[ej].isDigit())
                ++ej;
            if (ei - si != ej - sj)
                return ei - si < ej - sj ? -1 : 1;
            for (qsizetype k = 0; k < ei - si; ++k)
                if (a[si + k] != b[sj + k])
                    return a[si + k] < b[sj + k] ? -1 : 1;
            // Same number: fewer leading zeros first.
            if (ei - i != ej - j)
                return ei - i < ej - j ? -1 : 1;
            i = ei;
            j = ej;
            continue;
        }
        const QChar ca = a[i].toCaseFolded(), cb = b[j].toCaseFolded();
        if (ca != cb)
            return ca < cb ? -1 : 1;
        ++i;
        ++j;
    }
    if (i < a.size() || j < b.size())
        return i < a.size() ? 1 : -1;
    return QString::compare(a, b, Qt::CaseSensitive); // a stable tie-break for case
}

} // namespace emolens
