//===- Version.h - Fovea's version ------------------------------*- C++ -*-===//
//
// The release every tool reports with --version. Modules carry their own
// ABI version (fovea/Runtime/ModuleAbi.h), which the runtime checks.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_SUPPORT_VERSION_H
#define FOVEA_SUPPORT_VERSION_H

#define FOVEA_VERSION_STRING "0.5.0"

#endif // FOVEA_SUPPORT_VERSION_H
