#include "service/connection_gate.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/support/sync.h"
#include "grpcpp/impl/server_builder_option.h"
#include "service/log.h"

// gRPC's socket mutator interface (src/core/lib/iomgr/socket_mutator.h),
// which its public headers declare but do not define. Layout of gRPC 1.51
// (Debian 12's libgrpc29); the functions are exported by libgrpc.
struct grpc_mutate_socket_info_1_51 {
  int fd;
  int usage;  // grpc_fd_usage; not relied on (see IsAcceptedConnection)
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

// How long an accept waits for the previously refused socket to be closed.
constexpr absl::Duration kRefusalPace = absl::Milliseconds(100);

struct Gate {
  grpc_socket_mutator base;  // first: gRPC passes &base
  int fd_ceiling = 0;
  // Identity of the last refused socket (its number can be reused).
  int last_refused_fd = -1;
  ino_t last_refused_inode = 0;
  std::atomic<uint64_t> refused{0};
};

// A listening socket (the mutator also sees those, before bind) has no peer.
bool IsAcceptedConnection(int fd) {
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
}

ino_t InodeOf(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

void WaitForLastRefusalToClose(Gate* gate) {
  if (gate->last_refused_fd < 0) return;
  const absl::Time give_up = absl::Now() + kRefusalPace;
  while (InodeOf(gate->last_refused_fd) == gate->last_refused_inode && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
}

bool MutateFd(const grpc_mutate_socket_info_1_51* info, grpc_socket_mutator* mutator) {
  Gate* gate = reinterpret_cast<Gate*>(mutator);
  const int fd = info->fd;
  if (fd < gate->fd_ceiling || !IsAcceptedConnection(fd)) return true;
  // Accept calls of one listener are serialized by gRPC, so the
  // last_refused_* fields need no lock with a single listening port.
  WaitForLastRefusalToClose(gate);
  ::shutdown(fd, SHUT_RDWR);  // gRPC reads end-of-stream and closes it
  gate->last_refused_fd = fd;
  gate->last_refused_inode = InodeOf(fd);
  const uint64_t refused = gate->refused.fetch_add(1) + 1;
  if ((refused & (refused - 1)) == 0) {  // 1, 2, 4, 8, ...: a trail, not a flood
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
