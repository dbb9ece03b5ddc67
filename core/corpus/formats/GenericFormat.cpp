#include "corpus/formats/GenericFormat.h"

#include "corpus/DelimitedText.h"
#include "corpus/formats/EmotionNames.h"
#include "corpus/formats/ScanProgress.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QHash>
#include <QSet>
#include <cmath>
#include <limits>

namespace emolens {

namespace {

const QStringList &audioFilters()
{
    static const QStringList filters = [] {
        QStringList f;
        for (const char *ext : {"wav", "flac", "ogg", "oga", "opus", "mp3", "aiff", "aif", "au"}) {
            f << QStringLiteral("*.") + QLatin1String(ext);
            f << QStringLiteral("*.") + QString::fromLatin1(ext).toUpper();
        }
        return f;
    }();
    return filters;
}

enum class Column {
    Path,
    Label,
    Speaker,
    Gender,
    OriginalLabel,
    Session,
    Style,
    Transcript,
    Valence,
    Arousal,
    Dominance,
    Metadata
};

Column columnFor(const QString &header)
{
    static const QHash<QString, Column> names = {
        {QStringLiteral("path"), Column::Path},
        {QStringLiteral("file"), Column::Path},
        {QStringLiteral("filename"), Column::Path},
        {QStringLiteral("wav"), Column::Path},
        {QStringLiteral("audio"), Column::Path},
        {QStringLiteral("label"), Column::Label},
        {QStringLiteral("emotion"), Column::Label},
        {QStringLiteral("emo"), Column::Label},
        {QStringLiteral("class"), Column::Label},
        {QStringLiteral("speaker"), Column::Speaker},
        {QStringLiteral("spk"), Column::Speaker},
        {QStringLiteral("speaker_id"), Column::Speaker},
        {QStringLiteral("gender"), Column::Gender},
        {QStringLiteral("sex"), Column::Gender},
        {QStringLiteral("original_label"), Column::OriginalLabel},
        {QStringLiteral("session"), Column::Session},
        {QStringLiteral("style"), Column::Style},
        {QStringLiteral("transcript"), Column::Transcript},
        {QStringLiteral("text"), Column::Transcript},
        {QStringLiteral("valence"), Column::Valence},
        {QStringLiteral("arousal"), Column::Arousal},
        {QStringLiteral("dominance"), Column::Dominance}};
    return names.value(header.trimmed().toLower(), Column::Metadata);
}

// The key of a file: its path under the root without the extension; files outside the root
// (absolute paths in a manifest) keep their whole path.
QString keyFor(const QDir &root, const QString &absolutePath)
{
    QString relative = root.relativeFilePath(absolutePath);
    if (relative.startsWith(QLatin1String("../")))
        relative = QDir::cleanPath(absolutePath).mid(1);
    const qsizetype slash = relative.lastIndexOf(QLatin1Char('/'));
    const qsizetype dot = relative.lastIndexOf(QLatin1Char('.'));
    return dot > slash + 1 ? relative.left(dot) : relative;
}

// A scale that covers the values: the usual rating ranges when they fit, else rounded bounds.
DimensionScale scaleFor(const QString &name, double minimum, double maximum)
{
    const std::pair<double, double> usual[] = {{0, 1}, {-1, 1}, {1, 5}, {1, 7}, {1, 9}, {0, 100}};
    for (const auto &[low, high] : usual)
        if (minimum >= low && maximum <= high)
            return {name, low, high};
    return {name, std::floor(minimum), std::ceil(maximum)};
}

QString labelFor(const QString &spelled, const QString &mapping)
{
    if (mapping == emotion::fourClassMapping())
        return emotion::mapped(emotion::fromSpelling(spelled), mapping);
    return spelled;
}

CorpusScan scanManifest(const QString &rootPath, const QString &manifest, const QString &mapping,
                        ProgressSink &progress)
{
    CorpusScan out;
    out.corpusName = QDir(rootPath).dirName();
    out.schema.name = QStringLiteral("generic-") + mapping;
    QFile file(manifest);
    if (!file.open(QIODevice::ReadOnly)) {
        out.problems.append(
            {manifest, 0, QStringLiteral("cannot read the manifest: %1").arg(file.errorString())});
        return out;
    }
    const QString text = QString::fromUtf8(file.readAll());
    QChar delimiter = manifest.endsWith(QLatin1String(".tsv"), Qt::CaseInsensitive)
                          ? QLatin1Char('\t')
                          : QLatin1Char(',');
    const QStringView firstLine = QStringView(text).left(text.indexOf(QLatin1Char('\n')));
    if (delimiter == u',' && !firstLine.contains(u',') && firstLine.contains(u'\t'))
        delimiter = QLatin1Char('\t');
    const QList<DelimitedRecord> records = parseDelimitedText(text, delimiter);
    if (records.isEmpty() || !records.first().error.isEmpty()) {
        out.problems.append({manifest, records.isEmpty() ? 0 : records.first().line,
                             QStringLiteral("the manifest has no readable header row")});
        return out;
    }
    const QStringList header = records.first().fields;
    QList<Column> columns;
    int pathColumn = -1;
    for (int i = 0; i < header.size(); ++i) {
        columns.append(columnFor(header.at(i)));
        if (columns.last() == Column::Path && pathColumn < 0)
            pathColumn = i;
    }
    if (pathColumn < 0) {
        out.problems.append({manifest, records.first().line,
                             QStringLiteral("the header has no path column (path, file, "
                                            "filename, wav or audio)")});
        return out;
    }

    const QDir root(rootPath);
    const QDir manifestDir = QFileInfo(manifest).absoluteDir();
    QHash<QString, int> lineOfKey;
    QSet<QString> classes;
    double low[3] = {std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
                     std::numeric_limits<double>::max()};
    double high[3] = {std::numeric_limits<double>::lowest(), std::numeric_limits<double>::lowest(),
                      std::numeric_limits<double>::lowest()};
    const QString dimensionNames[3] = {QStringLiteral("valence"), QStringLiteral("arousal"),
                                       QStringLiteral("dominance")};
    ScanProgress scanProgress(progress);
    for (qsizetype r = 1; r < records.size(); ++r) {
        if (!scanProgress.advance(r, records.size() - 1, QStringLiteral("Reading the manifest")))
            return out;
        const DelimitedRecord &rec = records.at(r);
        if (!rec.error.isEmpty()) {
            out.problems.append({manifest, rec.line, rec.error});
            continue;
        }
        if (rec.fields.size() != header.size()) {
            out.problems.append({manifest, rec.line,
                                 QStringLiteral("expected %1 columns, found %2")
                                     .arg(header.size())
                                     .arg(rec.fields.size())});
            continue;
        }
        const QString pathText = rec.fields.at(pathColumn).trimmed();
        if (pathText.isEmpty()) {
            out.problems.append({manifest, rec.line, QStringLiteral("the path is empty")});
            continue;
        }
        if (pathText.contains(QChar(0))) {
            // No file system takes it; Qt would only warn "Broken filename" on stderr.
            out.problems.append(
                {manifest, rec.line, QStringLiteral("the path holds a NUL character")});
            continue;
        }
        const QString path = QDir::cleanPath(manifestDir.filePath(pathText));
        if (!QFileInfo(path).isFile()) {
            out.problems.append(
                {manifest, rec.line, QStringLiteral("audio file not found: %1").arg(path)});
            continue;
        }
        ImportItem item;
        UtteranceRecord &u = item.utterance;
        u.path = path;
        u.key = keyFor(root, path);
        if (const auto first = lineOfKey.constFind(u.key); first != lineOfKey.constEnd()) {
            out.problems.append({manifest, rec.line,
                                 QStringLiteral("%1 is listed twice (first on line %2)")
                                     .arg(pathText)
                                     .arg(*first)});
            continue;
        }
        lineOfKey.insert(u.key, rec.line);
        QString spelledLabel;
        for (int c = 0; c < header.size(); ++c) {
            const QString value = rec.fields.at(c).trimmed();
            switch (columns.at(c)) {
            case Column::Path:
                break;
            case Column::Label:
                spelledLabel = value;
                break;
            case Column::Speaker:
                item.speakerCode = value;
                break;
            case Column::Gender:
                item.gender = genderFromName(value);
                break;
            case Column::OriginalLabel:
                u.originalLabel = value;
                break;
            case Column::Session:
                u.sessionKey = value;
                break;
            case Column::Style:
                u.style = styleFromName(value);
                break;
            case Column::Transcript:
                u.transcript = rec.fields.at(c);
                break;
            case Column::Valence:
            case Column::Arousal:
            case Column::Dominance: {
                const int d = int(columns.at(c)) - int(Column::Valence);
                bool ok = false;
                const double v = value.toDouble(&ok);
                // "nan" and "inf" read as numbers but cannot be stored or shown as ratings.
                if (ok && std::isfinite(v)) {
                    item.label.dimensions.insert(dimensionNames[d], v);
                    low[d] = std::min(low[d], v);
                    high[d] = std::max(high[d], v);
                } else if (!value.isEmpty()) {
                    u.metadata.insert(header.at(c).trimmed(), value);
                }
                break;
            }
            case Column::Metadata:
                if (!value.isEmpty())
                    u.metadata.insert(header.at(c).trimmed(), value);
                break;
            }
        }
        if (u.originalLabel.isEmpty())
            u.originalLabel = spelledLabel;
        if (u.sessionKey.isEmpty())
            u.sessionKey = item.speakerCode;
        item.label.category = labelFor(spelledLabel, mapping);
        if (!item.label.category.isEmpty())
            classes.insert(item.label.category);
        out.items.append(item);
    }
    out.schema.classes = mapping == emotion::fourClassMapping()
                             ? emotion::fourClasses()
                             : QStringList(classes.begin(), classes.end());
    out.schema.classes.sort();
    for (int d = 0; d < 3; ++d)
        if (low[d] <= high[d])
            out.schema.scales.append(scaleFor(dimensionNames[d], low[d], high[d]));
    return out;
}

CorpusScan scanFolders(const QString &rootPath, const QString &mapping, ProgressSink &progress)
{
    CorpusScan out;
    out.corpusName = QDir(rootPath).dirName();
    out.schema.name = QStringLiteral("generic-") + mapping;
    ScanProgress scanProgress(progress);
    if (!scanProgress.check(0, QStringLiteral("Listing audio files")))
        return out;
    QStringList paths;
    QDirIterator it(rootPath, audioFilters(), QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        paths.append(it.next());
    paths.sort();
    const QDir root(rootPath);
    QSet<QString> classes;
    for (qsizetype i = 0; i < paths.size(); ++i) {
        if (!scanProgress.advance(i + 1, paths.size(), QStringLiteral("Reading audio file names")))
            return out;
        ImportItem item;
        UtteranceRecord &u = item.utterance;
        u.path = paths.at(i);
        const QString relative = root.relativeFilePath(u.path);
        u.key = keyFor(root, u.path);
        const qsizetype slash = relative.indexOf(QLatin1Char('/'));
        if (slash > 0) {
            u.originalLabel = relative.left(slash);
            item.label.category = labelFor(u.originalLabel, mapping);
            if (!item.label.category.isEmpty())
                classes.insert(item.label.category);
        }
        out.items.append(item);
    }
    out.schema.classes = mapping == emotion::fourClassMapping()
                             ? emotion::fourClasses()
                             : QStringList(classes.begin(), classes.end());
    out.schema.classes.sort();
    return out;
}

} // namespace

QStringList GenericFormat::labelMappings() const
{
    return {emotion::originalMapping(), emotion::fourClassMapping()};
}

QString GenericFormat::manifestPath(const QString &rootPath)
{
    const QDir root(rootPath);
    const QStringList tables = root.entryList({QStringLiteral("*.csv"), QStringLiteral("*.tsv"),
                                               QStringLiteral("*.CSV"), QStringLiteral("*.TSV")},
                                              QDir::Files, QDir::Name);
    for (const char *preferred : {"manifest.csv", "manifest.tsv", "metadata.csv", "labels.csv"})
        for (const QString &name : tables)
            if (name.compare(QLatin1String(preferred), Qt::CaseInsensitive) == 0)
                return root.filePath(name);
    return tables.size() == 1 ? root.filePath(tables.first()) : QString();
}

bool GenericFormat::recognises(const QString &rootPath) const
{
    if (!manifestPath(rootPath).isEmpty())
        return true;
    // Audio in the root or one folder down is enough; deeper trees are found by the scan.
    const QDir root(rootPath);
    if (!root.entryList(audioFilters(), QDir::Files).isEmpty())
        return true;
    for (const QString &folder : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QDirIterator it(root.filePath(folder), audioFilters(), QDir::Files);
        if (it.hasNext())
            return true;
    }
    return false;
}

CorpusScan GenericFormat::scan(const QString &rootPath, const QString &labelMapping,
                               ProgressSink &progress) const
{
    const QString manifest = manifestPath(rootPath);
    return manifest.isEmpty() ? scanFolders(rootPath, labelMapping, progress)
                              : scanManifest(rootPath, manifest, labelMapping, progress);
}

} // namespace emolens
