#pragma once
// FeatureRepository: the speech encoders a workspace knows and the utterance embeddings each
// extraction stored (every layer's mean over the clip's valid frames, float32).
//
// An embedding remembers the content hash of the audio it came from; one whose hash no longer
// matches the utterance's is stale and is neither returned nor counted as done.
// Threads: like every repository, use it on the thread that owns the Database.
//
//     FeatureRepository features(db);
//     EncoderRecord fbank = ...;
//     if (auto st = features.addEncoder(&fbank); !st) report(st.error());
//     QSet<qint64> done = features.utterancesWithEmbedding(fbank.id);

#include "common/Status.h"

#include <QDateTime>
#include <QList>
#include <QSet>
#include <QString>
#include <optional>
#include <vector>

namespace emolens {

class Database;

struct EncoderRecord
{
    qint64 id = 0;
    QString identity;  // SpeechEncoder::identity(): the feature cache key
    QString name;      // what the user sees: "fbank", or the model folder's name
    QString source;    // "fbank", or the model folder's absolute path
    QString modelType; // fbank, wav2vec2, hubert, wavlm
    int layerCount = 0;
    int hiddenSize = 0;
    double framesPerSecond = 0;
    QDateTime addedAt;
};

struct UtteranceEmbedding
{
    qint64 utteranceId = 0;
    QString contentHash; // of the audio the embedding was computed from
    qint64 frameCount = 0;
    std::vector<float> values; // [layerCount * hiddenSize], layer-major
};

class FeatureRepository
{
public:
    explicit FeatureRepository(Database &db);

    // Adds the encoder, or finds the one with the same identity; fills record->id and, for a
    // known encoder, keeps its stored name and date.
    Status addEncoder(EncoderRecord *record);
    // Forgets the encoder and its embeddings (the feature cache on disk is left alone).
    Status removeEncoder(qint64 encoderId);
    QList<EncoderRecord> encoders() const;
    std::optional<EncoderRecord> encoder(qint64 encoderId) const;

    // Stores (or replaces) embeddings of one encoder in one transaction. Each must hold
    // layerCount * hiddenSize values of that encoder.
    Status storeEmbeddings(qint64 encoderId, const QList<UtteranceEmbedding> &embeddings);
    // Utterances whose embedding for this encoder matches their current audio.
    QSet<qint64> utterancesWithEmbedding(qint64 encoderId) const;
    // One layer of the current embeddings, one row per utterance (ascending id), as a dense
    // [rows, hiddenSize] matrix: the input of ranking and t-SNE.
    Status layerMatrix(qint64 encoderId, int layer, QList<qint64> *utteranceIds,
                       std::vector<float> *matrix) const;
    std::optional<UtteranceEmbedding> embedding(qint64 encoderId, qint64 utteranceId) const;

private:
    Database &m_db;
};

} // namespace emolens
