//===- Symbols.h - Binding functions of a dlopen'ed library -----*- C++ -*-===//

#ifndef FOVEA_RUNTIME_SYMBOLS_H
#define FOVEA_RUNTIME_SYMBOLS_H

#include <dlfcn.h>

namespace fovea::rt {

/// Binds function pointers to the symbols of a dlopen'ed library and
/// remembers the first one that is missing.
class SymbolBinder {
public:
  explicit SymbolBinder(void *library) : library(library) {}

  template <typename Function> void bind(Function *&slot, const char *name) {
    void *symbol = dlsym(library, name);
    if (!symbol && !firstMissing)
      firstMissing = name;
    slot = reinterpret_cast<Function *>(symbol);
  }

  /// The first symbol not found, or null.
  const char *missing() const { return firstMissing; }

private:
  void *library;
  const char *firstMissing = nullptr;
};

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_SYMBOLS_H
