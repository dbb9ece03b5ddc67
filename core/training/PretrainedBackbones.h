#pragma once
// PretrainedBackbones: which stored adapter TAPT backbone (seed 002's one-click variant; see
// PretrainJob) a training or evaluation run starts from - or, for a paper-mode run, which
// encoder adapted by TAPT proper (mode "paper"): it fits a paper-mode run on the same encoder's
// features that runs every Transformer layer (TAPT changed them all, so the cached output of
// any layer above 0 is no longer theirs), and its weights replace the encoder folder's
// (TrainerOptions::encoderWeights). A backbone fits a run when it was
// pre-trained on the same encoder's features, with the same acoustic inputs, and its backbone
// settings (AdapterTrainer::backboneSettings) equal the run's adapter's - in practice the
// adapter-local-attributes recipe, whose own pre-training on the training clips it then
// replaces. Runs with a stage that starts adapters of its own (GMP-ATL, seed 003's stage 1)
// never start from one.
//
// Threads: the thread that owns the Database.

#include "common/Status.h"
#include "store/ModelRepository.h"
#include "training/TrainingSet.h"

#include <QString>
#include <QStringList>

namespace emolens {

// The backbone asked for by a run: the newest that fits, none, or one by id.
constexpr qint64 kNewestFittingBackbone = -1;
constexpr qint64 kNoBackbone = 0;

// Chooses the backbone (asked: kNewestFittingBackbone, kNoBackbone or an id) for a run with
// these options on this set. With one chosen: its weights are written to weightsPath,
// options->initialBackbone names that file, options->pretrain.epochs becomes 0, *chosen is
// filled and a note for the user says so. Without one: chosen->id stays 0 and options are
// unchanged. Fails when an id was asked that is not there or does not fit (saying why), or
// when the weights cannot be written.
Status chooseBackbone(ModelRepository &models, const TrainingSet &set, qint64 asked,
                      const QString &weightsPath, TrainerOptions *options, BackboneRecord *chosen,
                      QStringList *notes);

// What a TAPT-proper backbone (mode "paper") records as its settings: the encoder's shape.
QString taptBackboneSettings(const EncoderRecord &encoder);

// Why this backbone does not fit a run with these options on this set; empty when it fits.
QString backboneMismatch(const BackboneRecord &backbone, const TrainingSet &set,
                         const TrainerOptions &options);

} // namespace emolens
