// Tokenizer fuzz entry. The loaded tokenizers live in one function-local object built
// by tokenizer_init before fuzzing starts (libFuzzer gives no context pointer).
#include "fuzz/tokenizer_entry.h"

#include <memory>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace loom::fuzz {
namespace {

struct Loaded {
    std::vector<gguf::GgufFile> files;
    std::vector<tokenizer::Tokenizer> tokenizers;
};

std::unique_ptr<Loaded>& loaded() {
    static std::unique_ptr<Loaded> instance;  // set once by tokenizer_init, then read only
    return instance;
}

}  // namespace

bool tokenizer_init(const std::string& fixtures_dir) {
    if (loaded()) return true;
    auto l = std::make_unique<Loaded>();
    try {
        for (const char* name : {"stories260K.gguf", "vocab/ggml-vocab-gpt-2.gguf",
                                 "vocab/ggml-vocab-deepseek-llm.gguf"}) {
            l->files.push_back(gguf::GgufFile::open(fixtures_dir + "/" + name));
            l->tokenizers.push_back(tokenizer::Tokenizer::from_gguf(l->files.back()));
        }
    } catch (const Error&) {
        return false;
    }
    loaded() = std::move(l);
    return true;
}

int tokenizer_one_input(const uint8_t* data, size_t size) {
    if (!loaded() || size == 0) return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    bool parse_special = (data[0] & 1) != 0;
    bool add_special = (data[0] & 2) != 0;
    for (const tokenizer::Tokenizer& tok : loaded()->tokenizers) {
        std::vector<tokenizer::TokenId> ids = tok.encode(text, add_special, parse_special);
        std::string decoded = tok.decode(ids, add_special, parse_special);
        tokenizer::StreamDecoder stream;
        size_t streamed = 0;
        for (tokenizer::TokenId id : ids) streamed += stream.push(tok.piece(id, parse_special)).size();
        streamed += stream.finish().size();
        volatile size_t sink = decoded.size() + streamed;
        (void)sink;
    }
    return 0;
}

}  // namespace loom::fuzz
