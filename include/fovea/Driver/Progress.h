//===- Progress.h - fovea-compile's progress line ---------------*- C++ -*-===//
//
// One status line on a terminal: the stage of the compilation (the phase and
// the pass running, the translation, the link) and the elapsed time,
// redrawn in place every 200 ms and erased at the end. Off when the stream
// is not a terminal.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DRIVER_PROGRESS_H
#define FOVEA_DRIVER_PROGRESS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace fovea {

class ProgressLine {
public:
  /// Draws on `os` (stderr) when it is a terminal and `enabled`.
  ProgressLine(llvm::raw_fd_ostream &os, llvm::StringRef tool, bool enabled);
  ~ProgressLine();
  ProgressLine(const ProgressLine &) = delete;
  ProgressLine &operator=(const ProgressLine &) = delete;

  bool active() const { return drawing; }
  /// The stage shown from now on (thread-safe).
  void setStage(llvm::StringRef stage);
  /// Erases the line and stops redrawing (also at destruction).
  void finish();

private:
  void draw();

  llvm::raw_fd_ostream &os;
  std::string tool, stage = "starting";
  bool drawing;
  bool done = false;
  std::chrono::steady_clock::time_point start;
  std::mutex mutex;
  std::condition_variable wake;
  std::thread ticker;
};

} // namespace fovea

#endif // FOVEA_DRIVER_PROGRESS_H
