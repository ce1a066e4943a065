// `loom inspect [FILE] [--json] [--tensors]`: a readable summary of a GGUF file, or
// every fact as JSON. Uses gguf::summarize for the facts.
#pragma once

#include <iosfwd>

#include "cli/command.h"
#include "gguf/gguf_file.h"
#include "gguf/summary.h"

namespace loom::cli {

CommandRun setup_inspect(CLI::App& app);

struct InspectOptions {
    bool all_tensors = false;   // text: list every tensor, not only the largest
    size_t array_head = 8;      // json: elements shown of a summarized long array
    size_t array_full_max = 16; // json: arrays up to this length are shown whole
};

void write_inspect_text(std::ostream& out, const gguf::GgufFile& file,
                        const gguf::ModelSummary& summary, const InspectOptions& options);
void write_inspect_json(std::ostream& out, const gguf::GgufFile& file,
                        const gguf::ModelSummary& summary, const InspectOptions& options);

}  // namespace loom::cli
