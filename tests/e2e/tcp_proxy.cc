#include "tests/e2e/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace optout::testing {
namespace {

constexpr size_t kChunk = 64 * 1024;

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// One proxied connection: bytes read from one side wait in the other
// side's buffer until written.
struct Link {
  int client = -1, server = -1;
  std::string to_server, to_client;
  bool broken = false;
};

// Writes what `pending` holds to `fd`; false when the socket failed.
bool Flush(int fd, std::string* pending) {
  while (!pending->empty()) {
    const ssize_t n = send(fd, pending->data(), pending->size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    pending->erase(0, static_cast<size_t>(n));
  }
  return true;
}

// Reads what `fd` has into `into`; false at end of stream or on failure.
bool Fill(int fd, std::string* into, int64_t* counted) {
  char buffer[kChunk];
  const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  into->append(buffer, static_cast<size_t>(n));
  if (counted != nullptr) *counted += n;
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(int target_port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("proxy: no socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::UnavailableError("proxy: cannot listen on loopback");
  }
  SetNonBlocking(fd);
  return std::unique_ptr<TcpProxy>(new TcpProxy(fd, ntohs(addr.sin_port), target_port));
}

TcpProxy::TcpProxy(int listen_fd, int port, int target_port)
    : listen_fd_(listen_fd), port_(port), target_port_(target_port) {
  thread_ = std::thread([this] { Loop(); });
}

TcpProxy::~TcpProxy() {
  stop_.store(true);
  thread_.join();
  close(listen_fd_);
}

std::string TcpProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

void TcpProxy::DropAfter(int64_t after_bytes, absl::Duration stall) {
  absl::MutexLock lock(&mu_);
  drop_at_ = upstream_.load() + after_bytes;
  stall_ = stall;
}

void TcpProxy::Loop() {
  std::vector<Link> links;
  absl::Time stalled_until = absl::InfinitePast();
  bool stalled = false;
  auto close_link = [](Link& link) {
    shutdown(link.client, SHUT_RDWR);
    shutdown(link.server, SHUT_RDWR);
    close(link.client);
    close(link.server);
  };
  while (!stop_.load()) {
    // A drop armed and due: hold answers back, then close everything.
    {
      absl::MutexLock lock(&mu_);
      if (!stalled && drop_at_ >= 0 && upstream_.load() >= drop_at_) {
        stalled = true;
        stalled_until = absl::Now() + stall_;
        drop_at_ = -1;
      }
    }
    if (stalled && absl::Now() >= stalled_until) {
      for (Link& link : links) close_link(link);
      links.clear();
      stalled = false;
      drops_.fetch_add(1);
    }
    std::vector<pollfd> fds;
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Link& link : links) {
      short client_events = link.to_server.size() < kChunk ? POLLIN : 0;
      if (!link.to_client.empty() && !stalled) client_events |= POLLOUT;
      short server_events = link.to_client.size() < kChunk || stalled ? POLLIN : 0;
      if (!link.to_server.empty()) server_events |= POLLOUT;
      fds.push_back({link.client, client_events, 0});
      fds.push_back({link.server, server_events, 0});
    }
    if (poll(fds.data(), fds.size(), 20) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client >= 0) {
        const int server = ConnectLoopback(target_port_);
        if (server < 0) {
          close(client);
        } else {
          const int one = 1;
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          SetNonBlocking(client);
          SetNonBlocking(server);
          links.push_back({client, server});
        }
      }
    }
    for (size_t i = 0; i < links.size() && 1 + 2 * i + 1 < fds.size(); ++i) {
      Link& link = links[i];
      const short c = fds[1 + 2 * i].revents, s = fds[2 + 2 * i].revents;
      int64_t up = 0;
      if (c & (POLLIN | POLLHUP | POLLERR)) link.broken |= !Fill(link.client, &link.to_server, &up);
      if (s & (POLLIN | POLLHUP | POLLERR)) link.broken |= !Fill(link.server, &link.to_client, nullptr);
      upstream_.fetch_add(up);
      if (!link.to_server.empty()) link.broken |= !Flush(link.server, &link.to_server);
      if (!stalled && !link.to_client.empty()) link.broken |= !Flush(link.client, &link.to_client);
    }
    for (size_t i = 0; i < links.size();) {
      if (links[i].broken) {
        close_link(links[i]);
        links.erase(links.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }
  for (Link& link : links) close_link(link);
}

}  // namespace optout::testing
