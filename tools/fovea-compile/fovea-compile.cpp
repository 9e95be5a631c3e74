//===- fovea-compile.cpp - Fovea's model compiler -------------------------===//
//
// A model config (or preset) in, the IR of a compilation phase or an
// artifact out. The work is in the FoveaDriver library (compileMain).
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/Compile.h"

int main(int argc, char **argv) { return fovea::compileMain(argc, argv); }
