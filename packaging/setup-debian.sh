#!/usr/bin/env bash
# Installs every Debian package EmoLens needs to build, test and run.
# Idempotent: packages already present are left alone. Run as root (or via sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # Qt 6: Widgets, Multimedia, Charts, Sql (SQLite and PostgreSQL drivers), Test
  qt6-base-dev qt6-base-dev-tools qt6-multimedia-dev qt6-charts-dev qt6-svg-dev
  libqt6sql6-sqlite libqt6sql6-psql libqt6opengl6-dev libxkbcommon-dev libgl-dev
  qt6-qpa-plugins
  # playback backend for QMediaPlayer
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  # LibTorch (CPU) with a fast BLAS; the programs switch to the OpenMP build, which shares
  # LibTorch's threads (models/BlasKernels.h)
  libtorch-dev libopenblas0-pthread libopenblas0-openmp
  # audio
  libsndfile1-dev libsoxr-dev libxxhash-dev
  # demo and test corpus generation
  espeak-ng sox
  # packaging: icons, validators, man page
  librsvg2-bin desktop-file-utils appstream dpkg-dev
  # fixtures for encoder parity
  python3 python3-numpy
  # the test suite's own PostgreSQL server (tests/support/postgres-server.sh)
  postgresql
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-debian: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup-debian: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
