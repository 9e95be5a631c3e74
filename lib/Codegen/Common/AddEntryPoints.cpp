//===- AddEntryPoints.cpp - The symbols of the module ABI -----------------===//
//
// Generates the packed entry points and the metadata accessor that
// fovea/Runtime/ModuleAbi.h names.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/Common/Passes.h"

#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "fovea/Runtime/ModuleAbi.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::vision {
#define GEN_PASS_DEF_ADDENTRYPOINTS
#include "fovea/Codegen/Common/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

/// The module attribute holding the metadata JSON.
static constexpr llvm::StringLiteral kMetadataAttr =
    vision::VisionDialect::MetadataAttrHelper::getNameStr();

/// Defines `name(void **descriptors)`, which calls `callee` (a C-interface
/// function taking only pointers) with the pointers of the array; an empty
/// function when `callee` is null.
static void addPackedCall(OpBuilder &b, Location loc, StringRef name,
                          LLVM::LLVMFuncOp callee) {
  MLIRContext *ctx = b.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto entry = LLVM::LLVMFuncOp::create(
      b, loc, name,
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr}));
  Block *body = entry.addEntryBlock(b);
  OpBuilder eb = OpBuilder::atBlockBegin(body);
  if (callee) {
    SmallVector<Value> args;
    for (unsigned i = 0, e = callee.getNumArguments(); i < e; ++i) {
      Value slot = LLVM::GEPOp::create(eb, loc, ptr, ptr, body->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{int32_t(i)});
      args.push_back(LLVM::LoadOp::create(eb, loc, ptr, slot));
    }
    LLVM::CallOp::create(eb, loc, callee, args);
  }
  LLVM::ReturnOp::create(eb, loc, ValueRange());
}

/// Defines the NUL-terminated constant `text` and its accessor.
static void addMetadataAccessor(OpBuilder &b, Location loc, StringRef text) {
  MLIRContext *ctx = b.getContext();
  std::string value = text.str();
  value.push_back('\0');
  auto global = LLVM::GlobalOp::create(
      b, loc, LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), value.size()),
      /*isConstant=*/true, LLVM::Linkage::Internal, fovea::abi::kMetadataGlobal,
      b.getStringAttr(value));
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto accessor =
      LLVM::LLVMFuncOp::create(b, loc, fovea::abi::kMetadataAccessor,
                               LLVM::LLVMFunctionType::get(ptr, {}));
  OpBuilder ab = OpBuilder::atBlockBegin(accessor.addEntryBlock(b));
  Value address = LLVM::AddressOfOp::create(ab, loc, global);
  LLVM::ReturnOp::create(ab, loc, address);
}

/// Compiles the C interface `wrapper` without optimization (and without
/// inlining its callee into it): it only unpacks descriptors into a call, and
/// for a model's @run that is one block of thousands of loads and one call
/// with thousands of arguments, which instruction selection at -O3 takes
/// half a minute for (nano-v2-vl: 29 s).
static void compileUnoptimized(LLVM::LLVMFuncOp wrapper) {
  if (wrapper.isExternal())
    return;
  MLIRContext *ctx = wrapper.getContext();
  SmallVector<Attribute> passthrough;
  if (ArrayAttr existing = wrapper.getPassthroughAttr())
    passthrough.assign(existing.begin(), existing.end());
  for (StringRef flag : {"noinline", "optnone"})
    if (!llvm::is_contained(passthrough, StringAttr::get(ctx, flag)))
      passthrough.push_back(StringAttr::get(ctx, flag));
  wrapper.setPassthroughAttr(ArrayAttr::get(ctx, passthrough));
}

namespace {
struct AddEntryPointsPass
    : vision::impl::AddEntryPointsBase<AddEntryPointsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto run = module.lookupSymbol<LLVM::LLVMFuncOp>(fovea::abi::kRunFunction);
    if (!run) {
      module.emitError() << "expects the C interface of @run ('"
                         << fovea::abi::kRunFunction
                         << "'): lower to the LLVM dialect first";
      return signalPassFailure();
    }
    auto metadata = module->getAttrOfType<StringAttr>(kMetadataAttr);
    if (!metadata) {
      module.emitError() << "expects the metadata JSON in the module "
                            "attribute '"
                         << kMetadataAttr << "'";
      return signalPassFailure();
    }
    for (StringRef symbol :
         {StringRef(fovea::abi::kRunEntry), StringRef(fovea::abi::kInitEntry),
          StringRef(fovea::abi::kMetadataAccessor),
          StringRef(fovea::abi::kMetadataGlobal)})
      if (module.lookupSymbol(symbol)) {
        module.emitError() << "already defines '" << symbol << "'";
        return signalPassFailure();
      }
    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    Location loc = module.getLoc();
    auto init =
        module.lookupSymbol<LLVM::LLVMFuncOp>(fovea::abi::kInitFunction);
    compileUnoptimized(run);
    if (init)
      compileUnoptimized(init);
    addPackedCall(b, loc, fovea::abi::kRunEntry, run);
    addPackedCall(b, loc, fovea::abi::kInitEntry, init);
    addMetadataAccessor(b, loc, metadata.getValue());
    module->removeAttr(kMetadataAttr);
  }
};
} // namespace
