// File: service/log.h
//
// Minimal lifecycle logging to stderr (our Abseil predates absl/log).
// Callers must never pass a URL, hash, token or other request data.
#ifndef OPTOUT_SERVICE_LOG_H_
#define OPTOUT_SERVICE_LOG_H_

#include "absl/strings/string_view.h"

namespace optout::service {

enum class LogLevel { kInfo, kWarning, kError };

// One line: "<L> <UTC time> optoutd] <message>". Thread-safe.
void Log(LogLevel level, absl::string_view message);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_LOG_H_
