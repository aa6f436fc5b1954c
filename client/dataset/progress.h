// File: client/dataset/progress.h
//
// Progress of a dataset check on stderr: a bar redrawn in place on a
// terminal (rows, rows/s, ETA, removed), or plain lines every `interval`
// when stderr is not a terminal (logs, CI), or nothing at all (quiet). The
// bar never reaches the terminal's last column: a line that wraps cannot be
// redrawn in place and scrolls instead.
//
// Thread-compatible: called from the thread that drives the check.
#ifndef OPTOUT_CLIENT_DATASET_PROGRESS_H_
#define OPTOUT_CLIENT_DATASET_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/time/time.h"

namespace optout::dataset {

struct ProgressOptions {
  bool quiet = false;
  // Plain lines, when not a terminal: one per interval. Default: 10 s.
  absl::Duration interval = absl::Seconds(10);
};

// What one progress line shows.
struct ProgressFigures {
  uint64_t rows = 0, removed = 0, unchecked = 0;
  double rows_per_second = 0;
  double fraction = -1;  // of the input bytes done; < 0 when unknown
  std::string eta;       // "1:05", or "?"
};

// The terminal line for `figures` in at most `width - 1` columns: the bar
// shrinks, then goes, then the least useful figures go.
std::string FitProgressLine(const ProgressFigures& figures, int width);

class Progress final {
 public:
  // `total_bytes`: size of all inputs, for the ETA (0 if unknown).
  Progress(const ProgressOptions& options, int64_t total_bytes, std::FILE* out = stderr);

  // Cumulative counts; draws when due.
  void Update(uint64_t rows, uint64_t removed, uint64_t unchecked, int64_t bytes_done);
  // Ends the bar's line (terminal only).
  void Finish();

 private:
  void Draw(bool final_line);

  const ProgressOptions options_;
  const int64_t total_bytes_;
  std::FILE* const out_;
  const bool tty_;
  const absl::Time start_;
  absl::Time last_draw_;
  uint64_t rows_ = 0, removed_ = 0, unchecked_ = 0;
  int64_t bytes_done_ = 0;
  bool drawn_ = false;
};

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_PROGRESS_H_
