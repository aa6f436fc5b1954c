#include "service/http/http_server.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/types/optional.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "httplib.h"
#include "service/http/bounded_http_server.h"

namespace optout::service::http {

struct HttpServer::Impl {
  std::unique_ptr<BoundedHttpServer> server;
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

// gRPC's peer naming, so PeerRateLimiter keys HTTP clients like gRPC ones.
// The subject of the client certificate the handshake verified, in RFC 2253
// form (as `openssl x509 -subject -nameopt RFC2253` prints it, and as gRPC
// reports it), so one `--cert-subject` names the key on both surfaces.
std::string CertSubjectOf(const SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return "";
  BIO* out = BIO_new(BIO_s_mem());
  if (out == nullptr) return "";
  std::string subject;
  if (X509_NAME_print_ex(out, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    if (size > 0) subject.assign(data, static_cast<size_t>(size));
  }
  BIO_free(out);
  return subject;
}

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
    call.cert_subject = CertSubjectOf(request.ssl);
    call.peer_gone = PeerClosedProbe();
    call.session = request.get_header_value("Optout-Session");
    if (request.has_header("Optout-Session-Part")) {
      call.session_part = request.get_header_value("Optout-Session-Part");
    }
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
int HttpServer::port() const { return impl_->server->port(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              const JsonApi* api,
                                                              const StaticFiles* files,
                                                              HttpTls* tls) {
  auto routes = std::make_unique<HttpRoutes>();
  httplib::Server& server = *routes;
  server.set_default_headers(SecurityHeaders(tls != nullptr));
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
  auto route = [api, files, metrics = options.metrics](const httplib::Request& request,
                                                       httplib::Response& response) {
    if (metrics == nullptr) return Route(api, files, request, response);
    const auto start = std::chrono::steady_clock::now();
    Route(api, files, request, response);
    metrics->Record(HttpMetrics::RouteOf(request.method, request.path), response.status,
                    std::chrono::steady_clock::now() - start);
  };
  server.Get(".*", route);
  server.Post(".*", route);
  server.Put(".*", route);
  server.Patch(".*", route);
  server.Delete(".*", route);
  server.Options(".*", route);

  BoundedHttpOptions bounded;
  bounded.listen = options.listen;
  bounded.threads = options.threads;
  bounded.limits.max_body_bytes = options.max_body_bytes;
  bounded.port_file = options.port_file;
  auto impl = std::make_unique<Impl>();
  OPTOUT_ASSIGN_OR_RETURN(impl->server, BoundedHttpServer::Start(bounded, std::move(routes), tls));
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Stop() {
  if (impl_ != nullptr && impl_->server != nullptr) impl_->server->Stop();
}

}  // namespace optout::service::http
