#!/usr/bin/env bash
# Regenerates the guide's screenshots from the real application, offscreen:
#   docs/make-screenshots.sh [BUILD_DIR]      (default: build)
# Generates the demo corpus, imports it into a scratch workspace, labels a few clips as an
# annotator would, and renders the main window into docs/images/.
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

"$cli" demo --out "$work/demo" >/dev/null
"$cli" import "$work/demo" --db "$work/demo.emolens" --name "Demo corpus" >/dev/null
mkdir -p docs/images
"$shot" "$work/demo.emolens" docs/images/main-window.png 1400x900 5
echo "wrote docs/images/main-window.png"
