//===- VisionShapeInferenceTest.cpp - Tests of the vision shape functions -===//
//
// Calls the shape functions directly: result shapes for the pipeline's
// geometries (static and dynamic frame counts) and the constraint IDs in
// their diagnostics.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/IR/VisionShapeInference.h"

#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::vision;

namespace {

class VisionShapeInferenceTest : public ::testing::Test {
protected:
  VisionShapeInferenceTest() : builder(&context) {
    context.loadDialect<VisionDialect>();
  }

  RankedTensorType tensor(ArrayRef<int64_t> shape, Type element = {}) {
    return RankedTensorType::get(shape,
                                 element ? element : builder.getBF16Type());
  }

  /// Collects the diagnostics emitted on an unknown location.
  EmitErrorFn collect() {
    emit = [this] { return mlir::emitError(builder.getUnknownLoc()); };
    return emit;
  }

  MLIRContext context;
  OpBuilder builder;
  std::function<InFlightDiagnostic()> emit;
  static constexpr int64_t kDyn = ShapedType::kDynamic;
};

TEST_F(VisionShapeInferenceTest, TubeletEmbedPadsOddFrameCounts) {
  // 5 frames at T = 2 make 3 tubelets (the last frame repeated).
  auto type = inferTubeletEmbedType(nullptr, tensor({5, 3, 384, 672}),
                                    tensor({1280, 1536}), 16, 2);
  ASSERT_TRUE(succeeded(type));
  EXPECT_EQ(*type, tensor({3, 1008, 1280}));
}

TEST_F(VisionShapeInferenceTest, TubeletEmbedKeepsDynamicFrameCount) {
  auto type = inferTubeletEmbedType(nullptr, tensor({kDyn, 3, 512, 512}),
                                    tensor({1280, 1536}), 16, 2);
  ASSERT_TRUE(succeeded(type));
  EXPECT_EQ(*type, tensor({kDyn, 1024, 1280}));
}

TEST_F(VisionShapeInferenceTest, PixelShufflePackedImages) {
  // Two packed images of 24x42 and 32x32 patches.
  auto type = inferPixelShuffleType(nullptr, tensor({1, 24 * 42 + 1024, 1280}),
                                    {24, 42, 32, 32});
  ASSERT_TRUE(succeeded(type));
  EXPECT_EQ(*type, tensor({1, (24 * 42 + 1024) / 4, 5120}));
}

TEST_F(VisionShapeInferenceTest, EvsPruneStaticAndDynamic) {
  auto staticTypes = inferEvsPruneTypes(nullptr, tensor({8, 256, 2688}), 0.75);
  ASSERT_TRUE(succeeded(staticTypes));
  EXPECT_EQ(staticTypes->kept, tensor({512, 2688}));
  EXPECT_EQ(staticTypes->counts, tensor({8}, builder.getI64Type()));

  auto dynamicTypes =
      inferEvsPruneTypes(nullptr, tensor({kDyn, 256, 2688}), 0.75);
  ASSERT_TRUE(succeeded(dynamicTypes));
  EXPECT_EQ(dynamicTypes->kept, tensor({kDyn, 2688}));
  EXPECT_EQ(dynamicTypes->counts, tensor({kDyn}, builder.getI64Type()));
}

TEST_F(VisionShapeInferenceTest, DiagnosticsNameTheConstraint) {
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  auto type =
      inferPixelShuffleType(collect(), tensor({1, 7 * 32, 1280}), {7, 32});
  EXPECT_TRUE(failed(type));
  EXPECT_EQ(message, "expects even grid sizes, got 7x32 for image 0 "
                     "(pixel_shuffle_c3)");
}

TEST_F(VisionShapeInferenceTest, SilentWithoutEmitter) {
  bool reported = false;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &) {
    reported = true;
    return success();
  });
  EXPECT_TRUE(failed(
      inferInterpPosEmbedType(nullptr, tensor({1, 1000, 1280}), {32, 32})));
  EXPECT_FALSE(reported);
}

} // namespace
