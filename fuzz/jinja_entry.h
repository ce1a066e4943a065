// The chat-template fuzz entry: parse arbitrary bytes as a Jinja template and render it
// with a small conversation. Templates arrive inside model files, so they are hostile
// input: only loom::Error may come out, within the budgets.
#pragma once

#include <cstddef>
#include <cstdint>

namespace loom::fuzz {

int jinja_one_input(const uint8_t* data, size_t size);

}  // namespace loom::fuzz
