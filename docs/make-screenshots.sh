#!/usr/bin/env bash
# Regenerates the guide's screenshots from the real application, offscreen:
#   docs/make-screenshots.sh [BUILD_DIR]      (default: build)
# Generates the demo corpus and imports it into a scratch workspace, makes a copy of the
# corpus with broken files for the import report, and renders each scene of
# emolens-screenshot into docs/images/. Needs a build with emolens-cli and emolens-screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cli=$build/app/emolens-cli
shot=$build/app/emolens-screenshot
for tool in "$cli" "$shot"; do
  [ -x "$tool" ] || { echo "make-screenshots: $tool is missing; build first" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen
images=docs/images
mkdir -p "$images"

"$cli" demo --out "$work/demo" >/dev/null
"$cli" import "$work/demo" --db "$work/demo.emolens" --name "Demo corpus" >/dev/null

# The demo corpus with three files an import must skip: a manifest line naming a file that
# does not exist, an empty .wav and a text file named .wav.
bad=$work/demo-with-problems
cp -r "$work/demo" "$bad"
: >"$bad/audio/alice/alice_empty.wav"
echo "These are meeting notes, not a recording." >"$bad/audio/beth/beth_notes.wav"
cat >>"$bad/manifest.csv" <<'EOF'
audio/carol/carol_happy_9.wav,happy,carol,female,This file was never recorded.
audio/alice/alice_empty.wav,sad,alice,female,The recorder stopped before it started.
audio/beth/beth_notes.wav,angry,beth,female,Someone saved the notes under the wrong name.
EOF

"$shot" --scene main "$work/demo.emolens" "$images/main-window.png" 1400x900 5
"$shot" --scene empty "$images/empty-state.png" 1100x700
"$shot" --scene import-report --import "$bad" "$work/report.emolens" "$images/import-report.png"
# Labeling writes to the workspace: use a copy, so the other scenes stay unlabeled.
cp "$work/demo.emolens" "$work/labeling.emolens"
"$shot" --scene labeling "$work/labeling.emolens" "$images/labeling.png" 1400x900 5
# The same on a small screen: every panel keeps what it needs.
cp "$work/demo.emolens" "$work/labeling-small.emolens"
"$shot" --scene labeling "$work/labeling-small.emolens" "$images/labeling-1024x700.png" 1024x700 5
# With a model: features, one training run of the default recipe, then the same scene.
cp "$work/demo.emolens" "$work/model.emolens"
"$cli" extract --db "$work/model.emolens" >/dev/null
"$cli" train --db "$work/model.emolens" >/dev/null
"$shot" --scene labeling "$work/model.emolens" "$images/labeling-model.png" 1400x900 5
# An adapter TAPT backbone (2 epochs) under the models.
"$cli" pretrain --db "$work/model.emolens" --epochs 2 >/dev/null
"$shot" --scene models "$work/model.emolens" "$images/models.png"
# Seed 000 whole: the local-attribute band under the emotion curves.
cp "$work/demo.emolens" "$work/attributes.emolens"
"$cli" extract --db "$work/attributes.emolens" >/dev/null
"$cli" train --db "$work/attributes.emolens" --recipe adapter-local-attributes >/dev/null
"$shot" --scene labeling "$work/attributes.emolens" "$images/labeling-local-attributes.png" 1400x900 5
# Retrain from the window (the default recipe) and the training dashboard as the run ends.
cp "$work/demo.emolens" "$work/training.emolens"
"$cli" extract --db "$work/training.emolens" >/dev/null
"$shot" --scene training "$work/training.emolens" "$images/training.png" 1400x900
"$shot" --scene shortcuts "$images/shortcuts.png"
"$shot" --scene export "$work/demo.emolens" "$images/export.png"
# The job log: the demo corpus imported, one file renamed, and the folder imported again.
moved=$work/demo-renamed
cp -r "$work/demo" "$moved"
"$cli" import "$moved" --db "$work/renamed.emolens" >/dev/null
mv "$moved/audio/alice/alice_happy_2.wav" "$moved/audio/alice/alice_glad_2.wav"
sed -i 's/alice_happy_2\.wav/alice_glad_2.wav/' "$moved/manifest.csv"
"$shot" --scene job-log --import "$moved" "$work/renamed.emolens" "$images/job-log.png" 1400x900
# Encoders: fbank extracted from the command line, then the tiny HuBERT test model added
# through the dialog and made active (its 3 x 32 shape is the fixture's, not a real model's).
# Encoders: fbank extracted, and the tiny HuBERT test model added from a models folder.
mkdir -p "$work/study" "$work/models"
cp "$work/demo.emolens" "$work/study/study.emolens"
cp -r tests/models/fixtures/hubert-tiny-base "$work/models/"
"$cli" extract --db "$work/study/study.emolens" --encoder fbank >/dev/null
"$shot" --scene encoders --model "$work/models/hubert-tiny-base" \
  "$work/study/study.emolens" "$images/encoders.png"
for name in main-window empty-state import-report labeling labeling-1024x700 labeling-model models shortcuts encoders export job-log queue learning-curves analysis-map analysis-confusion analysis-compare; do
  echo "wrote $images/$name.png"
done
# Active learning: the labeling queue ranked by the model (two clips labeled from it), and the
# learning curves of short simulations on the demo corpus (3 seeds of 4 strategies).
"$shot" --scene queue "$work/model.emolens" "$images/queue.png" 1400x900
cp "$work/demo.emolens" "$work/curves.emolens"
"$cli" extract --db "$work/curves.emolens" >/dev/null
for strategy in random margin bald badge; do
  for seed in 1 2 3; do
    "$cli" simulate --db "$work/curves.emolens" --strategy "$strategy" --seed "$seed" \
      --initial 8 --step 8 --rounds 5 --folds 3 >/dev/null
  done
done
"$shot" --scene learning-curves "$work/curves.emolens" "$images/learning-curves.png"
# Analysis: two models of the default recipe (the second stopped after 3 epochs), the t-SNE
# map of the fbank embeddings (computed by the scene), the confusion matrix of the active
# model with its most confused cell open, and the two models compared.
cp "$work/demo.emolens" "$work/analysis.emolens"
"$cli" extract --db "$work/analysis.emolens" >/dev/null
"$cli" train --db "$work/analysis.emolens" >/dev/null
"$cli" train --db "$work/analysis.emolens" --epochs 3 >/dev/null
for scene in map confusion compare; do
  "$shot" --scene "$scene" "$work/analysis.emolens" "$images/analysis-$scene.png" 1200x800
done
