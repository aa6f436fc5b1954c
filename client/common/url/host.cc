#include "client/common/url/host.h"

#include <optional>

#include "client/common/url/idna.h"
#include "client/common/url/ipv4.h"
#include "client/common/url/ipv6.h"
#include "client/common/url/url_error.h"

namespace optout::url {
namespace {

bool IsIdnaOutputByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_';
}

}  // namespace

void AppendDotCleaned(absl::string_view host, std::string* out) {
  bool pending_dot = false;
  bool any = false;
  for (char c : host) {
    if (c == '.') {
      pending_dot = any;
      continue;
    }
    if (pending_dot) {
      out->push_back('.');
      pending_dot = false;
    }
    out->push_back(c);
    any = true;
  }
}

absl::Status CanonicalizeHost(absl::string_view host, std::string* out, bool* is_ip,
                              std::string* scratch) {
  out->clear();
  *is_ip = false;
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') {
      return UrlError(UrlErrorKind::kInvalidIpv6, "'[' without a closing ']'");
    }
    const std::optional<Ipv6Address> address = ParseIpv6(host.substr(1, host.size() - 2));
    if (!address) {
      return UrlError(UrlErrorKind::kInvalidIpv6, "bracketed host is not a valid IPv6 address");
    }
    AppendCanonicalIpv6Host(*address, out);
    *is_ip = true;
    return absl::OkStatus();
  }

  // Step 1: dots.
  out->reserve(host.size());
  AppendDotCleaned(host, out);

  // Step 2: IDNA, only for valid UTF-8 with a byte >= 0x80.
  bool has_high = false;
  for (unsigned char c : *out) {
    if (c >= 0x80) {
      has_high = true;
      break;
    }
  }
  if (has_high && IsValidUtf8(*out)) {
    scratch->clear();
    if (absl::Status status = IdnaToAscii(*out, scratch); !status.ok()) return status;
    out->clear();
    AppendDotCleaned(*scratch, out);
    for (unsigned char c : *out) {
      if (!IsIdnaOutputByte(c)) {
        return UrlError(UrlErrorKind::kInvalidIdn,
                        "IDNA mapping produced a character other than a letter, digit, '-', '.' "
                        "or '_'");
      }
    }
  }

  // Step 3: lowercase ASCII. Steps 4-5: empty, brackets.
  if (out->empty()) return UrlError(UrlErrorKind::kEmptyHost, "host is empty");
  for (char& c : *out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c + ('a' - 'A'));
    } else if (c == '[' || c == ']') {
      return UrlError(UrlErrorKind::kInvalidHost, "'[' or ']' in a host that is not IPv6");
    }
  }

  // Step 6: numeric last label -> IPv4.
  if (LastLabelIsNumeric(*out)) {
    const std::optional<uint32_t> address = ParseIpv4(*out);
    if (!address) {
      return UrlError(UrlErrorKind::kInvalidIpv4,
                      "host ends in a number but is not a valid IPv4 address");
    }
    out->clear();
    AppendIpv4(*address, out);
    *is_ip = true;
  }
  return absl::OkStatus();
}

}  // namespace optout::url
