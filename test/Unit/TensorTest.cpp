//===- TensorTest.cpp - Tests of the runtime's element conversion ---------===//
//
// Conversion reads checkpoint bytes at any offset (safetensors data offsets
// need not be aligned); values must come out exact either way.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Tensor.h"

#include "gtest/gtest.h"

#include <cstring>
#include <vector>

using namespace fovea::rt;

namespace {

TEST(ConvertElements, UnalignedSources) {
  const float values[] = {1.0f, -2.5f, 3.140625f, -96.0f};
  for (size_t offset : {0, 1, 3}) {
    // f32 at an odd byte offset.
    std::vector<unsigned char> bytes(offset + sizeof(values));
    std::memcpy(bytes.data() + offset, values, sizeof(values));
    float out[4];
    ASSERT_TRUE(
        convertElements(bytes.data() + offset, DType::F32, out, DType::F32, 4));
    uint16_t bf16[4];
    ASSERT_TRUE(convertElements(bytes.data() + offset, DType::F32, bf16,
                                DType::BF16, 4));
    // bf16 bit patterns at an odd byte offset, back to f32.
    std::vector<unsigned char> halves(offset + sizeof(bf16));
    std::memcpy(halves.data() + offset, bf16, sizeof(bf16));
    float back[4];
    ASSERT_TRUE(convertElements(halves.data() + offset, DType::BF16, back,
                                DType::F32, 4));
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(out[i], values[i]) << "offset " << offset;
      // All four are exact in bf16.
      EXPECT_EQ(back[i], values[i]) << "offset " << offset;
    }
  }
}

} // namespace
