// The scale searches shared by the reference quantizers of the k-quants and IQ4 types:
// given a group of weights, find a scale (and for the "min" types an offset) and the
// integer levels that fit it. Ports of ggml's helpers without importance matrix:
//   nearest_int       round to nearest, ties to even (the 1.5 * 2^23 trick, |x| < 2^22)
//   make_qx_quants    symmetric levels [-nmax, nmax-1], refined over 19 scale tries (Q6_K)
//   make_q3_quants    symmetric levels, refined level by level (Q3_K)
//   make_qkx2_quants  asymmetric levels [0, nmax] with a min, weighted least squares over
//                     nstep+1 scale tries (Q2_K, Q4_K, Q5_K)
//   best_index_int8   index of the nearest value of a sorted table (IQ4 grids)
// Internal to src/quant/; not for use by other layers.
// Spec: ggml src/ggml-quants.c (nearest_int, make_qx_quants, make_q3_quants,
// make_qkx2_quants, best_index_int8).
#pragma once

#include <cstdint>

namespace loom::quant::detail {

// ggml's GROUP_MAX_EPS: a group whose largest magnitude is below it counts as all zero.
constexpr float kGroupMaxEps = 1e-15f;

int nearest_int(float x) noexcept;

// Levels L[i] in [0, 2*nmax-1] (stored with the +nmax offset); returns the scale (may be
// negative). rmse_type 1 weights the fit by x^2; weights overrides it when not null.
float make_qx_quants(int n, int nmax, const float* x, int8_t* levels, int rmse_type,
                     const float* weights) noexcept;

// Levels in [0, 2*nmax-1] (with the +nmax offset); returns the scale (may be negative).
float make_q3_quants(int n, int nmax, const float* x, int8_t* levels, bool do_rmse) noexcept;

// Levels in [0, nmax]; returns the scale, *the_min receives minus the offset (>= 0).
// scratch holds n bytes.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* levels,
                       float* the_min, uint8_t* scratch, float rmin, float rdelta, int nstep,
                       bool use_mad) noexcept;

// Index of the entry of the sorted table values[0..n) nearest to x (the upper on a tie).
int best_index_int8(int n, const int8_t* values, float x) noexcept;

}  // namespace loom::quant::detail
