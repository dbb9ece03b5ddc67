#include "training/Recipes.h"

#include <algorithm>

namespace emolens {

QString defaultRecipeFor(qint64 labeledFrames, const QString &device)
{
    // wap-sap costs about 0.31 ms per training frame and epoch on this 2-core machine
    // (bench_train: 303 s for an epoch of 990,000 frames); 30 epochs of 60,000 frames are
    // about 9 minutes. baseline trains on the clips' frame means: about a second an epoch at
    // IEMOCAP's size.
    if (device.startsWith(QLatin1String("cuda")) || labeledFrames <= kQuickWapSapFrames)
        return QStringLiteral("wap-sap");
    return QStringLiteral("baseline");
}

QList<RecipeInfo> recipes()
{
    return {
        {QStringLiteral("baseline"),
         QStringLiteral("learned layer weights, mean pooling, linear classifier"),
         QStringLiteral("SUPERB's emotion-recognition protocol (weighted layer sum, a projection "
                        "to 256, mean pooling, linear); optimiser, epochs and early stopping are "
                        "our defaults; ours too: it trains on each clip's frame means, which "
                        "gives the same clip logits, with dropout acting on the mean")},
        {QStringLiteral("wap-sap"),
         QStringLiteral("WAP-Transformer (3 blocks, 4 heads) with attentive statistics pooling"),
         QStringLiteral("seed 000's adapter as docs/methods.md reads it: width 256, 3 "
                        "Transformer blocks, 4 heads, weighted average over layers and blocks, "
                        "SAP; feed-forward 512, dropout 0.1, AdamW 5e-4 and early stopping are our "
                        "defaults where the paper is silent")},
        {QStringLiteral("adapter-local-attributes"),
         QStringLiteral("seed 000: wap-sap after teacher-student pre-training with local "
                        "attributes"),
         QStringLiteral("seed 000 states the parts: a student trained by mask prediction and "
                        "self-distillation, its EMA as the teacher, local attributes by clustering "
                        "the teacher's outputs, then adapter + SAP + classifier on the labels with "
                        "the encoder frozen. Our defaults where it is silent: 10 pre-training "
                        "epochs on every training clip (labels unused), spans of 8 frames over "
                        "50 % of each clip, EMA 0.999 rising to 0.9999, k = 64 refreshed every 2 "
                        "epochs on 50,000 frames, loss weights 1/1, fine-tuning from the student "
                        "as wap-sap; ours too: a depthwise convolution over 15 frames before the "
                        "blocks tells them where each frame is, which mask prediction needs")},
        {QStringLiteral("gmp-atl"),
         QStringLiteral("seed 001: wap-sap trained with gender, then with multi-scale frame "
                        "pseudo-labels, then fine-tuned"),
         QStringLiteral("seed 001 states the steps: a multi-task model of emotion and gender, "
                        "k-means at several k of its frame features (the gender-augmented "
                        "multi-scale pseudo-labels), retraining on the frame pseudo-labels with "
                        "the utterance labels, then fine-tuning on the utterance labels; the paper "
                        "retrains HuBERT itself. Ours: the adapter over the frozen encoder (the "
                        "wap-sap network), k = 64, 128, 256 on 50,000 frames, task weights 1, 20 "
                        "epochs each for steps 1 and 3 at AdamW 5e-4, a fresh adapter for step 3, "
                        "then wap-sap's fine-tuning; clips of unknown gender train emotion "
                        "alone in step 1. Paper mode also fine-tunes the encoder's Transformer "
                        "layers in steps 3 and 4 (step 1 keeps them as pre-trained; the CNN and "
                        "the positional convolution stay frozen, since the cache holds their "
                        "output), with the wap-sap head without its blocks; ours where seed 001 "
                        "is silent: seed 003's batch of 4 and rates 1e-4 (heads) and 1e-5 "
                        "(encoder)")},
        {QStringLiteral("ari-coattention"),
         QStringLiteral("seed 003: ARI over the encoder's layers, auxiliary tasks (gender, "
                        "speaker, style, characters) guiding the pooling by co-attention, "
                        "two stages"),
         QStringLiteral("seed 003 states the parts: ARI (the last Transformer layer plus a "
                        "learned integration of layers 1-11 through a weight matrix), auxiliary "
                        "tasks from the metadata (gender, speaker, speaking style, character "
                        "CTC) with their own loss weights, co-attention of the auxiliary hidden "
                        "states over the ARI frames, joined with those states before the emotion "
                        "head (mean pooling, two fully connected layers with dropout), stage 1 on "
                        "the auxiliary tasks and stage 2 on emotion plus the weighted auxiliary "
                        "losses; the paper fine-tunes the encoder. Ours: the adapter over the "
                        "frozen encoder; ARI's matrix as per-dimension softmax weights over the "
                        "layers, added to the last layer; a projection to 256; auxiliary hidden "
                        "states of 256; the tasks' frame weights averaged; task weights 1 "
                        "(the paper tunes them and gives none); 20 stage-1 epochs, then 30 with "
                        "early stopping, AdamW 5e-4; tasks without metadata are dropped with a "
                        "message. Paper mode: the paper's own stages on the encoder - every "
                        "Transformer layer trained in stage 1, the first 4 frozen in stage 2, "
                        "100 epochs per stage, batch 4, learning rates 1e-4 (heads) and 1e-5 "
                        "(encoder), no adapter blocks; ours: the positional convolution stays "
                        "frozen with the CNN (the cache holds its output), the best epoch on the "
                        "validation speakers is kept")},
        {QStringLiteral("default"),
         QStringLiteral("what Retrain runs: wap-sap up to 20 minutes of labeled audio on the "
                        "CPU, baseline above (wap-sap on CUDA)"),
         QStringLiteral("ours: wap-sap scored best on the generated corpus; above 20 minutes of "
                        "labeled audio its epochs would take one-click retraining past ten "
                        "minutes on a 2-core CPU, so baseline trains instead")},
    };
}

bool recipeHasPretraining(const QString &name)
{
    TrainerOptions options;
    // The stage does not depend on the encoder's shape: any will do.
    return recipeOptions(name, 2, 8, 0, 2, &options, nullptr) && options.pretrain.epochs > 0;
}

bool recipeOptions(const QString &name, int layerCount, int hiddenSize, int extraInputs,
                   int classCount, TrainerOptions *options, QString *error)
{
    const QString &recipe = name;
    if (recipe.isEmpty() || recipe == QLatin1String("default")) {
        if (error)
            *error = QStringLiteral("the default recipe depends on the labeled set: resolve it "
                                    "before asking for its settings");
        return false;
    }
    TrainerOptions o;
    o.adapter.layerCount = layerCount;
    o.adapter.hiddenSize = hiddenSize;
    o.adapter.extraInputs = extraInputs;
    o.adapter.classCount = classCount;
    o.adapter.layerIntegration =
        layerCount > 1 ? LayerIntegration::WeightedAverage : LayerIntegration::SingleLayer;
    o.adapter.width = 256;
    o.adapter.dropout = 0.1;
    if (recipe == QLatin1String("baseline")) {
        o.adapter.transformerLayers = 0;
        o.adapter.pooling = AdapterPooling::Mean;
        o.learningRate = 1e-3;
        o.epochs = 40;
        o.patience = 8;
    } else if (recipe == QLatin1String("wap-sap") ||
               recipe == QLatin1String("adapter-local-attributes") ||
               recipe == QLatin1String("gmp-atl")) {
        o.adapter.transformerLayers = 3;
        o.adapter.heads = 4;
        o.adapter.feedForward = 512;
        o.adapter.averageBlocks = true;
        o.adapter.pooling = AdapterPooling::AttentiveStatistics;
        o.learningRate = 5e-4;
        o.epochs = 30;
        o.patience = 6;
        if (recipe == QLatin1String("adapter-local-attributes")) {
            // Our defaults (seed 000 is silent): 10 epochs; PretrainOptions' values otherwise.
            o.pretrain.epochs = 10;
            // Ours: the blocks need to know where a frame is to predict a masked one from its
            // neighbours; 15 frames is 0.3 s at 50 frames/s.
            o.adapter.positionKernel = 15;
        }
        if (recipe == QLatin1String("gmp-atl")) {
            // Our defaults (seed 001 is silent); GmpAtlOptions' values otherwise.
            o.gmpAtl.multiTaskEpochs = 20;
            o.gmpAtl.retrainEpochs = 20;
        }
    } else if (recipe == QLatin1String("ari-coattention")) {
        // Seed 003's parts; our values where the paper is silent (AriOptions otherwise). The
        // auxiliary heads' class counts come from the training set (fitAuxiliaryTasks); the
        // gender task stands in for "some task" until then.
        o.adapter.layerIntegration = LayerIntegration::Ari;
        // Ours: the paper fine-tunes the encoder's last 8 Transformer layers; over the frozen
        // encoder, the adapter's 3 blocks stand in for them (without any, a linear projection
        // of per-clip-normalised fbank frames has a constant mean, and the frame weighting
        // alone would have to carry the emotion).
        o.adapter.transformerLayers = 3;
        o.adapter.heads = 4;
        o.adapter.feedForward = 512;
        o.adapter.averageBlocks = false;
        o.adapter.pooling = AdapterPooling::CoAttention;
        o.adapter.attentionWidth = 128;
        o.adapter.auxiliaryWidth = 256;
        o.adapter.genderClasses = 2;
        o.learningRate = 5e-4;
        o.epochs = 30;
        o.patience = 6;
        o.ari.auxiliaryEpochs = 20;
        o.ari.learningRate = 5e-4;
    } else {
        if (error) {
            QStringList names;
            for (const RecipeInfo &r : recipes())
                names << r.name;
            *error = QStringLiteral("unknown recipe \"%1\" (known: %2)")
                         .arg(name, names.join(QStringLiteral(", ")));
        }
        return false;
    }
    *options = o;
    return true;
}

QString ariRecordText(const AriRecord &record, const AdapterOptions &adapter)
{
    QStringList parts;
    auto task = [&parts](const char *name, double loss, double accuracy) {
        parts << QStringLiteral("%1 loss %2 (%3 % right)")
                     .arg(QLatin1String(name))
                     .arg(loss, 0, 'f', 3)
                     .arg(100 * accuracy, 0, 'f', 0);
    };
    if (adapter.genderClasses > 0)
        task("gender", record.genderLoss, record.genderAccuracy);
    if (adapter.speakerClasses > 0)
        task("speaker", record.speakerLoss, record.speakerAccuracy);
    if (adapter.styleClasses > 0)
        task("style", record.styleLoss, record.styleAccuracy);
    if (adapter.characterClasses > 0)
        parts << QStringLiteral("CTC loss %1").arg(record.characterLoss, 0, 'f', 3);
    return parts.join(QStringLiteral(", "));
}

QStringList auxiliaryTaskNames(const AdapterOptions &adapter)
{
    QStringList names;
    if (adapter.genderClasses > 0)
        names << QStringLiteral("gender");
    if (adapter.speakerClasses > 0)
        names << QStringLiteral("speaker");
    if (adapter.styleClasses > 0)
        names << QStringLiteral("style");
    if (adapter.characterClasses > 0)
        names << QStringLiteral("characters");
    return names;
}

namespace {

// Paper mode's settings over the recipe's (see Recipes.h); the run's own epochs stay.
bool paperOptions(const RunChoices &choices, int layerCount, TrainerOptions *o, QString *error)
{
    const auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    const bool ari = choices.recipe == QLatin1String("ari-coattention");
    if (!ari && choices.recipe != QLatin1String("gmp-atl"))
        return fail(QStringLiteral("the recipe \"%1\" has no paper mode: only gmp-atl and "
                                   "ari-coattention (seeds 001 and 003) fine-tune the encoder; "
                                   "seed 000 keeps it frozen, as the one-click mode does")
                        .arg(choices.recipe));
    const int transformerLayers = layerCount - 1;
    if (transformerLayers < 1)
        return fail(QStringLiteral("paper mode fine-tunes the encoder's Transformer layers, and "
                                   "these features come from an encoder without any (fbank): "
                                   "extract features with a wav2vec 2.0, HuBERT or WavLM folder"));
    if (choices.encoderFolder.isEmpty())
        return fail(QStringLiteral("paper mode needs the encoder's model folder"));
    const int trained = choices.encoderLayers > 0 ? choices.encoderLayers : transformerLayers;
    if (trained > transformerLayers)
        return fail(QStringLiteral("the encoder has %1 Transformer layers; %2 cannot train")
                        .arg(transformerLayers)
                        .arg(trained));
    o->adapter.encoderFirstLayer = transformerLayers - trained + 1;
    o->encoderFolder = choices.encoderFolder.toStdString();
    // The fine-tuned layers take the place of the adapter's stand-in blocks.
    o->adapter.transformerLayers = 0;
    o->maxBatchClips = kPaperBatchClips;
    o->encoderLearningRate = kPaperEncoderLearningRate;
    o->learningRate = kPaperHeadLearningRate;
    if (ari) {
        // Stage 1 trains every layer that runs; stage 2 freezes the first 4 Transformer layers.
        o->encoderTrainFrom = std::min(
            std::max(o->adapter.encoderFirstLayer, kPaperFrozenLayers + 1), transformerLayers);
        o->ari.learningRate = kPaperHeadLearningRate;
        if (choices.auxiliaryEpochs < 0)
            o->ari.auxiliaryEpochs = kPaperEpochs;
        if (choices.epochs <= 0)
            o->epochs = kPaperEpochs;
        o->patience = 0; // the paper trains its epochs through (the best one is still kept)
    } else {
        o->encoderTrainFrom = o->adapter.encoderFirstLayer;
        o->gmpAtl.learningRate = kPaperHeadLearningRate;
    }
    return true;
}

} // namespace

QList<double> speedPerturbationRates()
{
    return {0.8, 1.2};
}

QString paperModeNote(const TrainerOptions &o)
{
    const int first = o.adapter.encoderFirstLayer;
    if (first <= 0)
        return QString();
    const int last = o.adapter.layerCount - 1;
    const int from = o.encoderTrainFrom > 0 ? o.encoderTrainFrom : first;
    const QString layers = first == last ? QStringLiteral("layer %1").arg(first)
                                         : QStringLiteral("layers %1-%2").arg(first).arg(last);
    QString training;
    if (o.ari.auxiliaryEpochs > 0)
        training = from == first ? QStringLiteral("both stages train all of them")
                                 : QStringLiteral("stage 1 trains all of them, stage 2 those "
                                                  "from layer %1")
                                       .arg(from);
    else if (o.gmpAtl.multiTaskEpochs > 0)
        training = QStringLiteral("GMP-ATL's steps 3 and 4 train them from layer %1 (step 1 "
                                  "leaves them as pre-trained)")
                       .arg(from);
    else
        training = QStringLiteral("they train from layer %1").arg(from);
    QString speed;
    if (o.adapter.pooling == AdapterPooling::CoAttention)
        speed = o.speedPerturbation
                    ? QStringLiteral("; speed perturbation at 0.8, 1.0 and 1.2, one rate per batch")
                    : QStringLiteral("; no speed perturbation (--speed-perturb adds it)");
    return QStringLiteral("paper mode: the encoder's Transformer %1 run inside the adapter; %2, "
                          "at learning rate %3, in batches of %4 clips%5")
        .arg(layers, training)
        .arg(o.encoderLearningRate)
        .arg(o.maxBatchClips)
        .arg(speed);
}

bool runOptions(const RunChoices &choices, int layerCount, int hiddenSize, int extraInputs,
                int classCount, TrainerOptions *options, QString *error)
{
    if (!recipeOptions(choices.recipe, layerCount, hiddenSize, extraInputs, classCount, options,
                       error))
        return false;
    options->seed = choices.seed;
    options->device = choices.device.toStdString();
    options->threads = choices.threads;
    if (choices.epochs > 0)
        options->epochs = choices.epochs;
    if (choices.pretrainEpochs >= 0) {
        if (options->pretrain.epochs == 0 && choices.pretrainEpochs > 0) {
            if (error)
                *error = QStringLiteral("the recipe \"%1\" has no pre-training stage (%2 has)")
                             .arg(choices.recipe, QStringLiteral("adapter-local-attributes"));
            return false;
        }
        options->pretrain.epochs = choices.pretrainEpochs;
    }
    if (choices.gmpEpochs >= 0) {
        if (options->gmpAtl.multiTaskEpochs == 0 || choices.gmpEpochs < 1) {
            if (error)
                *error = choices.gmpEpochs < 1
                             ? QStringLiteral("GMP-ATL's steps take at least one epoch each")
                             : QStringLiteral("the recipe \"%1\" has no GMP-ATL steps (%2 has)")
                                   .arg(choices.recipe, QStringLiteral("gmp-atl"));
            return false;
        }
        options->gmpAtl.multiTaskEpochs = choices.gmpEpochs;
        options->gmpAtl.retrainEpochs = choices.gmpEpochs;
    }
    if (choices.auxiliaryEpochs >= 0) {
        if (options->adapter.pooling != AdapterPooling::CoAttention) {
            if (error)
                *error = QStringLiteral("the recipe \"%1\" has no auxiliary-task stage (%2 has)")
                             .arg(choices.recipe, QStringLiteral("ari-coattention"));
            return false;
        }
        options->ari.auxiliaryEpochs = choices.auxiliaryEpochs;
    }
    if (choices.freezeAri) {
        if (options->adapter.layerIntegration != LayerIntegration::Ari ||
            options->ari.auxiliaryEpochs == 0) {
            if (error)
                *error = options->adapter.layerIntegration != LayerIntegration::Ari
                             ? QStringLiteral("the recipe \"%1\" has no ARI to freeze (%2 has)")
                                   .arg(choices.recipe, QStringLiteral("ari-coattention"))
                             : QStringLiteral("ARI is frozen in stage 1, which this run skips "
                                              "(--auxiliary-epochs 0)");
            return false;
        }
        options->ari.freezeAriInStage1 = true;
    }
    if (choices.speedPerturbation) {
        if (choices.recipe != QLatin1String("ari-coattention")) {
            if (error)
                *error = QStringLiteral("the recipe \"%1\" has no speed perturbation (%2 has)")
                             .arg(choices.recipe, QStringLiteral("ari-coattention"));
            return false;
        }
        options->speedPerturbation = true;
    }
    if (choices.mode == QLatin1String("paper"))
        return paperOptions(choices, layerCount, options, error);
    if (choices.mode != QLatin1String("one-click")) {
        if (error)
            *error = QStringLiteral("unknown mode \"%1\" (one-click or paper)").arg(choices.mode);
        return false;
    }
    if (choices.encoderLayers != 0) {
        if (error)
            *error = QStringLiteral("only paper mode fine-tunes encoder layers");
        return false;
    }
    return true;
}

} // namespace emolens
