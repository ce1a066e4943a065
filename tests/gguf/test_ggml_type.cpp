// Tests of the ggml type table: ids unique, removed ids unknown, sizes from ggml-common.h.
// (The Python suite also compares the whole table with gguf-py's GGML_QUANT_SIZES.)
#include <gtest/gtest.h>

#include <set>

#include "gguf/ggml_type.h"

namespace loom::gguf {
namespace {

TEST(GgmlType, IdsAreUniqueAndInOrder) {
    std::set<uint32_t> ids;
    uint32_t previous = 0;
    for (const auto& t : ggml_types()) {
        uint32_t id = static_cast<uint32_t>(t.type);
        EXPECT_TRUE(ids.insert(id).second) << t.name;
        EXPECT_TRUE(ids.size() == 1 || id > previous) << t.name;
        previous = id;
        EXPECT_EQ(&traits(t.type) - ggml_types().data(), static_cast<ptrdiff_t>(ids.size() - 1));
    }
}

TEST(GgmlType, RemovedIdsAreUnknown) {
    for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 42u, 1000u}) {
        EXPECT_FALSE(ggml_type_traits(id).has_value()) << id;
    }
}

TEST(GgmlType, BlockSizesOfCommonTypes) {
    struct Expect {
        GgmlType type;
        uint32_t block_size, block_bytes;
    };
    for (auto e : {Expect{GgmlType::F32, 1, 4}, Expect{GgmlType::F16, 1, 2},
                   Expect{GgmlType::BF16, 1, 2}, Expect{GgmlType::Q4_0, 32, 18},
                   Expect{GgmlType::Q4_1, 32, 20}, Expect{GgmlType::Q5_0, 32, 22},
                   Expect{GgmlType::Q5_1, 32, 24}, Expect{GgmlType::Q8_0, 32, 34},
                   Expect{GgmlType::Q8_1, 32, 36}, Expect{GgmlType::Q2_K, 256, 84},
                   Expect{GgmlType::Q3_K, 256, 110}, Expect{GgmlType::Q4_K, 256, 144},
                   Expect{GgmlType::Q5_K, 256, 176}, Expect{GgmlType::Q6_K, 256, 210},
                   Expect{GgmlType::Q8_K, 256, 292}, Expect{GgmlType::IQ4_NL, 32, 18},
                   Expect{GgmlType::IQ4_XS, 256, 136}, Expect{GgmlType::MXFP4, 32, 17}}) {
        const auto& t = traits(e.type);
        EXPECT_EQ(t.block_size, e.block_size) << t.name;
        EXPECT_EQ(t.block_bytes, e.block_bytes) << t.name;
    }
}

TEST(GgmlType, FileTypeNames) {
    EXPECT_EQ(file_type_name(15), "Q4_K_M");
    EXPECT_EQ(file_type_name(7), "Q8_0");
    EXPECT_EQ(file_type_name(4), "");
}

}  // namespace
}  // namespace loom::gguf
