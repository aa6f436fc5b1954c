// Issue 13: cluster mode against a single node, in one command (not a test;
// figures in README "Cluster mode" and tests/bench/README.md):
//   1. acknowledged registrations/s and ack latency p50/p99: 16 writers on
//      one single-node optoutd, then spread over a 3-node cluster;
//   2. replication lag at 2,000 registrations/s on node 0: how long after
//      the ack nodes 1 and 2 have applied the write (p50/p99/max);
//   3. revoke propagation at idle: from the revoke's ack until the other
//      nodes stop matching (p50/p99);
//   4. server CPU per checked item (user+system of the optoutd process over
//      a check load of 1,000-URL batches) on a cluster node vs single node.
//   cluster_bench [--seconds=N]   (default 10 per write phase)
// Everything runs on loopback on this machine: the figures are what this
// machine does with 3 NATS servers, 3 optoutd and the clients on it.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "optout/v1/optout.grpc.pb.h"
#include "tests/e2e/cluster_fixture.h"

namespace optout::testing {
namespace {

constexpr int kWriters = 16;

std::string Url(const std::string& tag, uint64_t n) {
  static std::atomic<uint64_t> salt{std::random_device{}()};
  return absl::StrCat("https://", tag, ".bench.example/", n, "/", salt++, ".jpg");
}

// A fresh request_id (32 hex digits: 128 random bits), as a client that
// retries safely sends with every registration: the node then also keeps
// and checks the request key, which the figures must include.
std::string RequestId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x%016x", rng(), rng());
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// user+system CPU seconds of process `pid` so far.
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(in, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// This process's nats-server children (the cluster's NATS servers).
std::vector<pid_t> NatsServerChildren() {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (const dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
    std::string line;
    if (!std::getline(in, line)) continue;
    const size_t open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent == getpid() && line.substr(open + 1, close - open - 1) == "nats-server") {
      pids.push_back(pid);
    }
  }
  closedir(proc);
  return pids;
}

// user+system CPU seconds of this process (the bench's clients and pollers).
double OwnCpuSeconds() { return CpuSeconds(getpid()); }

struct Stubs {
  std::vector<std::unique_ptr<v1::Registry::Stub>> registry;
  std::vector<std::unique_ptr<v1::Check::Stub>> check;
};

Stubs Connect(const std::vector<std::string>& addresses) {
  Stubs stubs;
  for (const std::string& a : addresses) {
    auto channel = grpc::CreateChannel(a, grpc::InsecureChannelCredentials());
    stubs.registry.push_back(v1::Registry::NewStub(channel));
    stubs.check.push_back(v1::Check::NewStub(channel));
  }
  return stubs;
}

// 1. kWriters register for `duration`, writer w on node w % nodes.
void MeasureWrites(const char* label, Stubs& stubs, absl::Duration duration) {
  absl::Mutex mu;
  std::vector<double> millis;
  std::atomic<int> failures{0};
  std::atomic<uint64_t> n{0};
  const absl::Time end = absl::Now() + duration;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::vector<double> mine;
      auto& stub = *stubs.registry[w % stubs.registry.size()];
      while (absl::Now() < end) {
        v1::RegisterRequest request;
        request.set_request_id(RequestId());
        request.add_urls(Url("write", n++));
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
        v1::RegisterResponse response;
        const absl::Time t = absl::Now();
        if (stub.Register(&context, request, &response).ok()) {
          mine.push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
        } else {
          ++failures;
        }
      }
      absl::MutexLock lock(&mu);
      millis.insert(millis.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : writers) t.join();
  std::printf("%-12s %7.0f acknowledged registrations/s   ack latency p50 %6.2f ms  p99 %6.2f ms"
              "   (%zu in %.0f s, %d failed, %d writers)\n",
              label, millis.size() / absl::ToDoubleSeconds(duration), Percentile(millis, 0.5),
              Percentile(millis, 0.99), millis.size(), absl::ToDoubleSeconds(duration),
              failures.load(), kWriters);
}

// 4. Server CPU per checked item: `clients` threads check 1,000-URL batches
// (none registered: the common case) on `stub` for `duration`.
void MeasureCheckCpu(const char* label, v1::Check::Stub& stub, pid_t pid,
                     absl::Duration duration) {
  v1::CheckRequest request;
  for (int i = 0; i < 1000; ++i) request.add_items()->set_url(Url("check", i));
  std::atomic<uint64_t> items{0};
  const double cpu_start = CpuSeconds(pid);
  const absl::Time start = absl::Now(), end = start + duration;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (absl::Now() < end) {
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        v1::CheckResponse response;
        if (stub.Check(&context, request, &response).ok()) items += response.results_size();
      }
    });
  }
  for (auto& t : clients) t.join();
  const double cpu = CpuSeconds(pid) - cpu_start;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("%-12s %9.0f items/s checked   server CPU %.3f us per item  (%.1f CPU-s over "
              "%.1f s)\n",
              label, items / seconds, 1e6 * cpu / static_cast<double>(items.load()), cpu, seconds);
}

int Run(absl::Duration phase) {
  std::printf("cluster_bench: %d cores; %s per write phase\n",
              static_cast<int>(std::thread::hardware_concurrency()),
              absl::FormatDuration(phase).c_str());
  {
    OptoutdProcess single({"--check_threads=2"});
    if (!single.Start().ok()) return 1;
    Stubs stubs = Connect({single.address()});
    MeasureWrites("single node", stubs, phase);
    MeasureCheckCpu("single node", *stubs.check[0], single.pid(), phase);
  }
  OptoutCluster cluster;
  absl::Status started = cluster.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "cluster did not start: %s\n", started.ToString().c_str());
    return 1;
  }
  Stubs stubs = Connect({cluster.node(0).address(), cluster.node(1).address(),
                         cluster.node(2).address()});
  MeasureWrites("cluster (3)", stubs, phase);
  MeasureCheckCpu("cluster node", *stubs.check[1], cluster.node(1).pid(), phase);

  // 2. Replication lag at 2,000 registrations/s asked of node 0 (256 paced
  // writers: enough that a request taking up to 128 ms keeps the pace).
  {
    constexpr int kRate = 2000, kPacers = 256;
    struct Ack {
      absl::Time at;
      uint64_t version;
    };
    absl::Mutex mu;
    std::vector<Ack> acks;
    std::atomic<bool> done{false};
    std::atomic<int> failures{0};
    // CPU per acknowledged write, by process kind: steadier than the rate on
    // a machine shared with other work.
    const std::vector<pid_t> nats_pids = NatsServerChildren();
    auto cpu_now = [&] {
      std::vector<double> cpu;
      for (int node = 0; node < 3; ++node) cpu.push_back(CpuSeconds(cluster.node(node).pid()));
      double nats = 0;
      for (pid_t pid : nats_pids) nats += CpuSeconds(pid);
      cpu.push_back(nats);
      cpu.push_back(OwnCpuSeconds());
      return cpu;
    };
    const std::vector<double> cpu_start = cpu_now();
    const absl::Time start = absl::Now(), end = start + phase;
    std::vector<std::thread> pacers;
    for (int p = 0; p < kPacers; ++p) {
      pacers.emplace_back([&, p] {
        const absl::Duration every = absl::Seconds(1) * kPacers / kRate;
        for (int i = 0;; ++i) {
          const absl::Time due = start + every * i + every * p / kPacers;
          if (due >= end) break;
          absl::SleepFor(due - absl::Now());
          v1::RegisterRequest request;
          request.set_request_id(RequestId());
          request.add_urls(Url("lag", p * 1000000 + i));
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
          v1::RegisterResponse response;
          if (!stubs.registry[0]->Register(&context, request, &response).ok()) {
            ++failures;
            continue;
          }
          absl::MutexLock lock(&mu);
          acks.push_back({absl::Now(), response.version()});
        }
      });
    }
    // When each version becomes applied on nodes 1 and 2 (polled every 2 ms).
    std::vector<std::vector<std::pair<absl::Time, uint64_t>>> seen(3);
    std::vector<std::thread> pollers;
    for (int node : {1, 2}) {
      pollers.emplace_back([&, node] {
        while (!done) {
          absl::StatusOr<v1::GetInfoResponse> info = cluster.Info(node);
          if (info.ok()) seen[node].push_back({absl::Now(), info->applied_version()});
          absl::SleepFor(absl::Milliseconds(2));
        }
      });
    }
    for (auto& t : pacers) t.join();
    std::vector<double> cpu = cpu_now();
    for (size_t i = 0; i < cpu.size(); ++i) cpu[i] -= cpu_start[i];
    absl::SleepFor(absl::Seconds(2));
    done = true;
    for (auto& t : pollers) t.join();
    std::vector<double> lag;
    for (int node : {1, 2}) {
      for (const Ack& a : acks) {
        auto it = std::find_if(seen[node].begin(), seen[node].end(),
                               [&](const auto& s) { return s.second >= a.version; });
        if (it != seen[node].end()) {
          lag.push_back(std::max(0.0, absl::ToDoubleMilliseconds(it->first - a.at)));
        }
      }
    }
    absl::Time last_ack = start;
    for (const Ack& a : acks) last_ack = std::max(last_ack, a.at);
    std::printf("replication, %d registrations/s asked of node 0 (%.0f/s acknowledged: %zu in "
                "%.1f s, %d failed): applied on nodes 1 and 2 after the ack p50 %.1f ms  p99 "
                "%.1f ms  max %.1f ms (2 ms polling)\n",
                kRate, acks.size() / absl::ToDoubleSeconds(last_ack - start), acks.size(),
                absl::ToDoubleSeconds(last_ack - start), failures.load(), Percentile(lag, 0.5),
                Percentile(lag, 0.99),
                lag.empty() ? 0.0 : *std::max_element(lag.begin(), lag.end()));
    const double per = acks.empty() ? 0.0 : 1e6 / static_cast<double>(acks.size());
    uint64_t first_version = ~uint64_t{0}, last_version = 0;
    for (const Ack& a : acks) {
      first_version = std::min(first_version, a.version);
      last_version = std::max(last_version, a.version);
    }
    const uint64_t messages = last_version < first_version ? 0 : last_version - first_version + 1;
    const double per_message =
        messages == 0 ? 0.0 : static_cast<double>(acks.size()) / static_cast<double>(messages);
    std::printf("  CPU per acknowledged registration in that phase: optoutd node 0 %.0f us, "
                "nodes 1 and 2 %.0f + %.0f us, %zu nats-server %.0f us, bench clients %.0f us; "
                "%.1f registrations per stream message\n",
                cpu[0] * per, cpu[1] * per, cpu[2] * per, nats_pids.size(), cpu[3] * per,
                cpu[4] * per, per_message);
  }

  // 3. Revoke propagation at idle.
  {
    std::vector<double> millis;
    for (int i = 0; i < 50; ++i) {
      const std::string url = Url("revoke", i);
      v1::RegisterRequest request;
      request.set_request_id(RequestId());
      request.add_urls(url);
      absl::StatusOr<v1::RegisterResponse> r = cluster.Register(0, request);
      if (!r.ok()) continue;
      for (int node : {1, 2}) cluster.WaitApplied(node, r->version(), absl::Seconds(10));
      absl::SleepFor(absl::Milliseconds(20));
      absl::StatusOr<v1::RevokeResponse> revoked =
          cluster.Revoke(0, r->opt_out_id(), r->manage_token());
      if (!revoked.ok()) continue;
      const absl::Time acked = absl::Now();
      for (int node : {1, 2}) {
        while (absl::Now() - acked < absl::Seconds(5)) {
          absl::StatusOr<bool> m = cluster.Matches(node, url);
          if (m.ok() && !*m) break;
          absl::SleepFor(absl::Milliseconds(1));
        }
        millis.push_back(absl::ToDoubleMilliseconds(absl::Now() - acked));
      }
    }
    std::printf("revoke propagation at idle over %zu (node, revoke) pairs: p50 %.1f ms  p99 "
                "%.1f ms\n",
                millis.size(), Percentile(millis, 0.5), Percentile(millis, 0.99));
  }
  return 0;
}

}  // namespace
}  // namespace optout::testing

int main(int argc, char** argv) {
  int seconds = 10;
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--seconds=%d", &seconds) != 1 || seconds < 1) {
      std::fprintf(stderr, "usage: cluster_bench [--seconds=N]\n");
      return 2;
    }
  }
  return optout::testing::Run(absl::Seconds(seconds));
}
