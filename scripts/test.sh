#!/usr/bin/env bash
# The whole Loom test suite, from a fresh clone on a fresh Debian 12 machine:
#   1. scripts/setup.sh: Debian packages, the cached Python environment with the
#      reference tools, the default model, the build (all idempotent);
#   2. every test through CTest: GoogleTest unit tests, the corrupt-GGUF catalogue, the
#      fuzz-corpus replay, and the pytest suites that compare Loom with gguf-py and
#      llama.cpp (llama-cpp-python);
#   3. the GGUF-facing tests again under AddressSanitizer and UBSan (build-asan/).
# Environment: LOOM_TEST_NO_ASAN=1 skips step 3; CTEST_ARGS adds ctest options.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
jobs="$(nproc)"

echo "== tests (build/)" >&2
ctest --test-dir build --output-on-failure -j "$jobs" ${CTEST_ARGS:-}

if [[ "${LOOM_TEST_NO_ASAN:-0}" != 1 ]]; then
    echo "== tests under AddressSanitizer + UBSan (build-asan/)" >&2
    model="${LOOM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/loom}/models/gemma-3-270m-q4_k_m.gguf"
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOOM_SANITIZE=ON \
          -DLOOM_BUILD_BENCH=OFF -DLOOM_PYTHON= -DLOOM_DEFAULT_MODEL="$model" >/dev/null
    cmake --build build-asan -j "$jobs"
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L fast ${CTEST_ARGS:-}
fi
