#pragma once
// Selection: seed 002's active-learning strategies (../shared/METHODS.md) over a pool of clips -
// which unlabeled clips an annotator should label next, ranked, each with a score and the
// reason in words. Pure functions on plain arrays; the CLI's `select` and the queue build the
// pool from the workspace (utterance embeddings, the model's posteriors, speakers, durations).
//
// Strategies, what each scores, and its cost for n pool clips, d embedding dimensions, c
// classes, m picks:
// - random (the authors' baseline): a seeded shuffle; O(n).
// - least-confidence: 1 - the top class probability, highest first; O(n c).
// - margin: the gap between the two most probable classes, smallest first; O(n c).
// - entropy: the posterior's entropy in nats, highest first; O(n c).
// - core-set (ours, named so: Sener and Savarese's k-center greedy): each pick is the clip
//   farthest (Euclidean, embeddings) from every labeled and already picked clip; with nothing
//   labeled the first is the clip farthest from the pool's mean. O(n d m).
// - cold-start (the authors' code: k-means, k = 3, on speaker embeddings; ours on the encoder's
//   utterance embeddings, k a setting): k-means of the pool, then the centres in turn, each
//   giving the clip nearest it among the speakers with the fewest picks so far (so picks are
//   balanced over speakers as well as clusters). Needs no model. O(n d k x iterations).
// - hybrid (ours): k-means of the unlabeled pool into m clusters (diversity), then from each
//   cluster its clip with the smallest margin (uncertainty); picks ranked by margin. O(n d m x
//   iterations + n c).
// - bald (the authors' set; Houlsby et al.'s BALD with Gal et al.'s MC dropout): the mutual
//   information between the label and the model's weights, estimated from T forward passes
//   with dropout on - the entropy of the mean prediction minus the mean entropy of the passes,
//   highest first. The passes are SelectionPool::passes (T is ours: 10 by default, the
//   authors' value is not in the seed). O(n T c), plus T + 1 adapter passes to get them.
// - badge (the authors' set; Ash et al.'s BADGE): each clip's gradient embedding - the
//   gradient of the cross-entropy at the model's own label with respect to the classifier's
//   weights, (p - onehot(top class)) outer h, h the classifier's input - then k-means++ seeding
//   over those embeddings: the first pick has the largest gradient norm, each next one is drawn
//   with probability proportional to its squared distance from the picks so far (seeded). The
//   outer-product form gives every distance in O(c + h) instead of O(c h). O(n (c + h) m).
// - alps (the authors' set; Yuan et al. 2020's ALPS, a cold start that needs no classifier):
//   each clip's surprisal embedding - here the pre-training's masked-prediction loss per frame
//   bucket under an adapter-TAPT backbone (SelectionPool::surprisal, from
//   AdapterTrainer::surprisal) - scaled to unit length, k-means with k = the round's size, and
//   from each cluster its clip nearest the centre; the clusters largest first (the score is the
//   cluster's size). O(n b k x iterations) for b buckets, plus the adapter's passes over the
//   pool to get the embeddings (reported by the caller).
// The uncertainty strategies, hybrid, bald and badge need the model's posteriors; the others
// do not.
// Options every strategy honours: labeled clips are never picked (unless includeLabeled), a
// cap of picks per speaker, and a duration range. Ties keep the pool's order.
// Options for SER corpora, ours (seed 002 and METHODS.md are silent on them), off by default:
// - favourRare: the round's picks are shared among the model's predicted classes in inverse
//   proportion to the labels each class has so far (labels + 1; a class with 9 labels gets ten
//   times the share of one with 99), as far as clips are predicted as it; the strategy ranks
//   within each class's share, and the shares are interleaved, rarest class first. Needs the
//   model's posteriors whatever the strategy. The per-speaker cap is applied to the merged
//   list, and a short list is topped up from the strategy's ranking of the rest.
// - secondOpinions: clips other people labeled stay in the pool; only the clips the annotator
//   the round is for labeled (SelectionPool::mine) are skipped.
// - disagreementsFirst: clips on which people gave different categories, and which the
//   annotator has not labeled, come first (fewest opinions first), for another opinion; the
//   strategy fills the rest of the round.
//
// Threads: any; no state.

#include "common/Status.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <vector>

namespace emolens {

enum class SelectionStrategy {
    Random,
    LeastConfidence,
    Margin,
    Entropy,
    CoreSet,
    ColdStart,
    Hybrid,
    Bald,
    Badge,
    Alps
};

// "random", "least-confidence", "margin", "entropy", "core-set", "cold-start", "hybrid",
// "bald", "badge", "alps".
QString selectionStrategyName(SelectionStrategy strategy);
// Its title for a menu, e.g. "Margin (smallest top-2 gap)".
QString selectionStrategyTitle(SelectionStrategy strategy);
bool selectionStrategyFromName(const QString &name, SelectionStrategy *out);
QStringList selectionStrategyNames();
// Whether the strategy ranks by the model's posteriors.
bool selectionNeedsModel(SelectionStrategy strategy);
// Whether it needs SelectionPool::passProbabilities (bald) or classifierInputs (badge).
bool selectionNeedsPasses(SelectionStrategy strategy);
bool selectionNeedsClassifierInputs(SelectionStrategy strategy);
// Whether it needs SelectionPool::surprisal (alps).
bool selectionNeedsSurprisal(SelectionStrategy strategy);

// The pool, one row per clip.
struct SelectionPool
{
    QList<qint64> utteranceIds;
    int dims = 0;
    std::vector<float> embeddings; // [rows x dims]; core-set, cold-start and hybrid
    QStringList classes;
    std::vector<float> probabilities;     // [rows x classes]; empty rows (all 0) for labeled clips
    QList<qint64> speakers;               // per row (0: unknown)
    std::vector<double> seconds;          // per row
    std::vector<bool> labeled;            // per row
    int passes = 0;                       // bald: MC dropout passes per row
    std::vector<float> passProbabilities; // [rows x passes x classes]
    int headDims = 0;                     // badge: the classifier's input width
    std::vector<float> classifierInputs;  // [rows x headDims]
    int surprisalDims = 0;                // alps: buckets per clip
    std::vector<float> surprisal;         // [rows x surprisalDims], nats
    // For the SER options: whether the annotator the round is for labeled the row (empty: the
    // round is for nobody in particular), the class index of the row's label (-1: none, or not
    // one of the classes; empty: none known), and, where people disagree, their categories in
    // words ("angry (ana), neutral (ben)"; empty: they agree or there is one opinion).
    std::vector<bool> mine;
    std::vector<int> labelClasses;
    QStringList disagreements;
    std::vector<int> opinions; // per row: how many people gave a category (empty: not known)

    int rows() const { return int(utteranceIds.size()); }
};

struct SelectionOptions
{
    SelectionStrategy strategy = SelectionStrategy::Random;
    int count = 0;
    std::uint64_t seed = 1;
    int clusters = 3;   // cold-start's k (the authors' 3); hybrid uses count clusters
    int passes = 10;    // bald's MC dropout passes T (ours; for whoever fills the pool)
    int buckets = 16;   // alps's surprisal buckets per clip (ours, ALPS has one per token; for
                        // whoever fills the pool)
    int perSpeaker = 0; // at most this many picks per speaker; 0: no cap
    double minSeconds = 0;
    double maxSeconds = 0; // 0: no upper bound
    bool includeLabeled = false;
    bool favourRare = false;         // ours; see above
    bool secondOpinions = false;     // ours; needs SelectionPool::mine
    bool disagreementsFirst = false; // ours; needs SelectionPool::mine and disagreements
};

struct SelectionPick
{
    int row = -1;
    qint64 utteranceId = 0;
    double score = 0;   // the strategy's own (see above; for margin, smaller is picked first)
    QString reason;     // in words, e.g. "margin 0.04 between angry and neutral"
    int predicted = -1; // the model's top class, when it has posteriors
    double confidence = 0;
};

// The picks, best first (at most options.count). Fails, saying why, when the pool lacks what
// the strategy needs (posteriors, embeddings) or the options are out of range.
Status selectClips(const SelectionPool &pool, const SelectionOptions &options,
                   QList<SelectionPick> *out);

} // namespace emolens
