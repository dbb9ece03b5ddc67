#pragma once
// AdapterOptions: the settings of an EmotionAdapter, in a header without Torch, so the layers
// above (recipes, the store, the CLI) can name and record them without compiling Torch.

#include <string>

namespace emolens {

// Ari: seed 003's adaptive representation integration - the last layer plus a learned
// integration of the layers between the first (the CNN's projection, left out) and the last.
enum class LayerIntegration { WeightedAverage, SingleLayer, Ari };
// CoAttention: seed 003's auxiliary-task heads guide the weighting of the frames (below).
enum class AdapterPooling { Mean, AttentiveStatistics, CoAttention };

struct AdapterOptions
{
    // The encoder's shape.
    int layerCount = 1;
    int hiddenSize = 80;
    // Per-frame extra inputs (e.g. 3: F0, voicing, energy), appended after layer integration.
    int extraInputs = 0;

    LayerIntegration layerIntegration = LayerIntegration::WeightedAverage;
    int chosenLayer = -1; // SingleLayer: which one; -1 is the last

    int width = 256;           // projection width
    int transformerLayers = 3; // 0: projection only
    int heads = 4;
    int feedForward = 512; // Transformer feed-forward width
    // A depthwise convolution over time of this odd kernel (0: none), added to the projected
    // frames before the blocks, as wav2vec 2.0's convolutional position embedding: without it
    // the blocks see a clip's frames as a set, and a masked frame could not be told from its
    // neighbours (seed 000's mask prediction needs that).
    int positionKernel = 0;
    bool averageBlocks = true; // WAP over the blocks' outputs; false: the last block's
    double dropout = 0.1;

    AdapterPooling pooling = AdapterPooling::AttentiveStatistics;
    int attentionWidth = 128; // SAP's scoring layer

    int classCount = 4;     // 0: no categorical head
    int dimensionCount = 0; // 0: no dimensional head

    // Seed 003's auxiliary tasks (CoAttention pooling needs at least one): classes per task,
    // 0 where the task is not trained. Utterance tasks read the clip's mean frame; character
    // CTC reads every frame (characterClasses counts the blank, id 0).
    int genderClasses = 0;
    int speakerClasses = 0;
    int styleClasses = 0; // scripted, improvised
    int characterClasses = 0;
    int auxiliaryWidth = 256; // each auxiliary task's hidden state (the co-attention's query)

    // Paper mode (seeds 001-003; ../shared/METHODS.md, "Encoder fine-tuning"): the encoder's
    // own Transformer layers from encoderFirstLayer (1: the first) to the last run inside the
    // adapter on the cached output of the layer below, and replace the cached layers above it;
    // they train with the adapter (TrainerOptions says from which layer and at what rate). 0:
    // none, the one-click mode. encoderConfig is the encoder's config.json text (its shape);
    // the weights come from TrainerOptions::encoderFolder when a run starts, and from the
    // adapter's own file after. encoderDropout: Hugging Face's attention and hidden dropout.
    int encoderFirstLayer = 0;
    std::string encoderConfig;
    double encoderDropout = 0.1;

    // "wap-transformer w256 x3 h4 sap ..." : the settings in one line, for logs and the store.
    std::string describe() const;
};

} // namespace emolens
