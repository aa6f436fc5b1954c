// File: service/http/bounded_http_server.h
//
// BoundedHttpServer: the socket side of optoutd's HTTP listeners
// (--http_listen, --metrics_listen). Routes and handlers stay cpp-httplib's
// (HttpRoutes); accepting, TLS and reading are ours, because Debian's
// httplib 0.11 reads a request line or a header block for as long as the
// peer sends one (gigabytes into one std::string), queues accepted sockets
// without limit and cannot be given per-request bounds. Here:
//   - a fixed pool of `threads` serves connections; at most
//     `max_waiting_connections` more wait for a thread, later ones are
//     closed at once;
//   - every request is read through a ConnectionStream, with bounded head
//     and body sizes and clocks (ConnectionLimits);
//   - a connection serves at most `max_requests_per_connection` requests and
//     closes after an answer that says "Connection: close" (so an unread,
//     refused body is never parsed as the next request).
//
// Thread-safety: Stop may be called from any thread; the destructor stops.
#ifndef OPTOUT_SERVICE_HTTP_BOUNDED_HTTP_SERVER_H_
#define OPTOUT_SERVICE_HTTP_BOUNDED_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "service/http/connection_stream.h"
#include "service/http/http_tls.h"

namespace optout::service::http {

// httplib's router, with the one-request entry point opened to the server.
class HttpRoutes : public httplib::Server {
 public:
  using httplib::Server::process_request;
};

struct BoundedHttpOptions {
  // HOST:PORT (IPv6 in brackets); port 0 picks a free port. Required.
  std::string listen;
  // The flag that set `listen`, for error messages. Default: --http_listen.
  std::string flag = "--http_listen";
  // Threads serving connections (each blocks on one request at a time).
  int threads = 16;
  // Accepted connections that may wait for a thread.
  size_t max_waiting_connections = 256;
  int max_requests_per_connection = 100;
  // How long a kept-alive connection may wait for its next request.
  absl::Duration idle_timeout = absl::Seconds(5);
  ConnectionLimits limits;
  // When set, the bound port is written here once listening. Default: none.
  std::string port_file;
};

// For a handler running on a BoundedHttpServer thread: a probe, callable
// from any thread while that handler runs, telling whether the peer has
// closed its end of the connection (so long work on its behalf can stop).
// Outside such a handler the probe always answers false. A client that
// half-closes its connection after sending (shutdown of its write side)
// counts as gone too: browsers, curl and HTTP libraries do not do that.
std::function<bool()> PeerClosedProbe();

class BoundedHttpServer final {
 public:
  // Binds and starts serving `routes`. `tls` (null: plaintext) must outlive
  // the server. InvalidArgument for a malformed address, Unavailable when it
  // cannot bind (port in use: no SO_REUSEPORT, as for gRPC).
  static absl::StatusOr<std::unique_ptr<BoundedHttpServer>> Start(
      const BoundedHttpOptions& options, std::unique_ptr<HttpRoutes> routes, HttpTls* tls);
  ~BoundedHttpServer();
  BoundedHttpServer(const BoundedHttpServer&) = delete;
  BoundedHttpServer& operator=(const BoundedHttpServer&) = delete;

  int port() const;
  // Stops accepting, lets requests in progress finish, joins the threads.
  void Stop();

 private:
  struct Impl;
  explicit BoundedHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace optout::service::http

#endif  // OPTOUT_SERVICE_HTTP_BOUNDED_HTTP_SERVER_H_
