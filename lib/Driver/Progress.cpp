//===- Progress.cpp - fovea-compile's progress line -----------------------===//

#include "fovea/Driver/Progress.h"

#include "llvm/Support/Format.h"

using namespace fovea;

ProgressLine::ProgressLine(llvm::raw_fd_ostream &os, llvm::StringRef tool,
                           bool enabled)
    : os(os), tool(tool.str()), drawing(enabled && os.is_displayed()),
      start(std::chrono::steady_clock::now()) {
  if (!drawing)
    return;
  ticker = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex);
    while (!done) {
      draw();
      wake.wait_for(lock, std::chrono::milliseconds(200));
    }
  });
}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::setStage(llvm::StringRef text) {
  if (!drawing)
    return;
  std::lock_guard<std::mutex> lock(mutex);
  stage = text.str();
  draw();
}

void ProgressLine::draw() {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  // Carriage return, erase the line, then the status.
  os << "\r\x1b[K" << tool << ": " << llvm::format("%6.1f s", seconds) << "  "
     << stage;
  os.flush();
}

void ProgressLine::finish() {
  if (!drawing)
    return;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (done)
      return;
    done = true;
  }
  wake.notify_all();
  ticker.join();
  os << "\r\x1b[K";
  os.flush();
}
