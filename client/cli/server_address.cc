#include "client/cli/server_address.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace optout::cli {
namespace {

absl::Status Refused(absl::string_view given, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--server '", given, "': ", why,
                   "; give HOST:PORT, http://HOST:PORT (plaintext) or https://HOST:PORT (TLS)"));
}

// True when `host_port` ends in ":PORT" with PORT 1..65535 (an IPv6
// address in brackets may hold colons before it).
bool HasPort(absl::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  if (host_port.front() == '[' && host_port.rfind(']') > colon) return false;
  int port = 0;
  return absl::SimpleAtoi(host_port.substr(colon + 1), &port) && port > 0 && port <= 65535;
}

}  // namespace

absl::StatusOr<ServerAddress> ParseServerAddress(absl::string_view given) {
  absl::string_view text = absl::StripAsciiWhitespace(given);
  if (text.empty()) return Refused(given, "empty");
  ServerAddress out;
  const std::string lower = absl::AsciiStrToLower(text);
  const char* default_port = nullptr;
  if (absl::StartsWith(lower, "https://")) {
    text.remove_prefix(8);
    out.tls = true;
    default_port = "443";
  } else if (absl::StartsWith(lower, "http://")) {
    text.remove_prefix(7);
    default_port = "80";
  } else if (absl::StrContains(text, "://")) {
    return Refused(given, "only the http:// and https:// schemes are understood");
  }
  if (default_port != nullptr) absl::ConsumeSuffix(&text, "/");
  if (text.empty()) return Refused(given, "no host");
  if (absl::StrContains(text, "/")) return Refused(given, "a server address has no path");
  if (HasPort(text)) {
    out.target = std::string(text);
  } else if (default_port != nullptr && !absl::EndsWith(text, ":")) {
    out.target = absl::StrCat(text, ":", default_port);
  } else {
    return Refused(given, "no port (or not 1..65535)");
  }
  return out;
}

}  // namespace optout::cli
