// fovea-opt loads the vision dialect beside the upstream dialects Fovea uses.
// RUN: fovea-opt --show-dialects | FileCheck %s --check-prefix=DIALECTS
// DIALECTS: Available Dialects:
// DIALECTS-SAME: linalg
// DIALECTS-SAME: tensor
// DIALECTS-SAME: vision

// fovea-opt --help lists Fovea's passes and pipelines.
// RUN: fovea-opt --help | FileCheck %s --check-prefix=HELP
// HELP-DAG: --convert-vision-to-linalg
// HELP-DAG: --fovea-expand-erf
// HELP-DAG: --fovea-cpu-pipeline
// HELP-DAG: --fovea-cpu-tile-and-vectorize

// An empty module round-trips.
// RUN: fovea-opt %s | FileCheck %s
// CHECK: module
