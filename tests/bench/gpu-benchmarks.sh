#!/bin/bash
# tests/bench/gpu-benchmarks.sh [OUTDIR]: builds emolens::models, its tests and the models-only
# benchmarks against the PyTorch LibTorch of a GPU machine (no Qt there), then runs, each with
# its own time limit so one slow step cannot hide the others:
#   1. the models/ tests (CPU) on that LibTorch, one process per suite (a backtrace if one
#      crashes)
#   2. bench_kmeans on CUDA at issue 11's size, scikit-learn on the machine's cores as reference
#   3. bench_encoder cuda in fp32 and bf16 (the batched path checked against the CPU's), torchaudio's
#      hubert_base on the same GPU in fp32 and bf16 as reference
#   4. bench_train cuda at IEMOCAP's 4-class size, every recipe
# Each step's output goes to OUTDIR/NAME.log (default ./gpu-results). Run from the repository
# root; python3 must be the one with PyTorch (its CMake files are found through it).
# EMOLENS_GPU_STEPS picks steps (default "tests kmeans encoder train"), EMOLENS_GPU_SUITES the
# models/ test suites (default all) and EMOLENS_GPU_TARGETS the targets built (default all).
set -u
out=${1:-gpu-results}
mkdir -p "$out"
build=${EMOLENS_GPU_BUILD:-/tmp/emolens-gpu-build}
jobs=$(nproc)
python=$(command -v python3)
steps=" ${EMOLENS_GPU_STEPS:-tests kmeans encoder train} "
wanted() { [[ $steps == *" $1 "* ]]; }
export EMOLENS_REFERENCE_PYTHON=$python

step() { # NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit} s): $*" | tee "$out/$name.log"
    local start=$SECONDS
    timeout --signal=KILL "$limit" stdbuf -oL -eL "$@" >>"$out/$name.log" 2>&1
    local rc=$?
    echo "== $name: exit $rc after $((SECONDS - start)) s" | tee -a "$out/$name.log"
    tail -n 40 "$out/$name.log"
    return $rc
}

{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
    lscpu | grep -E '^(Model name|CPU\(s\))'
}

prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
export PATH=$PATH:/usr/local/cuda/bin TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
export EMOLENS_SOURCE_DIR=$PWD
generator=("-G" "Unix Makefiles") keep=(-k)
if command -v ninja >/dev/null; then generator=("-G" "Ninja") keep=(-k 0); fi
configure=(cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
    -DEMOLENS_MODELS_ONLY=ON -DCMAKE_PREFIX_PATH="$prefix")
if ! step configure 60 "${configure[@]}"; then
    # Some LibTorch CMake files need the CUDA compiler named outright.
    rm -rf "$build"
    step configure-again 60 "${configure[@]}" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" \
        -DCMAKE_CUDA_ARCHITECTURES=90
fi
# Keep going: a target that fails to compile does not keep the others from being built and run.
targets=()
for target in ${EMOLENS_GPU_TARGETS:-}; do targets+=(--target "$target"); done
step build 240 cmake --build "$build" -j "$jobs" "${targets[@]}" -- "${keep[@]}"

bin=$build/tests/models
# A crash: where, from cuda-gdb (the GPU image has no gdb; cuda-gdb debugs host code too).
backtrace() { # NAME COMMAND...
    local name=$1
    shift
    command -v cuda-gdb >/dev/null &&
        step "$name" 90 cuda-gdb -batch -ex run -ex bt -ex "info sharedlibrary" --args "$@"
}
if wanted tests && [ -x "$bin/models_tests" ]; then
    # One process per suite, as ctest runs them, so a crash in one leaves the others' results.
    for suite in ${EMOLENS_GPU_SUITES:-json safetensors loader encoder wavlm fbank adapter pretrain gmp kmeans}; do
        step "models_$suite" 120 "$bin/models_tests" "${suite}_"
        rc=$?
        cat "$out/models_$suite.log" >>"$out/models_tests.log"
        rm "$out/models_$suite.log"
        [ $rc -ge 128 ] && [ -z "${crashed:-}" ] && crashed=${suite}_
    done
    [ -n "${crashed:-}" ] && backtrace bt_models "$bin/models_tests" "$crashed"
fi
wanted kmeans && [ -x "$bin/bench_kmeans" ] &&
    step kmeans 150 "$bin/bench_kmeans" --device cuda --threads "$jobs" --seeds 2
if wanted encoder && [ -x "$bin/bench_encoder" ]; then
    step encoder 240 "$bin/bench_encoder" cuda "$jobs" --runs 5
    [ $? -ge 128 ] && backtrace bt_encoder "$bin/bench_encoder" cuda "$jobs" --runs 1 --no-reference
fi
wanted train && [ -x "$bin/bench_train" ] && step train 150 "$bin/bench_train" cuda --threads "$jobs"
exit 0
