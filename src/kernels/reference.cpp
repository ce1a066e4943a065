// Reference operations. Dequantization goes through the quant type table.
#include "kernels/reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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

Matrix matrix_of(const gguf::TensorInfo& t, int64_t index) {
    const quant::QuantType& q = quant_of(t);
    Matrix m;
    m.type = t.type;
    m.n_in = static_cast<int64_t>(t.ne[0]);
    m.n_out = static_cast<int64_t>(t.ne[1]);
    m.row_bytes = quant::row_bytes(q, m.n_in);
    m.data = t.data.data() + static_cast<size_t>(index) * static_cast<size_t>(m.n_out) * m.row_bytes;
    return m;
}

size_t activation_row_bytes(gguf::GgmlType w_type, int64_t n_in) {
    if (w_type == gguf::GgmlType::F32) return static_cast<size_t>(n_in) * sizeof(float);
    const quant::QuantType* q = quant::find_quant_type(w_type);
    if (q == nullptr) {
        throw Error(ErrorCode::Unsupported,
                    "type " + std::string(gguf::ggml_type_name(w_type)) + " is not supported for computation yet");
    }
    return quant::row_bytes(*quant::find_quant_type(q->dot_partner), n_in);
}

void convert_activations(gguf::GgmlType w_type, const float* x, int64_t n_in, uint8_t* out) noexcept {
    if (w_type == gguf::GgmlType::F32) {
        std::memcpy(out, x, static_cast<size_t>(n_in) * sizeof(float));
        return;
    }
    quant::find_quant_type(quant::find_quant_type(w_type)->dot_partner)->quantize_row(x, out, n_in);
}

void matmul_rows(const Matrix& w, const uint8_t* xq, size_t xq_stride, int64_t n_tokens, float* y,
                 int64_t y_stride, int64_t r0, int64_t r1) noexcept {
    const quant::VecDotFn vec_dot = quant::find_quant_type(w.type)->vec_dot;
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = w.data + static_cast<size_t>(r) * w.row_bytes;
        for (int64_t t = 0; t < n_tokens; ++t) {
            y[t * y_stride + r] = vec_dot(w.n_in, row, xq + static_cast<size_t>(t) * xq_stride);
        }
    }
}

void rope_yarn_corr_dims(int64_t n_rot, int64_t n_ctx_orig, float freq_base, float beta_fast, float beta_slow,
                         float& lo, float& hi) noexcept {
    constexpr float kPi = 3.14159265358979323846f;
    auto corr_dim = [&](float rotations) {
        return static_cast<float>(n_rot) * std::log(static_cast<float>(n_ctx_orig) / (rotations * 2 * kPi)) /
               (2 * std::log(freq_base));
    };
    lo = std::max(0.0f, std::floor(corr_dim(beta_fast)));
    hi = std::min(static_cast<float>(n_rot - 1), std::ceil(corr_dim(beta_slow)));
}

void rope_cache(const RopeParams& p, int64_t pos, float* cs) noexcept {
    const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
    float theta = static_cast<float>(pos);
    for (int64_t i = 0; i < p.n_rot / 2; ++i) {
        const float ff = p.freq_factors != nullptr ? p.freq_factors[i] : 1.0f;
        const float theta_extrap = theta / ff;
        const float theta_interp = p.freq_scale * theta_extrap;
        float angle = theta_interp;
        float mscale = p.attn_factor;
        if (p.ext_factor != 0.0f) {
            const float y = (static_cast<float>(i) - p.corr_lo) / std::max(0.001f, p.corr_hi - p.corr_lo);
            const float ramp_mix = (1.0f - std::min(1.0f, std::max(0.0f, y))) * p.ext_factor;
            angle = theta_interp * (1.0f - ramp_mix) + theta_extrap * ramp_mix;
            mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
        }
        cs[2 * i] = std::cos(angle) * mscale;
        cs[2 * i + 1] = std::sin(angle) * mscale;
        theta *= theta_scale;
    }
}

void rope_apply(float* head, int64_t n_rot, const float* cs, bool neox) noexcept {
    for (int64_t i = 0; i < n_rot / 2; ++i) {
        const float c = cs[2 * i];
        const float s = cs[2 * i + 1];
        const int64_t a = neox ? i : 2 * i;
        const int64_t b = neox ? i + n_rot / 2 : 2 * i + 1;
        const float x0 = head[a];
        const float x1 = head[b];
        head[a] = x0 * c - x1 * s;
        head[b] = x0 * s + x1 * c;
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
