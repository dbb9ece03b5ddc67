#pragma once
// PretrainJob: task-adaptive pre-training (seed 002) on every clip of the workspace that has
// features for the encoder, labeled or not - what `emolens-cli pretrain` runs.
//
// Modes (../shared/METHODS.md):
// - adapter (the default; "adapter TAPT", never "TAPT"): our one-click variant - seed 000's
//   teacher-student pre-training of the adapter-local-attributes recipe's backbone over the
//   frozen encoder's cached features. The result, a pre-trained backbone with its local
//   attributes, is stored in the workspace (ModelRepository::storeBackbone); later training
//   and evaluation runs whose backbone fits start from it (PretrainedBackbones).
// - paper (TAPT proper): continued self-supervised training of the encoder's own Transformer
//   with HuBERT's masked prediction of k-means targets (models/EncoderPretrainer says what is
//   HuBERT's and what is ours), from the projected CNN features the extraction cached for it
//   (extract --tapt-inputs). The adapted Transformer is stored as a backbone of mode "paper";
//   later paper-mode runs on the same encoder that run every layer start from it.
//
// The run is recorded as a training run of kind "pretrain" (recipe "adapter-tapt", or "tapt"
// for the paper mode), running
// while it runs; after every epoch a checkpoint goes to TrainJob::checkpointPath, from which a
// request with resumeRunId continues an interrupted run with its own settings. A cancel keeps
// nothing.
//
// Threads: construct anywhere; run() on a worker thread (its own Database connection).

#include "AdapterTrainer.h"
#include "EncoderPretrainer.h"
#include "jobs/Job.h"
#include "store/ModelRepository.h"

#include <QJsonArray>
#include <vector>

namespace emolens {

struct PretrainRequest
{
    QString databasePath;
    QString cacheDirectory;                   // empty: beside the workspace
    QString mode = QStringLiteral("adapter"); // adapter | paper
    QString encoder = QStringLiteral("fbank");
    quint32 seed = 1;
    int epochs = 0; // 0: the mode's default (adapter: the recipe's pre-training epochs)
    QString device = QStringLiteral("cpu");
    int threads = 0;
    int acousticInputs = -1; // -1: the encoder's default
    // Continue this interrupted pretrain run from its checkpoint, with its own settings.
    qint64 resumeRunId = 0;
};

struct PretrainReport
{
    qint64 runId = 0;
    BackboneRecord backbone; // id 0 when none was stored
    std::vector<PretrainRecord> history;
    std::vector<EncoderPretrainRecord> taptHistory; // paper mode
    int clips = 0;                                  // pre-trained on
    int labeledClips = 0; // of them, with a category (the local attributes' counts)
    int localAttributes = 0;
    QString settings; // the pre-training's, in one line
    bool resumed = false;
    int resumedAfterEpoch = 0;
    double seconds = 0;
};

class PretrainJob final : public Job
{
public:
    explicit PretrainJob(PretrainRequest request) : m_request(std::move(request)) {}

    QString name() const override;
    JobResult run(ProgressSink &progress) override;
    QString cancelEffect() const override
    {
        return QStringLiteral("Stop the pre-training; nothing is kept");
    }
    const PretrainReport &report() const { return m_report; }
    // Teacher-student pre-training epochs as JSON (stored with a backbone; the CLI's --json).
    static QJsonArray epochsJson(const std::vector<PretrainRecord> &history);
    static QJsonArray epochsJson(const std::vector<EncoderPretrainRecord> &history);
    // The epochs the checkpoint of TAPT-proper run runId holds (0 when none).
    static int checkpointEpochs(const QString &databasePath, qint64 runId);

private:
    JobResult runPaper(ProgressSink &progress);

    PretrainRequest m_request;
    PretrainReport m_report;
};

} // namespace emolens
