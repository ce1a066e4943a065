// Reference kernels of the legacy 32-weight block quants (Q4_0 ... Q8_1): see q_legacy.h.
// The order of floating-point operations copies ggml's C code term by term (it decides
// the last bit): dequantize from ggml-quants.c, dots from ggml-cpu/quants.c (_generic).
#include "quant/q_legacy.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "quant/block_io.h"
#include "quant/float_types.h"

namespace loom::quant {
namespace {

uint32_t load_qh(const uint8_t (&qh)[4]) noexcept {
    uint32_t v;
    std::memcpy(&v, qh, sizeof v);
    return v;
}

void store_qh(uint8_t (&qh)[4], uint32_t v) noexcept { std::memcpy(qh, &v, sizeof v); }

// The element of largest magnitude (the first one on ties), with its sign.
float signed_absmax(const float* x, int64_t n) noexcept {
    float amax = 0.0f;
    float max = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

void min_max(const float* x, int64_t n, float& min, float& max) noexcept {
    min = FLT_MAX;
    max = -FLT_MAX;
    for (int64_t j = 0; j < n; ++j) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
}

}  // namespace

// ---- dequantize --------------------------------------------------------------------

void dequantize_row_q4_0(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto b = load_block<BlockQ4_0>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        for (int j = 0; j < 16; ++j) {
            const int x0 = (b.qs[j] & 0x0f) - 8;
            const int x1 = (b.qs[j] >> 4) - 8;
            out[i * kQK + j] = static_cast<float>(x0) * d;
            out[i * kQK + j + 16] = static_cast<float>(x1) * d;
        }
    }
}

void dequantize_row_q4_1(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto b = load_block<BlockQ4_1>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        const float m = fp16_to_fp32(b.m);
        for (int j = 0; j < 16; ++j) {
            const int x0 = b.qs[j] & 0x0f;
            const int x1 = b.qs[j] >> 4;
            out[i * kQK + j] = static_cast<float>(x0) * d + m;
            out[i * kQK + j + 16] = static_cast<float>(x1) * d + m;
        }
    }
}

void dequantize_row_q5_0(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto b = load_block<BlockQ5_0>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        const uint32_t qh = load_qh(b.qh);
        for (int j = 0; j < 16; ++j) {
            const uint32_t xh0 = ((qh >> j) << 4) & 0x10u;
            const uint32_t xh1 = (qh >> (j + 12)) & 0x10u;
            const int x0 = static_cast<int>((b.qs[j] & 0x0fu) | xh0) - 16;
            const int x1 = static_cast<int>((b.qs[j] >> 4) | xh1) - 16;
            out[i * kQK + j] = static_cast<float>(x0) * d;
            out[i * kQK + j + 16] = static_cast<float>(x1) * d;
        }
    }
}

void dequantize_row_q5_1(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto b = load_block<BlockQ5_1>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        const float m = fp16_to_fp32(b.m);
        const uint32_t qh = load_qh(b.qh);
        for (int j = 0; j < 16; ++j) {
            const uint32_t xh0 = ((qh >> j) << 4) & 0x10u;
            const uint32_t xh1 = (qh >> (j + 12)) & 0x10u;
            const int x0 = static_cast<int>((b.qs[j] & 0x0fu) | xh0);
            const int x1 = static_cast<int>((b.qs[j] >> 4) | xh1);
            out[i * kQK + j] = static_cast<float>(x0) * d + m;
            out[i * kQK + j + 16] = static_cast<float>(x1) * d + m;
        }
    }
}

void dequantize_row_q8_0(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto b = load_block<BlockQ8_0>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        for (int j = 0; j < 32; ++j) out[i * kQK + j] = static_cast<float>(b.qs[j]) * d;
    }
}

void dequantize_row_q8_1(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto b = load_block<BlockQ8_1>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        for (int j = 0; j < 32; ++j) out[i * kQK + j] = static_cast<float>(b.qs[j]) * d;
    }
}

// ---- quantize (ggml quantize_row_*_ref) ----------------------------------------------

void quantize_row_q4_0(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float* x = in + i * kQK;
        const float d = signed_absmax(x, kQK) / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ4_0 b{};
        b.d = fp32_to_fp16(d);
        for (int j = 0; j < 16; ++j) {
            const int xi0 = std::min(15, static_cast<int>(x[j] * id + 8.5f));
            const int xi1 = std::min(15, static_cast<int>(x[j + 16] * id + 8.5f));
            b.qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
        }
        store_block(blocks, i, b);
    }
}

void quantize_row_q4_1(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float* x = in + i * kQK;
        float min = 0.0f;
        float max = 0.0f;
        min_max(x, kQK, min, max);
        const float d = (max - min) / 15;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ4_1 b{};
        b.d = fp32_to_fp16(d);
        b.m = fp32_to_fp16(min);
        for (int j = 0; j < 16; ++j) {
            const int xi0 = std::min(15, static_cast<int>((x[j] - min) * id + 0.5f));
            const int xi1 = std::min(15, static_cast<int>((x[j + 16] - min) * id + 0.5f));
            b.qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
        }
        store_block(blocks, i, b);
    }
}

void quantize_row_q5_0(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float* x = in + i * kQK;
        const float d = signed_absmax(x, kQK) / -16;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ5_0 b{};
        b.d = fp32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            const int xi0 = std::min(31, static_cast<int>(x[j] * id + 16.5f));
            const int xi1 = std::min(31, static_cast<int>(x[j + 16] * id + 16.5f));
            b.qs[j] = static_cast<uint8_t>((xi0 & 0x0f) | ((xi1 & 0x0f) << 4));
            qh |= static_cast<uint32_t>((xi0 & 0x10) >> 4) << j;
            qh |= static_cast<uint32_t>((xi1 & 0x10) >> 4) << (j + 16);
        }
        store_qh(b.qh, qh);
        store_block(blocks, i, b);
    }
}

void quantize_row_q5_1(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float* x = in + i * kQK;
        float min = 0.0f;
        float max = 0.0f;
        min_max(x, kQK, min, max);
        const float d = (max - min) / 31;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ5_1 b{};
        b.d = fp32_to_fp16(d);
        b.m = fp32_to_fp16(min);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            // ggml converts to uint8_t without a clamp: the largest is round(31 + tiny).
            const auto xi0 = static_cast<uint8_t>((x[j] - min) * id + 0.5f);
            const auto xi1 = static_cast<uint8_t>((x[j + 16] - min) * id + 0.5f);
            b.qs[j] = static_cast<uint8_t>((xi0 & 0x0f) | ((xi1 & 0x0f) << 4));
            qh |= static_cast<uint32_t>((xi0 & 0x10) >> 4) << j;
            qh |= static_cast<uint32_t>((xi1 & 0x10) >> 4) << (j + 16);
        }
        store_qh(b.qh, qh);
        store_block(blocks, i, b);
    }
}

void quantize_row_q8_0(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float* x = in + i * kQK;
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ8_0 b{};
        b.d = fp32_to_fp16(d);
        for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(std::round(x[j] * id));
        store_block(blocks, i, b);
    }
}

void quantize_row_q8_1(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const float* x = in + i * kQK;
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ8_1 b{};
        b.d = fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < 32; ++j) {
            b.qs[j] = static_cast<int8_t>(std::round(x[j] * id));
            sum += b.qs[j];
        }
        b.s = fp32_to_fp16(static_cast<float>(sum) * d);
        store_block(blocks, i, b);
    }
}

// ---- dot products (ggml_vec_dot_*_generic) -----------------------------------------

float vec_dot_q4_0_q8_0(int64_t n, const void* x, const void* y) noexcept {
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto bx = load_block<BlockQ4_0>(x, i);
        const auto by = load_block<BlockQ8_0>(y, i);
        int sumi0 = 0;
        int sumi1 = 0;
        for (int j = 0; j < 16; ++j) {
            sumi0 += ((bx.qs[j] & 0x0f) - 8) * by.qs[j];
            sumi1 += ((bx.qs[j] >> 4) - 8) * by.qs[j + 16];
        }
        sumf += static_cast<float>(sumi0 + sumi1) * fp16_to_fp32(bx.d) * fp16_to_fp32(by.d);
    }
    return sumf;
}

float vec_dot_q4_1_q8_1(int64_t n, const void* x, const void* y) noexcept {
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto bx = load_block<BlockQ4_1>(x, i);
        const auto by = load_block<BlockQ8_1>(y, i);
        int sumi0 = 0;
        int sumi1 = 0;
        for (int j = 0; j < 16; ++j) {
            sumi0 += (bx.qs[j] & 0x0f) * by.qs[j];
            sumi1 += (bx.qs[j] >> 4) * by.qs[j + 16];
        }
        sumf += (fp16_to_fp32(bx.d) * fp16_to_fp32(by.d)) * static_cast<float>(sumi0 + sumi1) +
                fp16_to_fp32(bx.m) * fp16_to_fp32(by.s);
    }
    return sumf;
}

float vec_dot_q5_0_q8_0(int64_t n, const void* x, const void* y) noexcept {
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto bx = load_block<BlockQ5_0>(x, i);
        const auto by = load_block<BlockQ8_0>(y, i);
        const uint32_t qh = load_qh(bx.qh);
        int sumi0 = 0;
        int sumi1 = 0;
        for (int j = 0; j < 16; ++j) {
            const uint32_t xh0 = ((qh >> j) << 4) & 0x10u;
            const uint32_t xh1 = (qh >> (j + 12)) & 0x10u;
            const int x0 = static_cast<int>((bx.qs[j] & 0x0fu) | xh0) - 16;
            const int x1 = static_cast<int>((bx.qs[j] >> 4) | xh1) - 16;
            sumi0 += x0 * by.qs[j];
            sumi1 += x1 * by.qs[j + 16];
        }
        sumf += (fp16_to_fp32(bx.d) * fp16_to_fp32(by.d)) * static_cast<float>(sumi0 + sumi1);
    }
    return sumf;
}

float vec_dot_q5_1_q8_1(int64_t n, const void* x, const void* y) noexcept {
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto bx = load_block<BlockQ5_1>(x, i);
        const auto by = load_block<BlockQ8_1>(y, i);
        const uint32_t qh = load_qh(bx.qh);
        int sumi0 = 0;
        int sumi1 = 0;
        for (int j = 0; j < 16; ++j) {
            const uint32_t xh0 = ((qh >> j) << 4) & 0x10u;
            const uint32_t xh1 = (qh >> (j + 12)) & 0x10u;
            const int x0 = static_cast<int>((bx.qs[j] & 0x0fu) | xh0);
            const int x1 = static_cast<int>((bx.qs[j] >> 4) | xh1);
            sumi0 += x0 * by.qs[j];
            sumi1 += x1 * by.qs[j + 16];
        }
        sumf += (fp16_to_fp32(bx.d) * fp16_to_fp32(by.d)) * static_cast<float>(sumi0 + sumi1) +
                fp16_to_fp32(bx.m) * fp16_to_fp32(by.s);
    }
    return sumf;
}

float vec_dot_q8_0_q8_0(int64_t n, const void* x, const void* y) noexcept {
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto bx = load_block<BlockQ8_0>(x, i);
        const auto by = load_block<BlockQ8_0>(y, i);
        int sumi = 0;
        for (int j = 0; j < 32; ++j) sumi += bx.qs[j] * by.qs[j];
        sumf += static_cast<float>(sumi) * (fp16_to_fp32(bx.d) * fp16_to_fp32(by.d));
    }
    return sumf;
}

}  // namespace loom::quant
