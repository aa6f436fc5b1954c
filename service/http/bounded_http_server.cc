#include "service/http/bounded_http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <deque>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace optout::service::http {
namespace {

absl::Status SplitHostPort(const std::string& listen, const std::string& flag, std::string* host,
                           int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(absl::string_view(listen).substr(colon + 1), port) || *port < 0 ||
      *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " must be HOST:PORT, got '", listen, "'"));
  }
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

// A non-blocking listening socket on the first address `host` resolves to.
// SO_REUSEADDR lets a restart bind past TIME_WAIT; no SO_REUSEPORT, so a
// second optoutd on the same port fails to start instead of sharing it.
absl::StatusOr<int> Listen(const std::string& host, int port, const std::string& flag,
                           const std::string& listen) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", listen, ": the host does not resolve to an address"));
  }
  int fd = -1;
  for (addrinfo* at = found; at != nullptr && fd < 0; at = at->ai_next) {
    fd = ::socket(at->ai_family, at->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, at->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, at->ai_addr, at->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen, " (", flag,
                                               "): the port is in use or the address is not local"));
  }
  return fd;
}

// The connection the handler on this thread answers (PeerClosedProbe).
thread_local int current_connection = -1;

int BoundPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

}  // namespace

struct BoundedHttpServer::Impl {
  BoundedHttpOptions options;
  std::unique_ptr<HttpRoutes> routes;
  SSL_CTX* tls_context = nullptr;  // null: plaintext
  int listen_fd = -1;
  // Readable once Stop begins: wakes the accept loop and idle connections.
  int wake_fd = -1;
  int port = 0;

  absl::Mutex mu;
  std::deque<int> waiting ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;

  std::thread acceptor;
  std::vector<std::thread> workers;
  bool stopped = false;

  ~Impl() {
    if (tls_context != nullptr) SSL_CTX_free(tls_context);
    if (listen_fd >= 0) ::close(listen_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void AcceptLoop() {
    pollfd both[2] = {{listen_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    for (;;) {
      if (::poll(both, 2, -1) < 0 && errno != EINTR) return;
      if (both[1].revents & POLLIN) return;
      for (;;) {
        const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          // Out of descriptors: let the other connections finish first
          // rather than spinning on a listener that stays readable.
          if (errno == EMFILE || errno == ENFILE) ::usleep(10'000);
          break;
        }
        int yes = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
        absl::MutexLock lock(&mu);
        if (waiting.size() >= options.max_waiting_connections) {
          ::close(fd);
        } else {
          waiting.push_back(fd);
        }
      }
    }
  }

  void WorkLoop() {
    for (;;) {
      int fd = -1;
      {
        absl::MutexLock lock(&mu);
        mu.Await(absl::Condition(
            +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu) {
              return self->stopping || !self->waiting.empty();
            },
            this));
        if (waiting.empty()) return;
        fd = waiting.front();
        waiting.pop_front();
      }
      Serve(fd);
      ::close(fd);
    }
  }

  bool Stopping() {
    absl::MutexLock lock(&mu);
    return stopping;
  }

  void Serve(int fd) {
    SSL* ssl = nullptr;
    if (tls_context != nullptr) {
      ssl = SSL_new(tls_context);
      if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
        if (ssl != nullptr) SSL_free(ssl);
        return;
      }
    }
    ConnectionStream stream(fd, ssl, options.limits);
    if (stream.Handshake()) {
      const auto setup = [ssl](httplib::Request& request) { request.ssl = ssl; };
      for (int served = 0; served < options.max_requests_per_connection; ++served) {
        const absl::Duration wait = served == 0 ? options.limits.io_timeout : options.idle_timeout;
        if (!stream.WaitForRequest(wait, wake_fd)) break;
        stream.BeginRequest();
        const bool last = served + 1 == options.max_requests_per_connection || Stopping();
        bool peer_closes = false;
        current_connection = fd;
        const bool answered = routes->process_request(stream, last, peer_closes, setup);
        current_connection = -1;
        if (!answered || peer_closes || last || stream.exceeded() || stream.answer_closes()) break;
      }
      if (ssl != nullptr) SSL_shutdown(ssl);
    }
    if (ssl != nullptr) SSL_free(ssl);
  }
};

std::function<bool()> PeerClosedProbe() {
  const int fd = current_connection;
  if (fd < 0) return [] { return false; };
  return [fd] {
    pollfd one{fd, POLLRDHUP, 0};
    return ::poll(&one, 1, 0) > 0 && (one.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  };
}

BoundedHttpServer::BoundedHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BoundedHttpServer::~BoundedHttpServer() { Stop(); }
int BoundedHttpServer::port() const { return impl_->port; }

absl::StatusOr<std::unique_ptr<BoundedHttpServer>> BoundedHttpServer::Start(
    const BoundedHttpOptions& options, std::unique_ptr<HttpRoutes> routes, HttpTls* tls) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(options.listen, options.flag, &host, &port); !s.ok()) {
    return s;
  }
  if (options.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(options.flag, ": threads must be >= 1"));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->routes = std::move(routes);
  if (tls != nullptr) {
    impl->tls_context = SSL_CTX_new(TLS_server_method());
    if (impl->tls_context == nullptr) {
      return absl::InternalError(absl::StrCat(options.flag, ": cannot set up a TLS context"));
    }
    SSL_CTX_set_options(impl->tls_context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(impl->tls_context,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!tls->Configure(impl->tls_context)) {
      return absl::InternalError(absl::StrCat(options.flag, ": cannot set up a TLS context"));
    }
  }
  absl::StatusOr<int> listening = Listen(host, port, options.flag, options.listen);
  if (!listening.ok()) return listening.status();
  impl->listen_fd = *listening;
  impl->port = BoundPort(impl->listen_fd);
  impl->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->port <= 0 || impl->wake_fd < 0) {
    return absl::InternalError(absl::StrCat(options.flag, ": cannot set up the listener"));
  }
  if (!options.port_file.empty()) {
    const std::string tmp = options.port_file + ".tmp";
    std::ofstream(tmp) << impl->port << "\n";
    if (std::rename(tmp.c_str(), options.port_file.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat(options.flag, ": cannot write the port file"));
    }
  }
  Impl* raw = impl.get();
  for (int i = 0; i < options.threads; ++i) raw->workers.emplace_back([raw] { raw->WorkLoop(); });
  raw->acceptor = std::thread([raw] { raw->AcceptLoop(); });
  return std::unique_ptr<BoundedHttpServer>(new BoundedHttpServer(std::move(impl)));
}

void BoundedHttpServer::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  {
    absl::MutexLock lock(&impl_->mu);
    impl_->stopping = true;
  }
  const uint64_t one = 1;
  (void)!::write(impl_->wake_fd, &one, sizeof(one));
  if (impl_->acceptor.joinable()) impl_->acceptor.join();
  {
    absl::MutexLock lock(&impl_->mu);
    for (int fd : impl_->waiting) ::close(fd);
    impl_->waiting.clear();
  }
  for (std::thread& worker : impl_->workers) worker.join();
}

}  // namespace optout::service::http
