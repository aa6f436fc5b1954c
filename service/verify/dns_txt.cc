#include "service/verify/dns_txt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace optout::verify {
namespace {

constexpr uint16_t kTypeTxt = 16;
constexpr uint16_t kTypeOpt = 41;
constexpr uint16_t kClassIn = 1;
constexpr uint16_t kEdnsPayload = 1232;
constexpr size_t kAnswerBuffer = 4096;

void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

// Reads big-endian fields of a message, refusing to read past its end.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : bytes_(bytes) {}
  bool U8(uint8_t* v) {
    if (pos_ + 1 > bytes_.size()) return false;
    *v = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool U16(uint16_t* v) {
    uint8_t a, b;
    if (!U8(&a) || !U8(&b)) return false;
    *v = static_cast<uint16_t>(a << 8 | b);
    return true;
  }
  bool U32(uint32_t* v) {
    uint16_t a, b;
    if (!U16(&a) || !U16(&b)) return false;
    *v = uint32_t{a} << 16 | b;
    return true;
  }
  bool Skip(size_t n) {
    if (pos_ + n > bytes_.size()) return false;
    pos_ += n;
    return true;
  }
  // Skips a (possibly compressed) name: labels up to a zero byte or a
  // pointer, which ends the name where it stands.
  bool SkipName() {
    for (int labels = 0; labels < 128; ++labels) {
      uint8_t len;
      if (!U8(&len)) return false;
      if (len == 0) return true;
      if ((len & 0xc0) == 0xc0) return Skip(1);
      if ((len & 0xc0) != 0) return false;
      if (!Skip(len)) return false;
    }
    return false;
  }
  size_t pos() const { return pos_; }
  absl::string_view Take(size_t n) {
    absl::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  absl::string_view bytes_;
  size_t pos_ = 0;
};

absl::Status Malformed(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("DNS: malformed answer (", what, ")"));
}

// Parses "IP:PORT" / "[IPv6]:PORT" into a socket address.
absl::Status ParseServer(absl::string_view server, sockaddr_storage* out, socklen_t* len) {
  std::string host;
  absl::string_view port_text;
  if (!server.empty() && server.front() == '[') {
    const size_t close = server.find("]:");
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("DNS server: bad address");
    host = std::string(server.substr(1, close - 1));
    port_text = server.substr(close + 2);
  } else {
    const size_t colon = server.rfind(':');
    if (colon == absl::string_view::npos) return absl::InvalidArgumentError("DNS server: no port");
    host = std::string(server.substr(0, colon));
    port_text = server.substr(colon + 1);
  }
  int port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError("DNS server: bad port");
  }
  std::memset(out, 0, sizeof(*out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError("DNS server: not an IP address");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> BuildTxtQuery(absl::string_view name, uint16_t id) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return absl::InvalidArgumentError("DNS name: bad length");
  std::string out;
  Put16(&out, id);
  Put16(&out, 0x0100);  // recursion desired
  Put16(&out, 1);       // one question
  Put16(&out, 0);
  Put16(&out, 0);
  Put16(&out, 1);  // the EDNS OPT record
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty() || label.size() > 63) return absl::InvalidArgumentError("DNS name: bad label");
    out.push_back(static_cast<char>(label.size()));
    out.append(label.data(), label.size());
  }
  out.push_back('\0');
  Put16(&out, kTypeTxt);
  Put16(&out, kClassIn);
  out.push_back('\0');  // root name
  Put16(&out, kTypeOpt);
  Put16(&out, kEdnsPayload);
  Put16(&out, 0);
  Put16(&out, 0);  // TTL: extended rcode, version, flags
  Put16(&out, 0);  // no options
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseTxtAnswer(absl::string_view answer, uint16_t id) {
  Reader r(answer);
  uint16_t got_id, flags, questions, answers, authority, additional;
  if (!r.U16(&got_id) || !r.U16(&flags) || !r.U16(&questions) || !r.U16(&answers) ||
      !r.U16(&authority) || !r.U16(&additional)) {
    return Malformed("short header");
  }
  if (got_id != id) return Malformed("wrong id");
  if ((flags & 0x8000) == 0) return Malformed("not an answer");
  if ((flags & 0x0200) != 0) return absl::FailedPreconditionError("DNS: answer truncated");
  const int rcode = flags & 0xf;
  if (rcode == 3) return absl::NotFoundError("DNS: no such name");
  if (rcode != 0) return absl::FailedPreconditionError(absl::StrCat("DNS: server error ", rcode));
  for (int i = 0; i < questions; ++i) {
    if (!r.SkipName() || !r.Skip(4)) return Malformed("question");
  }
  std::vector<std::string> values;
  for (int i = 0; i < answers; ++i) {
    uint16_t type, klass, rdlength;
    uint32_t ttl;
    if (!r.SkipName() || !r.U16(&type) || !r.U16(&klass) || !r.U32(&ttl) || !r.U16(&rdlength)) {
      return Malformed("record");
    }
    const size_t end = r.pos() + rdlength;
    if (end > answer.size()) return Malformed("record length");
    if (type != kTypeTxt || klass != kClassIn) {  // e.g. the CNAME the name points through
      r.Skip(rdlength);
      continue;
    }
    std::string value;
    while (r.pos() < end) {
      uint8_t len;
      if (!r.U8(&len) || r.pos() + len > end) return Malformed("TXT string");
      absl::string_view part = r.Take(len);
      value.append(part.data(), part.size());
    }
    values.push_back(std::move(value));
  }
  if (values.empty()) return absl::NotFoundError("DNS: no TXT record");
  return values;
}

absl::StatusOr<std::string> NameserverFromResolvConf(absl::string_view resolv_conf) {
  for (absl::string_view line : absl::StrSplit(resolv_conf, '\n')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() < 2 || words[0] != "nameserver") continue;
    const std::string address(words[1]);
    if (address.find(':') != std::string::npos) {
      const size_t zone = address.find('%');  // link-local zone: not usable here
      if (zone != std::string::npos) continue;
      return absl::StrCat("[", address, "]:53");
    }
    return absl::StrCat(address, ":53");
  }
  return absl::NotFoundError("DNS: no nameserver in /etc/resolv.conf");
}

absl::StatusOr<std::vector<std::string>> QueryTxt(absl::string_view name, absl::string_view server,
                                                  absl::Duration timeout) {
  sockaddr_storage address;
  socklen_t address_len = 0;
  if (absl::Status s = ParseServer(server, &address, &address_len); !s.ok()) return s;
  uint16_t id = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof(id)) != 1) {
    return absl::InternalError("DNS: no randomness for the query id");
  }
  absl::StatusOr<std::string> query = BuildTxtQuery(name, id);
  if (!query.ok()) return query.status();
  const int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("DNS: no socket");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  // connect() makes the kernel drop datagrams from any other address.
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), address_len) != 0) {
    return absl::UnavailableError("DNS: cannot reach the server");
  }
  const absl::Time deadline = absl::Now() + timeout;
  absl::Time resend = absl::Now();
  char buffer[kAnswerBuffer];
  for (;;) {
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("DNS: no answer within ", absl::FormatDuration(timeout)));
    }
    if (now >= resend) {
      send(fd, query->data(), query->size(), 0);  // a lost datagram is resent below
      resend = now + absl::Seconds(1);
    }
    pollfd p{fd, POLLIN, 0};
    const int wait_ms = static_cast<int>(
        std::max<int64_t>(1, absl::ToInt64Milliseconds(std::min(deadline, resend) - now)));
    if (poll(&p, 1, wait_ms) <= 0) continue;
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 12) continue;  // refused or runt: wait for a real answer
    absl::StatusOr<std::vector<std::string>> values =
        ParseTxtAnswer(absl::string_view(buffer, static_cast<size_t>(n)), id);
    if (!values.ok() && absl::IsDataLoss(values.status()) &&
        absl::StrContains(values.status().message(), "wrong id")) {
      continue;  // a stale or forged answer
    }
    return values;
  }
}

}  // namespace optout::verify
