#include "store/AnalysisRepository.h"

#include "store/Database.h"
#include "store/SqlHelpers.h"

#include <QtEndian>
#include <cstring>

namespace emolens {

namespace {

constexpr qsizetype kPointBytes = 16; // int64 id, float32 x, float32 y

QByteArray pointsBlob(const std::vector<MapPoint> &points)
{
    QByteArray blob(qsizetype(points.size()) * kPointBytes, Qt::Uninitialized);
    char *out = blob.data();
    for (const MapPoint &p : points) {
        qToLittleEndian<qint64>(p.utteranceId, out);
        qToLittleEndian<float>(p.x, out + 8);
        qToLittleEndian<float>(p.y, out + 12);
        out += kPointBytes;
    }
    return blob;
}

std::vector<MapPoint> pointsFrom(const QByteArray &blob)
{
    std::vector<MapPoint> points(std::size_t(blob.size() / kPointBytes));
    const char *in = blob.constData();
    for (MapPoint &p : points) {
        p.utteranceId = qFromLittleEndian<qint64>(in);
        p.x = qFromLittleEndian<float>(in + 8);
        p.y = qFromLittleEndian<float>(in + 12);
        in += kPointBytes;
    }
    return points;
}

const QString kColumns = QStringLiteral(
    "SELECT id, source, settings, fingerprint, length(points) / 16, trustworthiness, seconds, "
    "created_at FROM map_layouts ");

MapLayoutRecord layoutFrom(const QSqlQuery &q)
{
    MapLayoutRecord r;
    r.id = q.value(0).toLongLong();
    r.source = q.value(1).toString();
    r.settings = q.value(2).toString();
    r.fingerprint = q.value(3).toString();
    r.pointCount = q.value(4).toInt();
    r.trustworthiness = q.value(5).isNull() ? -1 : q.value(5).toDouble();
    r.seconds = q.value(6).toDouble();
    r.createdAt = sql::timeFrom(q.value(7));
    return r;
}

} // namespace

Status AnalysisRepository::addLayout(MapLayoutRecord *layout)
{
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    const QString now = sql::nowUtc();
    if (auto st = sql::run(
            q,
            QStringLiteral("INSERT INTO map_layouts(source, settings, fingerprint, points, "
                           "trustworthiness, seconds, created_at) VALUES(?,?,?,?,?,?,?)"),
            {layout->source, layout->settings, layout->fingerprint, pointsBlob(layout->points),
             layout->trustworthiness < 0 ? QVariant(QMetaType(QMetaType::Double))
                                         : QVariant(layout->trustworthiness),
             layout->seconds, now});
        !st)
        return st;
    const qint64 id = q.lastInsertId().toLongLong();
    if (auto st = sql::run(q,
                           QStringLiteral("DELETE FROM map_layouts WHERE source=? AND id NOT IN "
                                          "(SELECT id FROM map_layouts WHERE source=? ORDER BY "
                                          "id DESC LIMIT ?)"),
                           {layout->source, layout->source, kKeptPerSource});
        !st)
        return st;
    if (auto st = tx.commit(); !st)
        return st;
    layout->id = id;
    layout->pointCount = int(layout->points.size());
    layout->createdAt = sql::timeFrom(now);
    return Status::success();
}

std::optional<MapLayoutRecord> AnalysisRepository::first(const QString &where,
                                                         const QVariant &value) const
{
    QSqlQuery q(m_db.connection());
    const QString text = kColumns + where + QStringLiteral(" ORDER BY id DESC LIMIT 1");
    const bool ok = value.isValid() ? bool(sql::run(q, text, {value})) : bool(sql::run(q, text));
    if (!ok || !q.next())
        return std::nullopt;
    MapLayoutRecord r = layoutFrom(q);
    QSqlQuery blob(m_db.connection());
    if (sql::run(blob, QStringLiteral("SELECT points FROM map_layouts WHERE id=?"), {r.id}) &&
        blob.next())
        r.points = pointsFrom(blob.value(0).toByteArray());
    return r;
}

std::optional<MapLayoutRecord> AnalysisRepository::layout(qint64 layoutId) const
{
    return first(QStringLiteral("WHERE id=?"), layoutId);
}

std::optional<MapLayoutRecord> AnalysisRepository::latestLayout(const QString &source) const
{
    if (source.isEmpty())
        return first(QString(), QVariant());
    return first(QStringLiteral("WHERE source=?"), source);
}

std::optional<MapLayoutRecord>
AnalysisRepository::layoutWithFingerprint(const QString &fingerprint) const
{
    return first(QStringLiteral("WHERE fingerprint=?"), fingerprint);
}

QList<MapLayoutRecord> AnalysisRepository::layouts() const
{
    QList<MapLayoutRecord> out;
    QSqlQuery q(m_db.connection());
    if (!sql::run(q, kColumns + QStringLiteral("ORDER BY id DESC")))
        return out;
    while (q.next())
        out << layoutFrom(q);
    return out;
}

Status AnalysisRepository::deleteLayout(qint64 layoutId)
{
    QSqlQuery q(m_db.connection());
    return sql::run(q, QStringLiteral("DELETE FROM map_layouts WHERE id=?"), {layoutId});
}

} // namespace emolens
