// File: service/log.h
//
// Minimal lifecycle logging to stderr (our Abseil predates absl/log).
// Callers must never pass a URL, hash, token or other request data.
#ifndef OPTOUT_SERVICE_LOG_H_
#define OPTOUT_SERVICE_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace optout::service {

enum class LogLevel { kInfo, kWarning, kError };

enum class LogFormat {
  // "<L> <UTC time> optoutd] <message>", for people.
  kText,
  // One JSON object per line, for log collectors:
  // {"time":"2026-12-01T14:41:30.014Z","level":"INFO","logger":"optoutd","message":"..."}
  kJson,
};

// Chooses the format of every later line. Default: kText. Call it at start,
// before other threads log (main.cc, --log_format).
void SetLogFormat(LogFormat format);

// Writes one line to stderr in the current format. Thread-safe.
void Log(LogLevel level, absl::string_view message);

// The line Log writes (with its trailing newline), for tests.
std::string FormatLogLine(LogFormat format, LogLevel level, absl::Time time,
                          absl::string_view message);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_LOG_H_
