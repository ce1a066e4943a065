// Model: a loaded model — the mapped GGUF file, its architecture spec, hyperparameters,
// bound weights and tokenizer. Immutable after load and shared by contexts (weights
// apart from per-sequence state, as whisper does).
//
//   std::shared_ptr<const Model> model = Model::load("model.gguf");
//
// Errors: load throws loom::Error naming the file and what is wrong: unreadable or
// malformed GGUF, unknown architecture, a missing or misshaped tensor, a tensor type
// Loom cannot compute with yet.
#pragma once

#include <filesystem>
#include <memory>

#include "gguf/gguf_file.h"
#include "model/arch.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace loom::model {

class Model {
public:
    static std::shared_ptr<const Model> load(const std::filesystem::path& path);

    const gguf::GgufFile& file() const { return file_; }
    const ArchSpec& arch() const { return *arch_; }
    const HParams& hparams() const { return hparams_; }
    const Weights& weights() const { return weights_; }
    const tokenizer::Tokenizer& tokenizer() const { return tokenizer_; }

private:
    Model(gguf::GgufFile file, tokenizer::Tokenizer tok);

    gguf::GgufFile file_;
    const ArchSpec* arch_ = nullptr;
    HParams hparams_;
    Weights weights_;
    tokenizer::Tokenizer tokenizer_;
};

}  // namespace loom::model
