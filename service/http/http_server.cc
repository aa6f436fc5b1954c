#include "service/http/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/types/optional.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace optout::service::http {

struct HttpServer::Impl {
  std::unique_ptr<httplib::Server> server;
  std::thread listener;
  int port = 0;
  bool stopped = false;
};

namespace {

// Only this origin may run script, style, fetch or frame anything; blob:
// images are the thumbnails of photos chosen on the page (never uploaded).
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' blob:; connect-src 'self'; form-action 'none'; base-uri 'none'; "
    "frame-ancestors 'none'";

httplib::Headers SecurityHeaders(bool tls) {
  httplib::Headers headers = {
      {"Content-Security-Policy", kContentSecurityPolicy},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"Cache-Control", "no-store"},
  };
  if (tls) headers.emplace("Strict-Transport-Security", "max-age=31536000");
  return headers;
}

absl::Status SplitHostPort(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(absl::string_view(listen).substr(colon + 1), port) || *port < 0 ||
      *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_listen must be HOST:PORT, got '", listen, "'"));
  }
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

// gRPC's peer naming, so PeerRateLimiter keys HTTP clients like gRPC ones.
std::string PeerOf(const httplib::Request& request) {
  if (request.remote_addr.find(':') != std::string::npos) {
    return absl::StrCat("ipv6:[", request.remote_addr, "]:", request.remote_port);
  }
  return absl::StrCat("ipv4:", request.remote_addr, ":", request.remote_port);
}

void Write(const HttpReply& reply, httplib::Response* response) {
  response->status = reply.status;
  std::string content_type = "application/json";
  for (const auto& [name, value] : reply.headers) {
    if (name == "Content-Type") {
      content_type = value;
    } else {
      response->set_header(name, value);
    }
  }
  response->set_content(reply.body, content_type);
}

// No SO_REUSEPORT (unlike httplib's default): a second optoutd on the same
// port must fail to start, not share the traffic.
void SocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

absl::optional<HttpReply> RefuseBodySize(const httplib::Request& request, size_t max_body) {
  if (request.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos) {
    return ErrorReply(411, absl::InvalidArgumentError(
                               "send the body with a Content-Length (chunked bodies are refused)"));
  }
  uint64_t length = 0;
  if (absl::SimpleAtoi(request.get_header_value("Content-Length"), &length) && length > max_body) {
    return ErrorReply(413, absl::ResourceExhaustedError(absl::StrCat(
                               "request body of ", length, " bytes is above the limit of ",
                               max_body, " bytes (--max_message_mb)")));
  }
  return absl::nullopt;
}

void Route(const JsonApi* api, const StaticFiles* files, const httplib::Request& request,
           httplib::Response& response) {
  if (JsonApi::Owns(request.path)) {
    ApiRequest call;
    call.method = request.method;
    call.path = request.path;
    call.content_type = request.get_header_value("Content-Type");
    call.authorization = request.get_header_value("Authorization");
    call.body = request.body;
    call.peer = PeerOf(request);
    Write(api->Handle(call), &response);
    return;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    HttpReply refused = ErrorReply(405, absl::UnimplementedError("the page is read-only"));
    refused.headers.emplace_back("Allow", "GET, HEAD");
    Write(refused, &response);
    return;
  }
  Write(files->Serve(request.path), &response);
}

}  // namespace

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }
int HttpServer::port() const { return impl_->port; }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              const JsonApi* api,
                                                              const StaticFiles* files,
                                                              HttpTls* tls) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(options.listen, &host, &port); !s.ok()) return s;
  if (options.threads < 1) return absl::InvalidArgumentError("HTTP threads must be >= 1");

  auto impl = std::make_unique<Impl>();
  if (tls != nullptr) {
    impl->server = std::make_unique<httplib::SSLServer>(
        [tls](SSL_CTX& ctx) { return tls->Configure(&ctx); });
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *impl->server;
  if (!server.is_valid()) return absl::InternalError("cannot set up the HTTP server (TLS context)");
  const size_t threads = static_cast<size_t>(options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_socket_options(SocketOptions);
  server.set_default_headers(SecurityHeaders(tls != nullptr));
  server.set_read_timeout(10);
  server.set_write_timeout(10);
  server.set_keep_alive_timeout(5);
  server.set_keep_alive_max_count(100);
  server.set_payload_max_length(options.max_body_bytes);
  const size_t max_body = options.max_body_bytes;
  // Refuses an oversized or unsized body before reading it: httplib would
  // read and discard a long body first, and in this version does not bound a
  // chunked one. Browsers, curl and every HTTP library send Content-Length
  // for a JSON body.
  server.set_pre_routing_handler([max_body](const httplib::Request& request,
                                            httplib::Response& response) {
    absl::optional<HttpReply> refused = RefuseBodySize(request, max_body);
    if (!refused) return httplib::Server::HandlerResponse::Unhandled;
    Write(*refused, &response);
    response.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_expect_100_continue_handler(
      [max_body](const httplib::Request& request, httplib::Response&) {
        absl::optional<HttpReply> refused = RefuseBodySize(request, max_body);
        return refused ? refused->status : 100;
      });
  // httplib's own refusals (unreadable request, body over the limit while
  // reading a chunked one, unknown method) get the same JSON error shape.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const int status = response.status;
    absl::Status error =
        status == 413 ? absl::ResourceExhaustedError(absl::StrCat(
                            "request body above the limit of ", max_body,
                            " bytes (--max_message_mb)"))
                      : absl::InvalidArgumentError(
                            absl::StrCat("malformed HTTP request (HTTP status ", status, ")"));
    Write(ErrorReply(status, error), &response);
    return httplib::Server::HandlerResponse::Handled;
  }));
  auto route = [api, files](const httplib::Request& request, httplib::Response& response) {
    Route(api, files, request, response);
  };
  server.Get(".*", route);
  server.Post(".*", route);
  server.Put(".*", route);
  server.Patch(".*", route);
  server.Delete(".*", route);
  server.Options(".*", route);

  if (port == 0) {
    impl->port = server.bind_to_any_port(host);
  } else if (server.bind_to_port(host, port)) {
    impl->port = port;
  }
  if (impl->port <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen,
        " (--http_listen): the port is in use or the address is not local"));
  }
  if (!options.port_file.empty()) {
    const std::string tmp = options.port_file + ".tmp";
    std::ofstream(tmp) << impl->port << "\n";
    if (std::rename(tmp.c_str(), options.port_file.c_str()) != 0) {
      return absl::UnavailableError("cannot write the HTTP port file");
    }
  }
  httplib::Server* raw = impl->server.get();
  impl->listener = std::thread([raw] { raw->listen_after_bind(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->server->stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

}  // namespace optout::service::http
