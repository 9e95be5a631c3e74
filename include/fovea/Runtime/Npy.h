//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Reads and writes `.npy` files (format versions 1-3, C order). bf16 arrays
// carry the descriptor 'bfloat16'.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_NPY_H
#define FOVEA_RUNTIME_NPY_H

#include "fovea/Runtime/Tensor.h"

#include <optional>
#include <string>

namespace fovea::rt {

std::optional<Tensor> readNpy(const std::string &path, std::string &error);
bool writeNpy(const std::string &path, const Tensor &tensor,
              std::string &error);

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_NPY_H
