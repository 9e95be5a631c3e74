//===- CpuIsaScope.h - Unit tests on each CPU kernel family -----*- C++ -*-===//
//
// Tests of the runtime's CPU kernels run once per family (portable, AVX2,
// AVX-512, AVX512_BF16, AMX) and are skipped where the CPU lacks one.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_TEST_UNIT_CPUISASCOPE_H
#define FOVEA_TEST_UNIT_CPUISASCOPE_H

#include "fovea/Runtime/Matmul.h"

#include <algorithm>
#include <string>

namespace fovea::test {

/// Selects a family for its lifetime, then the CPU's best again.
class CpuIsaScope {
public:
  explicit CpuIsaScope(rt::CpuIsa isa) : supported(rt::setCpuIsa(isa)) {}
  ~CpuIsaScope() { rt::setCpuIsa(rt::supportedCpuIsas().front()); }
  CpuIsaScope(const CpuIsaScope &) = delete;
  CpuIsaScope &operator=(const CpuIsaScope &) = delete;
  const bool supported;
};

inline const rt::CpuIsa kCpuIsas[] = {
    rt::CpuIsa::Portable, rt::CpuIsa::Avx2, rt::CpuIsa::Avx512,
    rt::CpuIsa::Avx512Bf16, rt::CpuIsa::AmxBf16};

/// The family's name as a test name suffix ("avx512bf16").
inline std::string cpuIsaTestName(rt::CpuIsa isa) {
  std::string name = rt::cpuIsaName(isa);
  name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
  return name;
}

} // namespace fovea::test

#endif // FOVEA_TEST_UNIT_CPUISASCOPE_H
