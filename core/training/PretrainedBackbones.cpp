#include "training/PretrainedBackbones.h"

#include <QCryptographicHash>
#include <QFile>

namespace emolens {

QString taptBackboneSettings(const EncoderRecord &encoder)
{
    return QStringLiteral("tapt encoder=%1x%2").arg(encoder.layerCount).arg(encoder.hiddenSize);
}

QString backboneMismatch(const BackboneRecord &backbone, const TrainingSet &set,
                         const TrainerOptions &options)
{
    if (backbone.mode == QLatin1String("paper")) {
        if (options.adapter.encoderFirstLayer <= 0)
            return QStringLiteral(
                "TAPT proper adapted the encoder itself, and one-click runs read the frozen "
                "encoder's cached features (paper-mode runs start from it)");
        if (backbone.encoderId != set.encoder.id)
            return QStringLiteral("TAPT adapted another encoder");
        if (backbone.backbone != taptBackboneSettings(set.encoder))
            return QStringLiteral("it is not this encoder's shape (%1)").arg(backbone.backbone);
        if (options.adapter.encoderFirstLayer != 1)
            return QStringLiteral(
                       "TAPT changed every Transformer layer, and this run would read the cached "
                       "output of layer %1, which is no longer its own: train every layer (leave "
                       "out --encoder-layers)")
                .arg(options.adapter.encoderFirstLayer - 1);
        return QString();
    }
    if (options.adapter.encoderFirstLayer > 0)
        return QStringLiteral("paper mode fine-tunes the encoder, and the backbone was "
                              "pre-trained over the frozen one");
    if (options.gmpAtl.multiTaskEpochs > 0 || options.ari.auxiliaryEpochs > 0)
        return QStringLiteral("the recipe's stages (GMP-ATL, or seed 003's stage 1) start "
                              "adapters of their own");
    if (backbone.encoderId != set.encoder.id)
        return QStringLiteral("it was pre-trained on another encoder's features");
    if (backbone.acousticInputs != set.acousticInputs)
        return backbone.acousticInputs
                   ? QStringLiteral(
                         "it was pre-trained with the acoustic inputs, this run has none")
                   : QStringLiteral("it was pre-trained without the acoustic inputs");
    const QString wanted =
        QString::fromStdString(AdapterTrainer::backboneSettings(options.adapter));
    if (backbone.backbone != wanted)
        return QStringLiteral("its backbone (%1) is not this recipe's (%2)")
            .arg(backbone.backbone, wanted);
    return QString();
}

Status chooseBackbone(ModelRepository &models, const TrainingSet &set, qint64 asked,
                      const QString &weightsPath, TrainerOptions *options, BackboneRecord *chosen,
                      QStringList *notes)
{
    *chosen = BackboneRecord();
    if (asked == kNoBackbone)
        return Status::success();
    if (asked > 0) {
        const auto backbone = models.backbone(asked);
        if (!backbone)
            return Status::failure(
                QStringLiteral("no pre-trained backbone %1 in this workspace (emolens-cli "
                               "pretrain makes one)")
                    .arg(asked));
        if (const QString why = backboneMismatch(*backbone, set, *options); !why.isEmpty())
            return Status::failure(
                QStringLiteral("pre-trained backbone %1 does not fit this run: %2")
                    .arg(asked)
                    .arg(why));
        *chosen = *backbone;
    } else {
        for (const BackboneRecord &b : models.backbones())
            if (backboneMismatch(b, set, *options).isEmpty()) {
                *chosen = b;
                break;
            }
        if (chosen->id == 0)
            return Status::success();
    }
    const QByteArray weights = models.backboneWeights(chosen->id);
    // Stored weights that no longer match their SHA-256 are refused here, by the backbone's id,
    // rather than by the temporary file the trainer would read them from.
    if (!weights.isEmpty() &&
        QString::fromLatin1(
            QCryptographicHash::hash(weights, QCryptographicHash::Sha256).toHex()) !=
            chosen->weightsHash)
        return Status::failure(
            QStringLiteral("pre-trained backbone %1 is damaged (its weights do not match their "
                           "SHA-256); run emolens-cli pretrain again, or train with --backbone "
                           "none")
                .arg(chosen->id));
    QFile file(weightsPath);
    if (weights.isEmpty() || !file.open(QIODevice::WriteOnly) ||
        file.write(weights) != weights.size() || !file.flush())
        return Status::failure(
            QStringLiteral("%1: cannot write pre-trained backbone %2 (%3)")
                .arg(weightsPath)
                .arg(chosen->id)
                .arg(weights.isEmpty() ? QStringLiteral("it has no weights") : file.errorString()));
    file.close();
    if (chosen->mode == QLatin1String("paper")) {
        options->encoderWeights = QFile::encodeName(weightsPath).toStdString();
        notes->append(QStringLiteral("starts from the encoder adapted by TAPT (backbone %1: its "
                                     "Transformer pre-trained further on %2 clips of the corpus, "
                                     "labeled or not)")
                          .arg(chosen->id)
                          .arg(chosen->clips));
        return Status::success();
    }
    options->initialBackbone = QFile::encodeName(weightsPath).toStdString();
    const int replaced = options->pretrain.epochs;
    options->pretrain.epochs = 0;
    notes->append(QStringLiteral("starts from adapter TAPT backbone %1 (pre-trained on %2 clips "
                                 "of the corpus, labeled or not)%3")
                      .arg(chosen->id)
                      .arg(chosen->clips)
                      .arg(replaced > 0 ? QStringLiteral(", in place of the recipe's %1 "
                                                         "pre-training epochs on the training "
                                                         "clips")
                                              .arg(replaced)
                                        : QString()));
    return Status::success();
}

} // namespace emolens
