#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs one.
#   scripts/fuzz.sh [TARGET] [SECONDS] [JOBS]     defaults: gguf_reader 600 1
# The corpus is kept in fuzz/corpus/<target>/ (commit new inputs it adds); crashes land
# in fuzz/ as crash-* files: add each to the corpus as a regression input, fix the bug.
# An allocation above 128 MiB from an input of at most 64 KiB counts as a crash: the
# reader must never allocate more than the file justifies.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-gguf_reader}"
seconds="${2:-600}"
jobs="${3:-1}"
build="$root/build-fuzz"
if [[ ! -f "$build/build.ninja" ]]; then
    CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DLOOM_FUZZ=ON -DLOOM_BUILD_TESTS=OFF -DLOOM_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$build" --target "${target}_fuzz"
corpus="$root/fuzz/corpus/$target"
mkdir -p "$corpus"
dict=()
[[ -f "$root/fuzz/${target%%_*}.dict" ]] && dict=(-dict="$root/fuzz/${target%%_*}.dict")
cd "$root/fuzz"
"$build/fuzz/${target}_fuzz" "$corpus" "${dict[@]}" -max_total_time="$seconds" \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=128 \
    -jobs="$jobs" -workers="$jobs" -print_final_stats=1
