#include "service/verify/testing/txt_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace optout::verify::testing {

TxtResponder::TxtResponder() {
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t len = sizeof(address);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &len);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

TxtResponder::~TxtResponder() {
  stop_ = true;
  thread_.join();
  close(fd_);
}

std::string TxtResponder::address() const { return absl::StrCat("127.0.0.1:", port_); }

void TxtResponder::Set(const std::string& name, std::vector<std::string> values) {
  absl::MutexLock lock(&mu_);
  records_[absl::AsciiStrToLower(name)] = std::move(values);
}

void TxtResponder::Remove(const std::string& name) {
  absl::MutexLock lock(&mu_);
  records_.erase(absl::AsciiStrToLower(name));
}

void TxtResponder::Serve() {
  unsigned char in[1500];
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = recvfrom(fd_, in, sizeof(in), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 17) continue;
    ++queries_;
    if (silent_) continue;
    // The question: labels from byte 12 up to the zero byte, then type and class.
    std::string name;
    size_t pos = 12;
    while (pos < static_cast<size_t>(n) && in[pos] != 0) {
      const size_t len = in[pos];
      if (pos + 1 + len > static_cast<size_t>(n)) break;
      if (!name.empty()) name.push_back('.');
      name.append(reinterpret_cast<char*>(in) + pos + 1, len);
      pos += 1 + len;
    }
    const size_t question_end = pos + 5;  // zero byte, type, class
    if (question_end > static_cast<size_t>(n)) continue;
    std::vector<std::string> values;
    bool found = false;
    {
      absl::MutexLock lock(&mu_);
      auto it = records_.find(absl::AsciiStrToLower(name));
      if (it != records_.end()) {
        found = true;
        values = it->second;
      }
    }
    std::string out(reinterpret_cast<char*>(in), question_end);
    out[2] = static_cast<char>(0x84 | (in[2] & 0x01));  // answer, authoritative, RD copied
    out[3] = static_cast<char>(found ? 0x00 : 0x03);    // NOERROR or NXDOMAIN
    out[6] = 0;
    out[7] = static_cast<char>(values.size());
    out[8] = out[9] = out[10] = out[11] = 0;  // no authority, no additional (the OPT is dropped)
    for (const std::string& value : values) {
      std::string rdata;
      for (size_t i = 0; i < value.size() || i == 0; i += 255) {
        const std::string part = value.substr(i, 255);
        rdata.push_back(static_cast<char>(part.size()));
        rdata += part;
        if (value.empty()) break;
      }
      out += std::string("\xc0\x0c", 2);  // the question's name
      out += std::string("\x00\x10\x00\x01\x00\x00\x00\x3c", 8);  // TXT IN TTL 60
      out.push_back(static_cast<char>(rdata.size() >> 8));
      out.push_back(static_cast<char>(rdata.size() & 0xff));
      out += rdata;
    }
    sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
}

}  // namespace optout::verify::testing
