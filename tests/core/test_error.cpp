// Tests of loom::Error: code and context chain.
#include <gtest/gtest.h>

#include "core/error.h"

namespace loom {
namespace {

TEST(Error, CarriesCodeAndContext) {
    Error e(ErrorCode::Format, "byte 4: version: bad");
    e.with_context("loading model.gguf");
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_STREQ(e.what(), "loading model.gguf: byte 4: version: bad");
    EXPECT_EQ(error_code_name(ErrorCode::OutOfRange), "out_of_range");
}

}  // namespace
}  // namespace loom
