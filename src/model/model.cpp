// Model loading: architecture lookup, hyperparameters, tensor binding, type checks.
#include "model/model.h"

#include "core/error.h"
#include "kernels/reference.h"

namespace loom::model {

Model::Model(gguf::GgufFile file, tokenizer::Tokenizer tok) : file_(std::move(file)), tokenizer_(std::move(tok)) {}

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path) {
    gguf::GgufFile file = gguf::GgufFile::open(path);
    std::string_view arch_name = file.architecture();
    const ArchSpec* spec = find_arch(arch_name);
    if (spec == nullptr) {
        std::string known;
        for (const ArchSpec* a : all_archs()) known += (known.empty() ? "" : ", ") + std::string(a->name);
        throw Error(ErrorCode::Unsupported, file.source() + ": architecture \"" + std::string(arch_name) +
                                                "\" is not supported (supported: " + known + ")");
    }
    tokenizer::Tokenizer tok = tokenizer::Tokenizer::from_gguf(file);
    std::shared_ptr<Model> model(new Model(std::move(file), std::move(tok)));
    model->arch_ = spec;
    model->hparams_ = load_hparams(model->file_, *spec);
    model->weights_ = bind_weights(model->file_, *spec, model->hparams_);
    for (const gguf::TensorInfo& t : model->file_.tensors()) {
        if (!kernels::can_compute(t.type)) {
            throw Error(ErrorCode::Unsupported, model->file_.source() + ": tensor " + std::string(t.name) +
                                                    ": type " + std::string(gguf::ggml_type_name(t.type)) +
                                                    " is not supported for computation yet");
        }
    }
    if (model->tokenizer_.vocab().size() != model->hparams_.n_vocab) {
        // Models may pad the embedding; more tokens than rows would index out of bounds.
        if (model->tokenizer_.vocab().size() > model->hparams_.n_vocab) {
            throw Error(ErrorCode::Format, model->file_.source() + ": the tokenizer has " +
                                               std::to_string(model->tokenizer_.vocab().size()) +
                                               " tokens but token_embd.weight only " +
                                               std::to_string(model->hparams_.n_vocab) + " rows");
        }
    }
    return model;
}

}  // namespace loom::model
