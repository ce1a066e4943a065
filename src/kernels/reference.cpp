// Reference operations. Dequantization goes through the quant type table.
#include "kernels/reference.h"

#include <cmath>

#include "core/error.h"
#include "quant/float_types.h"
#include "quant/quant_type.h"

namespace loom::kernels {

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) noexcept {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * (weight != nullptr ? weight[i] : 1.0f);
}

bool can_compute(gguf::GgmlType type) { return quant::find_quant_type(type) != nullptr; }

static const quant::QuantType& quant_of(const gguf::TensorInfo& t) {
    const quant::QuantType* q = quant::find_quant_type(t.type);
    if (q == nullptr) {
        throw Error(ErrorCode::Unsupported, "tensor " + std::string(t.name) + ": type " +
                                                std::string(gguf::ggml_type_name(t.type)) +
                                                " is not supported for computation yet");
    }
    return *q;
}

void dequantize_row(const gguf::TensorInfo& t, int64_t r, float* out) {
    const quant::QuantType& q = quant_of(t);
    const auto& traits = gguf::traits(t.type);
    const uint64_t row_bytes = t.ne[0] / traits.block_size * traits.block_bytes;
    q.dequantize_row(t.data.data() + static_cast<uint64_t>(r) * row_bytes, out, static_cast<int64_t>(t.ne[0]));
}

void dequantize_all(const gguf::TensorInfo& t, float* out) {
    quant_of(t).dequantize_row(t.data.data(), out, static_cast<int64_t>(t.n_elements));
}

void matvec(const gguf::TensorInfo& w, const float* x, float* y, uint8_t* act_buffer) {
    const quant::QuantType& q = quant_of(w);
    const auto n_in = static_cast<int64_t>(w.ne[0]);
    const size_t row_bytes = quant::row_bytes(q, n_in);
    const uint8_t* rows = w.data.data();
    if (q.type == gguf::GgmlType::F32) {
        for (uint64_t r = 0; r < w.ne[1]; ++r) {
            const auto* row = reinterpret_cast<const float*>(rows + r * row_bytes);
            float sum = 0.0f;
            for (int64_t i = 0; i < n_in; ++i) sum += row[i] * x[i];
            y[r] = sum;
        }
        return;
    }
    const quant::QuantType* partner = quant::find_quant_type(q.dot_partner);
    partner->quantize_row(x, act_buffer, n_in);
    for (uint64_t r = 0; r < w.ne[1]; ++r) y[r] = q.vec_dot(n_in, rows + r * row_bytes, act_buffer);
}

void rope(float* head, int64_t n_rot, int64_t pos, float freq_base, bool neox) noexcept {
    const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
    float theta = static_cast<float>(pos);
    for (int64_t i = 0; i < n_rot / 2; ++i) {
        const float c = std::cos(theta);
        const float s = std::sin(theta);
        const int64_t a = neox ? i : 2 * i;
        const int64_t b = neox ? i + n_rot / 2 : 2 * i + 1;
        const float x0 = head[a];
        const float x1 = head[b];
        head[a] = x0 * c - x1 * s;
        head[b] = x0 * s + x1 * c;
        theta *= theta_scale;
    }
}

void softmax(float* x, int64_t n) noexcept {
    float max = x[0];
    for (int64_t i = 1; i < n; ++i) max = std::max(max, x[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    const auto inv = static_cast<float>(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

float silu(float x) noexcept { return x / (1.0f + std::exp(-x)); }

float gelu_tanh(float x) noexcept {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
    constexpr float kCoefA = 0.044715f;
    const float h = quant::fp16_to_fp32(quant::fp32_to_fp16(x));
    const float g = 0.5f * h * (1.0f + std::tanh(kSqrt2OverPi * h * (1.0f + kCoefA * h * h)));
    return quant::fp16_to_fp32(quant::fp32_to_fp16(g));
}

}  // namespace loom::kernels
