// File: service/http/http_server.h
//
// HttpServer: optoutd's HTTP listener (--http_listen), on cpp-httplib from
// Debian (libcpp-httplib-dev; chosen over civetweb because it is one C++
// header with a plain request/response API, TLS through OpenSSL, and the
// metrics endpoint uses it too). It routes /v1/ to JsonApi and every other
// GET to StaticFiles, and puts the page's security headers on every answer:
// a Content-Security-Policy allowing only this origin (no inline script;
// 'wasm-unsafe-eval' so the PDQ module can be compiled), frame-ancestors
// 'none', nosniff, Referrer-Policy no-referrer, no caching; it never sets a
// cookie.
//
// Work is bounded like gRPC's: sockets are served by BoundedHttpServer (a
// fixed pool of connection threads, bounded request heads, bodies and
// clocks), bodies above max_body_bytes are refused with 413 from their
// Content-Length before they are read, and checks are queued on the same
// CheckWorkers (JsonApi).
//
// Thread-safety: Stop may be called from any thread; the destructor stops.
#ifndef OPTOUT_SERVICE_HTTP_HTTP_SERVER_H_
#define OPTOUT_SERVICE_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/http/http_metrics.h"
#include "service/http/http_tls.h"
#include "service/http/json_api.h"
#include "service/http/static_files.h"

namespace optout::service::http {

struct HttpServerOptions {
  // HOST:PORT (IPv6 in brackets); port 0 picks a free port. Required.
  std::string listen;
  // Largest request body, in bytes. Default: 16 MiB (--max_message_mb).
  size_t max_body_bytes = 16 << 20;
  // Threads serving connections (each blocks on one request at a time).
  // Default: 16.
  int threads = 16;
  // When set, the bound port is written here once listening. Default: none.
  std::string port_file;
  // Per-call counts and times (must outlive the server); null: none.
  const HttpMetrics* metrics = nullptr;
};

class HttpServer final {
 public:
  // `api`, `files` and `tls` (null: plaintext) must outlive the server.
  // InvalidArgument for a malformed address, Unavailable when it cannot bind
  // (port in use: SO_REUSEPORT is off, as for gRPC).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           const JsonApi* api,
                                                           const StaticFiles* files,
                                                           HttpTls* tls);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Stops accepting, lets requests in progress finish, joins the threads.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace optout::service::http

#endif  // OPTOUT_SERVICE_HTTP_HTTP_SERVER_H_
