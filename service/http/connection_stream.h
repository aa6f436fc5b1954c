// File: service/http/connection_stream.h
//
// ConnectionStream: one accepted HTTP connection as cpp-httplib's Stream, on
// a non-blocking socket (TLS when an SSL is given), with the bounds Debian's
// httplib 0.11 does not have: it grows a request line or a header block for
// as long as the peer keeps sending, and counts no header lines. Here each
// request's head (request line and headers) may take at most
// `max_head_bytes` and must arrive within `head_timeout` of its first byte;
// its body at most `max_body_bytes` within `request_timeout`; every single
// wait for the peer is bounded by `io_timeout`. A read past a bound fails
// (httplib answers 400 or gives up), and the connection is then closed.
//
// Thread-safety: one thread per connection.
#ifndef OPTOUT_SERVICE_HTTP_CONNECTION_STREAM_H_
#define OPTOUT_SERVICE_HTTP_CONNECTION_STREAM_H_

#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <string>

#include "absl/time/time.h"
#include "httplib.h"

namespace optout::service::http {

struct ConnectionLimits {
  size_t max_head_bytes = 64 << 10;
  size_t max_body_bytes = 16 << 20;
  absl::Duration head_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(120);
  absl::Duration io_timeout = absl::Seconds(10);
};

class ConnectionStream final : public httplib::Stream {
 public:
  // Owns neither `fd` (non-blocking) nor `ssl` (already bound to `fd`; null
  // for plaintext).
  ConnectionStream(int fd, SSL* ssl, const ConnectionLimits& limits);

  // Completes the TLS handshake within io_timeout (true at once in plaintext).
  bool Handshake();
  // Waits up to `idle` for the next request's first byte, or for `wake_fd`
  // (the server stopping) to become readable. False when the peer closed,
  // stayed idle, or the server stops.
  bool WaitForRequest(absl::Duration idle, int wake_fd);
  // Starts the next request's budgets and clocks.
  void BeginRequest();
  // The last request went past a bound: the connection must close.
  bool exceeded() const { return exceeded_; }
  // The last answer written carried "Connection: close" (httplib's or ours):
  // the rest of what the peer sent is not read.
  bool answer_closes() const { return answer_closes_; }

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

 private:
  // Waits for `events` on the socket until `deadline`.
  bool WaitFor(short events, absl::Time deadline) const;
  // One recv / SSL_read of up to `size` bytes, waiting until `deadline`.
  ssize_t Receive(char* out, size_t size, absl::Time deadline);
  // Hands out up to `size` buffered bytes, tracking where the head ends.
  size_t HandOut(char* out, size_t size);

  const int fd_;
  SSL* const ssl_;
  const ConnectionLimits limits_;

  std::array<char, 16 << 10> buffer_;
  size_t buffer_begin_ = 0;
  size_t buffer_end_ = 0;

  bool in_head_ = true;
  size_t head_bytes_ = 0;
  size_t body_bytes_ = 0;
  // How many bytes of "\r\n\r\n" the head has ended with so far.
  int terminator_matched_ = 0;
  absl::Time head_deadline_ = absl::InfiniteFuture();
  absl::Time request_deadline_ = absl::InfiniteFuture();
  bool first_write_ = true;
  bool exceeded_ = false;
  bool answer_closes_ = false;
};

}  // namespace optout::service::http

#endif  // OPTOUT_SERVICE_HTTP_CONNECTION_STREAM_H_
