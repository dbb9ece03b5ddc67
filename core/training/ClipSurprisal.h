#pragma once
// ClipSurprisal: ALPS's surprisal embeddings (seed 002's set; core/active/Selection.h) of clips,
// from an adapter-TAPT backbone stored in the workspace (PretrainJob), whose masked-prediction
// heads came with it (AdapterTrainer::surprisal says what is computed). SelectJob reads the
// clips from the feature cache by content hash; SimulateJob passes its training set's source.
//
// Threads: one thread at a time; it keeps no Database reference.

#include "AdapterTrainer.h"
#include "common/Status.h"
#include "store/ModelRepository.h"

#include <QString>
#include <QStringList>
#include <functional>
#include <memory>
#include <vector>

namespace emolens {

class Database;

class ClipSurprisal
{
public:
    ClipSurprisal();
    ~ClipSurprisal();

    // Loads backbone backboneId, or with 0 the newest adapter-TAPT backbone pre-trained on the
    // features of encoder encoderId. Fails, saying what to do, when there is none, when it is a
    // TAPT-proper backbone (an encoder's Transformer has no such heads), or when it was stored
    // before backbones kept their masked-prediction heads.
    Status load(Database &db, const QString &cacheRoot, qint64 encoderId, qint64 backboneId = 0);
    bool loaded() const { return m_trainer != nullptr; }
    const BackboneRecord &backbone() const { return m_backbone; }

    // The clips' embeddings, [buckets] each, read from the feature cache: out[i] is empty for a
    // clip without features of the backbone's encoder, and *missing counts them. cancelled is
    // polled between batches (the error is then "cancelled").
    // A backbone's surprisal never changes, so it is kept beside the feature cache
    // (surprisal/<weights hash>-b<buckets>.f32, keyed by the clips' content hashes): a re-rank
    // computes only the clips it has not seen (*cached counts the others). A damaged file is
    // read as empty and written again.
    // progress(done, total), when given, follows the clips computed (not those kept).
    using Progress = std::function<void(int done, int total)>;
    Status embed(const QStringList &contentHashes, int buckets,
                 std::vector<std::vector<float>> *out, int *missing = nullptr,
                 const std::function<bool()> &cancelled = {}, int *cached = nullptr,
                 const Progress &progress = {}) const;
    // Where embed() keeps this backbone's surprisal for `buckets`.
    QString cachePath(int buckets) const;
    // The clips `which` of a source of the backbone's encoder features.
    Status embed(const ClipFeatureSource &source, const std::vector<std::size_t> &which,
                 int buckets, std::vector<std::vector<float>> *out,
                 const std::function<bool()> &cancelled = {}, const Progress &progress = {}) const;

private:
    BackboneRecord m_backbone;
    QString m_cacheRoot;
    QString m_encoderIdentity;
    int m_layerCount = 0;
    int m_hiddenSize = 0;
    std::unique_ptr<AdapterTrainer> m_trainer;
};

} // namespace emolens
