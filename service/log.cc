#include "service/log.h"

#include <atomic>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace optout::service {
namespace {

std::atomic<LogFormat> log_format{LogFormat::kText};

// A JSON string body: quote, backslash and control characters escaped.
// Other bytes pass through; messages are our own ASCII text plus, at most,
// file paths from flags.
void AppendJsonEscaped(absl::string_view text, std::string* out) {
  for (const char c : text) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          *out += c;
        }
    }
  }
}

}  // namespace

void SetLogFormat(LogFormat format) { log_format.store(format, std::memory_order_relaxed); }

std::string FormatLogLine(LogFormat format, LogLevel level, absl::Time time,
                          absl::string_view message) {
  const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  if (format == LogFormat::kJson) {
    const char* name = level == LogLevel::kInfo      ? "INFO"
                       : level == LogLevel::kWarning ? "WARNING"
                                                     : "ERROR";
    std::string line = absl::StrCat("{\"time\":\"", when, "\",\"level\":\"", name,
                                    "\",\"logger\":\"optoutd\",\"message\":\"");
    AppendJsonEscaped(message, &line);
    line += "\"}\n";
    return line;
  }
  const char tag = level == LogLevel::kInfo ? 'I' : level == LogLevel::kWarning ? 'W' : 'E';
  return absl::StrCat(std::string(1, tag), " ", when, " optoutd] ", message, "\n");
}

void Log(LogLevel level, absl::string_view message) {
  const std::string line =
      FormatLogLine(log_format.load(std::memory_order_relaxed), level, absl::Now(), message);
  // One fwrite per line keeps concurrent lines whole.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace optout::service
