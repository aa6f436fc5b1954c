#include "client/dataset/progress.h"

#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace optout::dataset {
namespace {

// A terminal is redrawn often enough to look alive, not so often that
// drawing costs throughput.
constexpr absl::Duration kTtyInterval = absl::Milliseconds(200);

std::string Clock(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

}  // namespace

Progress::Progress(const ProgressOptions& options, int64_t total_bytes, std::FILE* out)
    : options_(options),
      total_bytes_(total_bytes),
      out_(out),
      tty_(::isatty(fileno(out)) != 0),
      start_(absl::Now()),
      last_draw_(start_) {}

void Progress::Update(uint64_t rows, uint64_t removed, uint64_t unchecked, int64_t bytes_done) {
  rows_ = rows;
  removed_ = removed;
  unchecked_ = unchecked;
  bytes_done_ = bytes_done;
  if (options_.quiet) return;
  const absl::Time now = absl::Now();
  if (now - last_draw_ < (tty_ ? kTtyInterval : options_.interval)) return;
  last_draw_ = now;
  Draw(false);
}

void Progress::Finish() {
  if (options_.quiet || !tty_ || !drawn_) return;
  Draw(true);
  std::fputc('\n', out_);
  std::fflush(out_);
}

void Progress::Draw(bool final_line) {
  const double elapsed = std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - start_));
  const double rate = rows_ / elapsed;
  std::string eta = "?";
  double fraction = -1;
  if (total_bytes_ > 0 && bytes_done_ > 0) {
    fraction = std::min(1.0, static_cast<double>(bytes_done_) / total_bytes_);
    eta = Clock(elapsed * (1 - fraction) / fraction);
  }
  const std::string counts =
      absl::StrFormat("%d rows  %.0f rows/s  ETA %s  %d removed  %d unchecked", rows_, rate,
                      final_line ? "0:00" : eta, removed_, unchecked_);
  if (tty_) {
    std::string bar;
    if (fraction >= 0) {
      const int width = 24, filled = static_cast<int>(fraction * width);
      bar = absl::StrCat("[", std::string(filled, '#'), std::string(width - filled, '.'), "] ",
                         absl::StrFormat("%3.0f%%  ", fraction * 100));
    }
    std::fprintf(out_, "\r\033[K%s%s", bar.c_str(), counts.c_str());
  } else {
    std::fprintf(out_, "optout check-dataset: %s%s\n",
                 fraction >= 0 ? absl::StrFormat("%.1f%%  ", fraction * 100).c_str() : "",
                 counts.c_str());
  }
  std::fflush(out_);
  drawn_ = true;
}

}  // namespace optout::dataset
