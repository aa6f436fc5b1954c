#include "service/connection_gate.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>

#include "absl/numeric/bits.h"
#include "absl/strings/str_cat.h"
#include "grpc/support/sync.h"
#include "grpcpp/impl/server_builder_option.h"
#include "service/log.h"

// gRPC's socket mutator interface (src/core/lib/iomgr/socket_mutator.h),
// which its public headers declare but do not define. Layout of gRPC 1.51
// (Debian 12's libgrpc29); the functions are exported by libgrpc.
struct grpc_mutate_socket_info_1_51 {
  int fd;
  int usage;  // grpc_fd_usage; not relied on (see PeerOf)
};
struct grpc_socket_mutator_vtable {
  bool (*mutate_fd)(int fd, grpc_socket_mutator* mutator);
  int (*compare)(grpc_socket_mutator* a, grpc_socket_mutator* b);
  void (*destroy)(grpc_socket_mutator* mutator);
  bool (*mutate_fd_2)(const grpc_mutate_socket_info_1_51* info, grpc_socket_mutator* mutator);
};
struct grpc_socket_mutator {
  const grpc_socket_mutator_vtable* vtable;
  gpr_refcount refcount;
};
void grpc_socket_mutator_init(grpc_socket_mutator* mutator,
                              const grpc_socket_mutator_vtable* vtable);

namespace optout::service {
namespace {

// gRPC opens one listening socket per resolved address (two at most for a
// wildcard); a few slots leave room for several ports.
constexpr int kMaxListeners = 8;

struct Gate {
  grpc_socket_mutator base;  // first: gRPC passes &base
  int fd_ceiling = 0;
  // Sockets the mutator saw before they had a peer: gRPC's listeners.
  std::array<std::atomic<int>, kMaxListeners> listeners;
  std::atomic<int> listener_count{0};
  std::atomic<uint64_t> refused{0};
};

bool HasPeer(int fd) {
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
}

int LocalPort(int fd) {
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return -1;
  if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  if (local.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  return -1;
}

// Only a non-blocking listener may be drained: accept() on the poller
// thread must never wait.
bool IsNonBlockingListener(int fd) {
  int listening = 0;
  socklen_t len = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening != 1) {
    return false;
  }
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

// Closes at once with a reset, so the peer learns immediately and the
// descriptor is free before the next accept.
void Reset(int fd) {
  const linger abort_on_close{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
  ::close(fd);
}

// Accepts and resets every connection waiting on the listener(s) of the
// refused socket's port. A listener slot is trusted only while it is still a
// listening socket on that port (descriptor numbers are reused).
uint64_t DrainBacklog(Gate* gate, int refused_fd) {
  const int port = LocalPort(refused_fd);
  uint64_t drained = 0;
  const int count = std::min(gate->listener_count.load(), kMaxListeners);
  for (int i = 0; i < count; ++i) {
    const int listener = gate->listeners[i].load();
    if (listener < 0 || LocalPort(listener) != port || !IsNonBlockingListener(listener)) continue;
    for (;;) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) break;  // EAGAIN: empty; anything else: leave it to gRPC
      Reset(fd);
      ++drained;
    }
  }
  return drained;
}

void RememberListener(Gate* gate, int fd) {
  const int slot = gate->listener_count.fetch_add(1);
  if (slot < kMaxListeners) gate->listeners[slot].store(fd);
}

bool MutateFd(const grpc_mutate_socket_info_1_51* info, grpc_socket_mutator* mutator) {
  Gate* gate = reinterpret_cast<Gate*>(mutator);
  const int fd = info->fd;
  if (!HasPeer(fd)) {
    RememberListener(gate, fd);
    return true;
  }
  if (fd < gate->fd_ceiling) return true;
  ::shutdown(fd, SHUT_RDWR);  // gRPC reads end-of-stream and closes it
  const uint64_t just_refused = 1 + DrainBacklog(gate, fd);
  const uint64_t before = gate->refused.fetch_add(just_refused);
  const uint64_t refused = before + just_refused;
  // A trail, not a flood: one line each time the total passes a power of two.
  if (absl::bit_width(before) != absl::bit_width(refused)) {
    Log(LogLevel::kWarning, absl::StrCat("refused ", refused,
                                         " connections so far: --max_connections reached"));
  }
  // Returning false would make gRPC 1.51 stop accepting for good.
  return true;
}

bool MutateFdLegacy(int /*fd*/, grpc_socket_mutator* /*mutator*/) { return true; }
int Compare(grpc_socket_mutator* a, grpc_socket_mutator* b) { return a < b ? -1 : (a > b ? 1 : 0); }
void Destroy(grpc_socket_mutator* mutator) { delete reinterpret_cast<Gate*>(mutator); }

const grpc_socket_mutator_vtable kGateVtable = {MutateFdLegacy, Compare, Destroy, MutateFd};

class GateOption final : public grpc::ServerBuilderOption {
 public:
  explicit GateOption(int fd_ceiling) : fd_ceiling_(fd_ceiling) {}
  void UpdateArguments(grpc::ChannelArguments* args) override {
    auto* gate = new Gate;  // owned by gRPC's reference count from here
    gate->fd_ceiling = fd_ceiling_;
    for (auto& listener : gate->listeners) listener.store(-1);
    grpc_socket_mutator_init(&gate->base, &kGateVtable);
    args->SetSocketMutator(&gate->base);
  }
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*) override {}

 private:
  const int fd_ceiling_;
};

}  // namespace

void InstallConnectionGate(grpc::ServerBuilder* builder, int fd_ceiling) {
  builder->SetOption(std::make_unique<GateOption>(fd_ceiling));
}

}  // namespace optout::service
