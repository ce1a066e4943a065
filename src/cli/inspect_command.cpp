// `loom inspect`: option parsing and the open-validate-print sequence.
#include "cli/inspect_command.h"

#include <CLI/CLI.hpp>

#include <memory>

#include "cli/default_model.h"

namespace loom::cli {
namespace {

struct InspectArgs {
    std::string path;
    bool json = false;
    bool no_validate_keys = false;
    InspectOptions options;
};

}  // namespace

CommandRun setup_inspect(CLI::App& app) {
    auto args = std::make_shared<InspectArgs>();
    app.add_option("FILE", args->path,
                   "GGUF file to inspect (default: the default model, see LOOM_MODEL)");
    app.add_option("-m,--model", args->path, "Same as FILE");
    app.add_flag("--json", args->json,
                 "Print every fact as JSON: summary, all metadata (long arrays summarized) and "
                 "the tensor table");
    app.add_flag("--tensors", args->options.all_tensors, "List every tensor in the text output");
    app.add_flag("--no-validate-keys", args->no_validate_keys,
                 "Skip the hyperparameter and tokenizer checks (the file structure is still "
                 "fully validated)");
    return [args](Io& io) {
        std::string path = args->path.empty() ? default_model_path() : args->path;
        gguf::ReadOptions read_options;
        read_options.validate_known_keys = !args->no_validate_keys;
        gguf::GgufFile file = gguf::GgufFile::open(path, read_options);
        gguf::ModelSummary summary = gguf::summarize(file);
        if (args->json) {
            write_inspect_json(io.out, file, summary, args->options);
        } else {
            write_inspect_text(io.out, file, summary, args->options);
        }
        return 0;
    };
}

}  // namespace loom::cli
