#pragma once
// TsneJob: the t-SNE map of a workspace's clips (core/analysis/Tsne) - which embeddings, PCA to
// 50 components (models/Pca), then the layout, one point per clip with its key, label, speaker
// and gender, and the model's label when a model version gives the embeddings.
//
// Sources: "encoder:NAME:LAYER" (that encoder's utterance embeddings at that layer; NAME alone
// or "encoder:NAME": its last layer), "model:ID" (the vectors that model version's classifier
// reads, from its encoder's cached features), or empty (fbank's last layer). Clips without
// the embeddings are left out and counted.
//
// Stored: the layout goes to the workspace (AnalysisRepository, schema 8) with its settings and
// a fingerprint of the inputs (source, settings, clip ids and their vectors); a request whose
// fingerprint is stored already reuses that layout instead of running t-SNE again (reuse =
// false runs it anyway). As it converges, the job publishes the layout so far (kind
// "tsne-layout": iteration, iterations, ids as QList<qint64>, xy as QByteArray of float32
// pairs), so a map can animate. `emolens-cli tsne` writes report() as CSV.
//
// Threads: construct anywhere; run() on a worker thread (its own Database connection), or
// map() directly on the thread that owns `db`.

#include "analysis/Tsne.h"
#include "jobs/Job.h"

#include <QMetaType>

#include <QList>
#include <QString>

namespace emolens {

class Database;

struct TsneRequest
{
    QString databasePath;
    QString cacheDirectory; // empty: FeatureCache::defaultRootFor(databasePath)
    QString source;         // see above
    TsneOptions options;
    int pcaComponents = 50;      // 0: no PCA
    bool reuse = true;           // take a stored layout with the same fingerprint
    bool store = true;           // keep the layout in the workspace
    int measureTrustUpTo = 4000; // trustworthiness (k = 10) is measured up to this many clips
};

struct TsnePoint
{
    qint64 utteranceId = 0;
    QString key;
    float x = 0, y = 0;
    QString label; // the label shown (a person's, else the corpus's)
    QString speaker;
    QString gender;
    QString predicted; // the model's label (model sources only)
};

struct TsneReport
{
    QString source; // as resolved, e.g. "encoder:fbank:1"
    int dims = 0;   // of the embeddings, before PCA
    int withoutEmbeddings = 0;
    QList<TsnePoint> points;
    QString settings;            // JSON, as stored
    QString fingerprint;         // of the inputs
    qint64 layoutId = 0;         // the stored layout (0: not stored)
    bool reused = false;         // taken from the store, not computed
    double trustworthiness = -1; // at k = 10; -1: not measured
    double pcaSeconds = 0;
    double seconds = 0;
};

class TsneJob final : public Job
{
public:
    explicit TsneJob(TsneRequest request) : m_request(std::move(request)) {}

    QString name() const override;
    JobResult run(ProgressSink &progress) override;
    QString cancelEffect() const override
    {
        return QStringLiteral("Stop the map; nothing is kept");
    }
    // The settings as stored with a layout (JSON object, compact).
    static QString settingsJson(const TsneRequest &request);
    const TsneReport &report() const { return m_report; }

    // The work, on an open workspace; progress may be null.
    static Status map(Database &db, const TsneRequest &request, TsneReport *out,
                      ProgressSink *progress = nullptr);

private:
    TsneRequest m_request;
    TsneReport m_report;
};

} // namespace emolens
