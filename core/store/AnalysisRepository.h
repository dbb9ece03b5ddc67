#pragma once
// AnalysisRepository: the analysis map's stored t-SNE layouts (schema 8, `map_layouts`).
//
// A layout is the 2-D position of each clip of one source - "encoder:NAME:LAYER" or
// "model:ID" - with the settings it ran with (JSON) and a fingerprint of its inputs (source,
// settings, the clip ids and their vectors: TsneJob computes it), so the map reopens without
// running t-SNE again and an unchanged request reuses what is stored. Only positions are
// kept: labels, speakers and predictions are read when the map is shown, so they are never
// stale. addLayout() keeps the newest kKeptPerSource layouts of a source and drops older ones.
//
// Threads: like every repository, use it on the thread that owns the Database.
//
//     AnalysisRepository maps(db);
//     if (auto layout = maps.latestLayout(QStringLiteral("encoder:fbank:1")))
//         draw(layout->points);

#include "common/Status.h"

#include <QDateTime>
#include <QString>
#include <optional>
#include <vector>

namespace emolens {

class Database;

struct MapPoint
{
    qint64 utteranceId = 0;
    float x = 0;
    float y = 0;
};

struct MapLayoutRecord
{
    qint64 id = 0;
    QString source;
    QString settings; // JSON object
    QString fingerprint;
    std::vector<MapPoint> points; // empty from layouts(), which lists without them
    int pointCount = 0;
    double trustworthiness = -1; // -1: not measured
    double seconds = 0;
    QDateTime createdAt;
};

class AnalysisRepository
{
public:
    static constexpr int kKeptPerSource = 5;

    explicit AnalysisRepository(Database &db) : m_db(db) {}

    // Stores the layout (fills id and createdAt) and drops the source's layouts beyond the
    // newest kKeptPerSource, in one transaction.
    Status addLayout(MapLayoutRecord *layout);
    std::optional<MapLayoutRecord> layout(qint64 layoutId) const;
    // The newest layout of the source (empty source: of any source).
    std::optional<MapLayoutRecord> latestLayout(const QString &source = QString()) const;
    // The newest layout with this fingerprint.
    std::optional<MapLayoutRecord> layoutWithFingerprint(const QString &fingerprint) const;
    // Newest first, without their points.
    QList<MapLayoutRecord> layouts() const;
    Status deleteLayout(qint64 layoutId);

private:
    std::optional<MapLayoutRecord> first(const QString &where, const QVariant &value) const;

    Database &m_db;
};

} // namespace emolens
