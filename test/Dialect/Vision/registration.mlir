// fovea-opt loads the vision dialect beside the upstream dialects Fovea uses.
// RUN: fovea-opt --show-dialects | FileCheck %s --check-prefix=DIALECTS
// DIALECTS: Available Dialects:
// DIALECTS-SAME: linalg
// DIALECTS-SAME: tensor
// DIALECTS-SAME: vision

// An empty module round-trips.
// RUN: fovea-opt %s | FileCheck %s
// CHECK: module
