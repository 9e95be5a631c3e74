//===- CpuFeatures.h - The x86 features a module may require ----*- C++ -*-===//
//
// CPU-target modules are built for one CPU (`--target-cpu`) and record the
// features it implies that matter to generated code, named as LLVM names
// them; the runtime checks each on the host before running anything, so a
// module refuses a host without them in one line instead of dying of
// SIGILL. The list is shared so that the compiler records only what the
// runtime can check.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_SUPPORT_CPUFEATURES_H
#define FOVEA_SUPPORT_CPUFEATURES_H

// X(name): every feature the runtime checks with __builtin_cpu_supports.
#define FOVEA_X86_FEATURES(X)                                                  \
  X("sse3")                                                                    \
  X("ssse3")                                                                   \
  X("sse4.1")                                                                  \
  X("sse4.2")                                                                  \
  X("popcnt")                                                                  \
  X("cx16")                                                                    \
  X("sahf")                                                                    \
  X("movbe")                                                                   \
  X("xsave")                                                                   \
  X("avx")                                                                     \
  X("avx2")                                                                    \
  X("fma")                                                                     \
  X("f16c")                                                                    \
  X("bmi")                                                                     \
  X("bmi2")                                                                    \
  X("lzcnt")                                                                   \
  X("adx")                                                                     \
  X("aes")                                                                     \
  X("pclmul")                                                                  \
  X("sha")                                                                     \
  X("gfni")                                                                    \
  X("vaes")                                                                    \
  X("vpclmulqdq")                                                              \
  X("avxvnni")                                                                 \
  X("avx512f")                                                                 \
  X("avx512cd")                                                                \
  X("avx512bw")                                                                \
  X("avx512dq")                                                                \
  X("avx512vl")                                                                \
  X("avx512vnni")                                                              \
  X("avx512bf16")                                                              \
  X("avx512fp16")                                                              \
  X("avx512vbmi")                                                              \
  X("avx512vbmi2")                                                             \
  X("avx512bitalg")                                                            \
  X("avx512vpopcntdq")                                                         \
  X("avx512ifma")

#endif // FOVEA_SUPPORT_CPUFEATURES_H
