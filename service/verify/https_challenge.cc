#include "service/verify/https_challenge.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/verify/challenge.h"

namespace optout::verify {
namespace {

absl::Status Refused(absl::string_view reason) {
  return absl::FailedPreconditionError(absl::StrCat("HTTPS: ", reason));
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Body {
  std::string bytes;
  size_t limit = 0;
  bool too_large = false;
};

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  Body* body = static_cast<Body*>(user);
  const size_t n = size * count;
  if (body->bytes.size() + n > body->limit) {
    body->too_large = true;
    return 0;  // ends the transfer with CURLE_WRITE_ERROR
  }
  body->bytes.append(data, n);
  return n;
}

bool IsPrivate(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr);
    const uint32_t top = a >> 24;
    return top == 0 || top == 10 || top == 127 || (a >> 20) == 0xac1 /* 172.16/12 */ ||
           (a >> 16) == 0xc0a8 /* 192.168/16 */ || (a >> 16) == 0xa9fe /* 169.254/16 */ ||
           (a >> 22) == 0x191 /* 100.64/10 */ || top >= 224;
  }
  if (address->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_LINKLOCAL(&a) ||
        IN6_IS_ADDR_MULTICAST(&a) || (a.s6_addr[0] & 0xfe) == 0xfc /* fc00::/7 */) {
      return true;
    }
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      sockaddr_in v4{};
      v4.sin_family = AF_INET;
      std::memcpy(&v4.sin_addr, a.s6_addr + 12, 4);
      return IsPrivate(reinterpret_cast<const sockaddr*>(&v4));
    }
    return false;
  }
  return true;
}

struct SocketPolicy {
  bool allow_private = false;
  bool refused = false;
};

curl_socket_t OpenPublicSocket(void* user, curlsocktype, curl_sockaddr* address) {
  SocketPolicy* policy = static_cast<SocketPolicy*>(user);
  if (!policy->allow_private && IsPrivate(&address->addr)) {
    policy->refused = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

// Host part of an absolute URL, lower case; empty when it has none.
std::string HostOf(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
  if (parsed == nullptr || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return "";
  }
  char* host = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) return "";
  std::string out = absl::AsciiStrToLower(host);
  curl_free(host);
  return out;
}

std::string Seconds(absl::Duration d) { return absl::FormatDuration(d); }

}  // namespace

absl::Status CheckHttpsChallenge(absl::string_view host, absl::string_view token,
                                 const VerifyOptions& options) {
  GlobalInitOnce();
  const absl::Time deadline = absl::Now() + options.timeout;
  const std::string bare_host = absl::AsciiStrToLower(host);
  std::string url = ChallengeUrl(host, token);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> connect_to(nullptr,
                                                                         curl_slist_free_all);
  auto mapped = options.resolve.find(bare_host);
  if (mapped != options.resolve.end()) {
    // "HOST::ADDR:PORT": any port of HOST goes to ADDR:PORT; TLS still
    // names and verifies HOST.
    connect_to.reset(curl_slist_append(nullptr, absl::StrCat(host, "::", mapped->second).c_str()));
  }
  for (int hop = 0;; ++hop) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return Refused(absl::StrCat("timed out after ", Seconds(options.timeout)));
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (curl == nullptr) return absl::InternalError("HTTPS: no curl handle");
    CURL* c = curl.get();
    Body body;
    body.limit = options.max_body_bytes;
    SocketPolicy policy;
    policy.allow_private = options.allow_private_addresses;
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(left)) + 1);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_body_bytes));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, OpenPublicSocket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &policy);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "optoutd-scope-verifier");
    if (connect_to != nullptr) curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to.get());
    if (!options.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
    const CURLcode code = curl_easy_perform(c);
    if (policy.refused) return Refused("the host resolves to a private or loopback address");
    if (body.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      return Refused(absl::StrCat("body larger than ", options.max_body_bytes, " bytes"));
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
      return Refused(absl::StrCat("timed out after ", Seconds(options.timeout)));
    }
    if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
      return Refused("the certificate is not valid for the host");
    }
    if (code != CURLE_OK) {
      // curl's message names no URL for these codes, only what failed.
      return Refused(absl::StrCat("fetch failed (", curl_easy_strerror(code), ")"));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300 && status < 400) {
      char* location = nullptr;
      curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
      if (location == nullptr) return Refused(absl::StrCat("answered ", status, " without a location"));
      const std::string next(location);
      if (!absl::StartsWithIgnoreCase(next, "https://")) return Refused("redirects away from https");
      std::string next_host = HostOf(next);
      if (!next_host.empty() && next_host.front() == '[') next_host = next_host.substr(1, next_host.size() - 2);
      std::string own = bare_host;
      if (!own.empty() && own.front() == '[') own = own.substr(1, own.size() - 2);
      if (next_host != own) return Refused("redirects to another host");
      if (hop >= options.max_redirects) {
        return Refused(absl::StrCat("more than ", options.max_redirects, " redirects"));
      }
      url = next;
      continue;
    }
    if (status != 200) return Refused(absl::StrCat("answered ", status));
    if (!MatchesToken(body.bytes, token)) return Refused("wrong token content");
    return absl::OkStatus();
  }
}

}  // namespace optout::verify
