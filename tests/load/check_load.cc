#include "tests/load/check_load.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "optout/v1/optout.grpc.pb.h"

namespace optout::load {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NanosSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count();
}

// What one stream or thread saw; merged into LoadTotals at the end.
struct Partial {
  uint64_t calls = 0, items = 0, units = 0, matched = 0, expected = 0;
  LatencyRecorder latency;
  absl::Status status;

  void Count(const Batch& b, const v1::CheckResponse& response, int64_t nanos) {
    ++calls;
    items += b.items;
    units += b.units;
    expected += b.expected_matches;
    matched += CountMatches(response);
    latency.Record(nanos);
  }
};

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

// One CheckStream: this thread writes, a second one reads, so a write that
// blocks on flow control never delays the reading of answers.
void Authorize(const std::string& api_key, grpc::ClientContext* context) {
  if (!api_key.empty()) context->AddMetadata("authorization", "Bearer " + api_key);
}

void RunStream(v1::Check::Stub& stub, const std::vector<Batch>& pool,
               const std::vector<uint64_t>& batches, int inflight, const std::string& api_key,
               Partial* out) {
  grpc::ClientContext context;
  Authorize(api_key, &context);
  auto stream = stub.CheckStream(&context);
  absl::Mutex mu;
  std::deque<std::pair<uint64_t, Clock::time_point>> sent;  // guarded by mu
  std::thread reader([&] {
    v1::CheckResponse response;
    for (size_t n = 0; n < batches.size(); ++n) {
      if (!stream->Read(&response)) return;
      std::pair<uint64_t, Clock::time_point> front;
      {
        absl::MutexLock lock(&mu);
        front = sent.front();
        sent.pop_front();
      }
      const Batch& b = pool[front.first % pool.size()];
      out->Count(b, response, NanosSince(front.second));
      if (response.tag() != b.request.tag() && out->status.ok()) {
        out->status = absl::InternalError("answers came back out of order");
      }
    }
  });
  const auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return sent.size() < static_cast<size_t>(inflight);
  };
  for (uint64_t b : batches) {
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(&room));
      sent.emplace_back(b, Clock::now());
    }
    if (!stream->Write(pool[b % pool.size()].request)) break;
  }
  stream->WritesDone();
  reader.join();
  grpc::Status status = stream->Finish();
  if (!status.ok()) {
    out->status = FromGrpc(status);
  } else if (out->calls != batches.size() && out->status.ok()) {
    out->status = absl::InternalError(
        absl::StrCat("stream ended after ", out->calls, " of ", batches.size(), " answers"));
  }
}

void RunUnary(v1::Check::Stub& stub, const std::vector<Batch>& pool, std::atomic<uint64_t>* next,
              uint64_t total, const std::string& api_key, Partial* out) {
  v1::CheckResponse response;
  for (;;) {
    const uint64_t b = next->fetch_add(1);
    if (b >= total) return;
    const Batch& batch = pool[b % pool.size()];
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    Authorize(api_key, &context);
    const Clock::time_point start = Clock::now();
    grpc::Status s = stub.Check(&context, batch.request, &response);
    const int64_t nanos = NanosSince(start);
    if (!s.ok()) {
      out->status = FromGrpc(s);
      next->store(total);  // stop every thread
      return;
    }
    out->Count(batch, response, nanos);
  }
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const client::TlsOptions& tls, int index) {
  grpc::ChannelArguments args;
  args.SetInt("optout.bench.channel", index);  // distinct args: no shared subchannel
  return client::CreateChannel(target, tls, 256 << 20, std::move(args));
}

LoadTotals RunCheckLoad(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                        const std::vector<Batch>& pool, uint64_t total_batches,
                        const CheckLoadOptions& options) {
  const size_t groups = channels.size();
  const int inflight = std::max(1, options.inflight);
  std::vector<std::unique_ptr<v1::Check::Stub>> stubs;
  for (const auto& c : channels) stubs.push_back(v1::Check::NewStub(c));

  std::vector<Partial> partials(options.unary ? groups * inflight : groups);
  std::vector<std::thread> threads;
  std::atomic<uint64_t> next{0};
  const Clock::time_point start = Clock::now();
  if (options.unary) {
    for (size_t t = 0; t < partials.size(); ++t) {
      threads.emplace_back([&, t] { RunUnary(*stubs[t % groups], pool, &next, total_batches, options.api_key,
                 &partials[t]); });
    }
  } else {
    std::vector<std::vector<uint64_t>> assigned(groups);
    for (uint64_t b = 0; b < total_batches; ++b) assigned[b % groups].push_back(b);
    for (size_t g = 0; g < groups; ++g) {
      threads.emplace_back([&, g, batches = std::move(assigned[g])] {
        RunStream(*stubs[g], pool, batches, inflight, options.api_key, &partials[g]);
      });
    }
  }
  for (auto& t : threads) t.join();

  LoadTotals totals;
  totals.seconds = NanosSince(start) / 1e9;
  for (Partial& p : partials) {
    totals.calls += p.calls;
    totals.items += p.items;
    totals.units += p.units;
    totals.matched += p.matched;
    totals.expected_matches += p.expected;
    totals.latency.Merge(p.latency);
    if (totals.status.ok() && !p.status.ok()) totals.status = p.status;
  }
  return totals;
}

}  // namespace optout::load
