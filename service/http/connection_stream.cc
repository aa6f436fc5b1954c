#include "service/http/connection_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace optout::service::http {
namespace {

constexpr absl::string_view kEndOfHead = "\r\n\r\n";
constexpr absl::string_view kCloseHeader = "\r\nConnection: close\r\n";

int MillisecondsUntil(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

void AddressOf(const sockaddr_storage& address, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    port = ntohs(v6->sin6_port);
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    port = ntohs(v4->sin_port);
  }
  ip = text;
}

}  // namespace

ConnectionStream::ConnectionStream(int fd, SSL* ssl, const ConnectionLimits& limits)
    : fd_(fd), ssl_(ssl), limits_(limits) {}

bool ConnectionStream::WaitFor(short events, absl::Time deadline) const {
  pollfd one{fd_, events, 0};
  for (;;) {
    const int ready = ::poll(&one, 1, MillisecondsUntil(deadline));
    if (ready > 0) return true;
    if (ready == 0 || errno != EINTR) return false;
  }
}

bool ConnectionStream::Handshake() {
  if (ssl_ == nullptr) return true;
  const absl::Time deadline = absl::Now() + limits_.io_timeout;
  for (;;) {
    const int done = SSL_accept(ssl_);
    if (done == 1) return true;
    const int error = SSL_get_error(ssl_, done);
    if (error == SSL_ERROR_WANT_READ) {
      if (!WaitFor(POLLIN, deadline)) return false;
    } else if (error == SSL_ERROR_WANT_WRITE) {
      if (!WaitFor(POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
}

bool ConnectionStream::WaitForRequest(absl::Duration idle, int wake_fd) {
  if (buffer_begin_ < buffer_end_) return true;
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
  pollfd both[2] = {{fd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  const absl::Time deadline = absl::Now() + idle;
  for (;;) {
    const int ready = ::poll(both, wake_fd >= 0 ? 2 : 1, MillisecondsUntil(deadline));
    if (ready > 0) return (both[1].revents & POLLIN) == 0 && (both[0].revents & POLLIN) != 0;
    if (ready == 0 || errno != EINTR) return false;
  }
}

void ConnectionStream::BeginRequest() {
  in_head_ = true;
  head_bytes_ = 0;
  body_bytes_ = 0;
  terminator_matched_ = 0;
  const absl::Time now = absl::Now();
  head_deadline_ = now + limits_.head_timeout;
  request_deadline_ = now + limits_.request_timeout;
  first_write_ = true;
  exceeded_ = false;
  answer_closes_ = false;
}

ssize_t ConnectionStream::Receive(char* out, size_t size, absl::Time deadline) {
  for (;;) {
    if (ssl_ != nullptr) {
      const int n = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (n > 0) return n;
      const int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_ZERO_RETURN) return 0;
      if (error == SSL_ERROR_WANT_READ) {
        if (!WaitFor(POLLIN, deadline)) return -1;
      } else if (error == SSL_ERROR_WANT_WRITE) {
        if (!WaitFor(POLLOUT, deadline)) return -1;
      } else {
        return -1;
      }
      continue;
    }
    const ssize_t n = ::recv(fd_, out, size, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (!WaitFor(POLLIN, deadline)) return -1;
  }
}

size_t ConnectionStream::HandOut(char* out, size_t size) {
  size_t count = std::min(size, buffer_end_ - buffer_begin_);
  const char* from = buffer_.data() + buffer_begin_;
  if (in_head_) {
    for (size_t i = 0; i < count; ++i) {
      const char c = from[i];
      if (c == kEndOfHead[terminator_matched_]) {
        ++terminator_matched_;
      } else {
        terminator_matched_ = c == kEndOfHead[0] ? 1 : 0;
      }
      if (terminator_matched_ == static_cast<int>(kEndOfHead.size())) {
        // The body's bytes are counted against the body's own budget.
        in_head_ = false;
        count = i + 1;
        break;
      }
    }
    head_bytes_ += count;
  } else {
    body_bytes_ += count;
  }
  std::memcpy(out, from, count);
  buffer_begin_ += count;
  return count;
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (size == 0) return 0;
  if (in_head_ ? head_bytes_ >= limits_.max_head_bytes : body_bytes_ >= limits_.max_body_bytes) {
    exceeded_ = true;
    return -1;
  }
  if (buffer_begin_ == buffer_end_) {
    const absl::Time deadline =
        std::min(absl::Now() + limits_.io_timeout, in_head_ ? head_deadline_ : request_deadline_);
    const ssize_t n = Receive(buffer_.data(), buffer_.size(), deadline);
    if (n <= 0) {
      if (n < 0 && absl::Now() >= deadline) exceeded_ = true;
      return n;
    }
    buffer_begin_ = 0;
    buffer_end_ = static_cast<size_t>(n);
  }
  const size_t budget =
      in_head_ ? limits_.max_head_bytes - head_bytes_ : limits_.max_body_bytes - body_bytes_;
  return static_cast<ssize_t>(HandOut(ptr, std::min(size, budget)));
}

bool ConnectionStream::is_readable() const {
  if (buffer_begin_ < buffer_end_) return true;
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
  return WaitFor(POLLIN, absl::Now() + limits_.io_timeout);
}

bool ConnectionStream::is_writable() const {
  return WaitFor(POLLOUT, absl::Now() + limits_.io_timeout);
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (first_write_) {
    // httplib writes an answer's status line and headers in one piece.
    first_write_ = false;
    const absl::string_view written(ptr, size);
    const size_t head_end = written.find(kEndOfHead);
    answer_closes_ = written.substr(0, head_end).find(kCloseHeader) != absl::string_view::npos;
  }
  const absl::Time deadline = absl::Now() + limits_.io_timeout;
  for (;;) {
    if (ssl_ != nullptr) {
      const int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (n > 0) return n;
      const int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_WANT_WRITE) {
        if (!WaitFor(POLLOUT, deadline)) return -1;
      } else if (error == SSL_ERROR_WANT_READ) {
        if (!WaitFor(POLLIN, deadline)) return -1;
      } else {
        return -1;
      }
      continue;
    }
    const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (!WaitFor(POLLOUT, deadline)) return -1;
  }
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ip.clear();
    port = 0;
    return;
  }
  AddressOf(address, ip, port);
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ip.clear();
    port = 0;
    return;
  }
  AddressOf(address, ip, port);
}

}  // namespace optout::service::http
