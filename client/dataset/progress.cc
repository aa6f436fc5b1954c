#include "client/dataset/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

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

// Columns of the terminal `out` is, else $COLUMNS, else 80.
int TerminalWidth(std::FILE* out) {
  struct winsize ws {};
  if (::ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  const char* columns = std::getenv("COLUMNS");
  const int parsed = columns != nullptr ? std::atoi(columns) : 0;
  return parsed > 0 ? parsed : 80;
}

}  // namespace

std::string FitProgressLine(const ProgressFigures& f, int width) {
  const size_t room = static_cast<size_t>(std::max(1, width - 1));
  // Figures from most to least useful; each candidate line drops one more.
  const std::string rows = absl::StrFormat("%d rows", f.rows);
  const std::string rate = absl::StrFormat("  %.0f rows/s", f.rows_per_second);
  const std::string eta = absl::StrCat("  ETA ", f.eta);
  const std::string removed = absl::StrFormat("  %d removed", f.removed);
  const std::string unchecked = absl::StrFormat("  %d unchecked", f.unchecked);
  const std::string candidates[] = {
      absl::StrCat(rows, rate, eta, removed, unchecked), absl::StrCat(rows, eta, removed, unchecked),
      absl::StrCat(rows, eta, removed), absl::StrCat(rows, removed), rows};
  const std::string percent =
      f.fraction >= 0 ? absl::StrFormat("%3.0f%%  ", f.fraction * 100) : std::string();
  for (const std::string& counts : candidates) {
    if (f.fraction >= 0) {
      // "[####....] 42%  " with a bar of 10 to 24 cells.
      const size_t fixed = 3 + percent.size() + counts.size();
      if (fixed + 10 <= room) {
        const int cells = static_cast<int>(std::min<size_t>(24, room - fixed));
        const int filled = static_cast<int>(std::min(1.0, f.fraction) * cells);
        return absl::StrCat("[", std::string(filled, '#'), std::string(cells - filled, '.'), "] ",
                            percent, counts);
      }
      if (percent.size() + counts.size() <= room) return percent + counts;
    } else if (counts.size() <= room) {
      return counts;
    }
  }
  return rows.substr(0, room);
}

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
  if (tty_) {
    ProgressFigures figures;
    figures.rows = rows_;
    figures.removed = removed_;
    figures.unchecked = unchecked_;
    figures.rows_per_second = rate;
    figures.fraction = fraction;
    figures.eta = final_line ? "0:00" : eta;
    std::fprintf(out_, "\r\033[K%s", FitProgressLine(figures, TerminalWidth(out_)).c_str());
  } else {
    const std::string counts =
        absl::StrFormat("%d rows  %.0f rows/s  ETA %s  %d removed  %d unchecked", rows_, rate,
                        final_line ? "0:00" : eta, removed_, unchecked_);
    std::fprintf(out_, "optout check-dataset: %s%s\n",
                 fraction >= 0 ? absl::StrFormat("%.1f%%  ", fraction * 100).c_str() : "",
                 counts.c_str());
  }
  std::fflush(out_);
  drawn_ = true;
}

}  // namespace optout::dataset
