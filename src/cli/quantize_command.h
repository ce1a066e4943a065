// `loom quantize [--allow-requantize] [--leave-output] [--threads N] IN.gguf OUT.gguf TYPE`:
// rewrites a GGUF model with its tensors in the types of a llama.cpp file type ("Q4_K_M",
// "Q8_0", "F16", ...; case-insensitive), as llama-quantize does without an importance
// matrix: the same type per tensor (quant/quant_mix.h), the same bytes (Loom's reference
// quantizers are bit-exact with ggml's), all metadata copied with general.file_type and
// general.quantization_version set. Tensors keep the input's order.
//
// Each tensor is dequantized row by row to float and quantized on the thread pool while the
// file is written, so memory holds one output tensor, not the model. The file appears
// atomically (a temporary file renamed at the end). Progress and a summary go to stderr;
// nothing to stdout.
//
// Errors (one line, exit 1): a missing or malformed input, an input tensor already
// quantized (requantizing loses precision; --allow-requantize does it anyway), a type Loom
// cannot convert from, a split input, NaN or infinity in a converted tensor, an output that
// cannot be written. Exit 2: an unknown TYPE or a bad flag.
#pragma once

#include "cli/command.h"

namespace loom::cli {

CommandRun setup_quantize(CLI::App& app);

}  // namespace loom::cli
