// Helpers of the quant tests: seeded random rows, NMSE, and byte buffers with guard
// zones on both sides (the sentinel idea of ggml's test-backend-ops) to catch a kernel
// that reads or writes outside its row.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace loom::quant::test {

// n samples of N(0, sigma^2), reproducible from seed.
inline std::vector<float> random_normal(int64_t n, uint32_t seed, float sigma = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, sigma);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = dist(rng);
    return v;
}

// n random bytes, reproducible from seed.
inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng() & 0xff);
    return v;
}

// sum (ref - got)^2 / sum ref^2, in double.
inline double nmse(const float* ref, const float* got, int64_t n) {
    double err = 0.0;
    double norm = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(ref[i]) - got[i];
        err += d * d;
        norm += static_cast<double>(ref[i]) * ref[i];
    }
    return norm > 0.0 ? err / norm : err;
}

// A byte buffer of `size` usable bytes between two guard zones filled with a pattern.
// data() is the first usable byte; offset shifts it by up to 15 bytes (unaligned rows).
class GuardedBuffer {
public:
    static constexpr size_t kGuard = 64;
    static constexpr uint8_t kPattern = 0xa5;

    explicit GuardedBuffer(size_t size, size_t offset = 0)
        : size_(size), offset_(offset), bytes_(kGuard + 16 + size + kGuard, kPattern) {}

    uint8_t* data() { return bytes_.data() + kGuard + offset_; }
    float* floats() { return reinterpret_cast<float*>(data()); }
    size_t size() const { return size_; }

    // True when no byte outside [data(), data() + size) changed.
    bool guards_intact() const {
        const size_t begin = kGuard + offset_;
        for (size_t i = 0; i < bytes_.size(); ++i) {
            if ((i < begin || i >= begin + size_) && bytes_[i] != kPattern) return false;
        }
        return true;
    }

private:
    size_t size_;
    size_t offset_;
    std::vector<uint8_t> bytes_;
};

}  // namespace loom::quant::test
