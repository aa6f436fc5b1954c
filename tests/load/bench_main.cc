// optout-bench: load generator for a running optoutd.
//
//   optout-bench --server HOST:PORT --mode digests|urls|pdq|register
//                [--items N] [--batch B] [--inflight K] [--streams S]
//                [--populate N] [--seed S] [--match-fraction F] [--json]
//                [--tls] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE] ...
//
// Prints items/s and p50/p99 latency of the calls (per batch for checks,
// per call for registrations); with --json one object
// {"items_per_s": …, "p50_us": …, "p99_us": …, …}. --populate N first
// registers opt-outs 0..N-1 of the seed (URL + PDQ hash each; idempotent, so
// it can be re-run or resumed), after which a share --match-fraction of the
// check items is known to match and the run verifies that exactly those do.
// All client-side work (canonicalization, digests) is done before timing.
// Exit status: 0 ok, 1 usage or server error, 3 verification failed.
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "optout/v1/optout.grpc.pb.h"
#include "tests/load/batch_builder.h"
#include "tests/load/check_load.h"
#include "tests/load/register_load.h"

namespace optout::load {
namespace {

struct Flags {
  std::string server;
  std::string mode;
  uint64_t items = 0;
  int batch = 1000;
  int inflight = 4;
  int streams = 1;
  std::string rpc = "stream";
  std::string api_key;
  bool json = false;
  uint64_t populate = 0;
  uint64_t stored = 0;
  bool stored_set = false;
  uint64_t seed = 1;
  double match_fraction = 0.1;
  int concurrency = 64;
  bool exact_only = false;
  bool dihedral = false;
  int pdq_flip_bits = 8;
  bool no_pdq = false;
  int warmup = -1;
  int pool_mb = 512;
  std::string psl_file = url::PublicSuffixList::kDefaultPath;
  client::TlsFiles tls_files;
  client::TlsOptions tls;
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "optout-bench: %s\n", what.c_str());
  return 1;
}

absl::StatusOr<v1::GetInfoResponse> GetInfo(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Check::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.set_wait_for_ready(true);
  v1::GetInfoRequest request;
  v1::GetInfoResponse response;
  grpc::Status s = stub->GetInfo(&context, request, &response);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return response;
}

size_t BytesPerItem(const Flags& f) {
  if (f.mode == "digests") return f.exact_only ? 40 : 360;
  if (f.mode == "pdq") return f.dihedral ? 300 : 40;
  return 100;
}

void Emit(const Flags& f, const std::string& label, LoadTotals& t, nlohmann::json* json) {
  const LatencySummary l = t.latency.Summarize();
  const double items_per_s = t.seconds > 0 ? t.items / t.seconds : 0;
  const double units_per_s = t.seconds > 0 ? t.units / t.seconds : 0;
  (*json)["items_per_s"] = std::round(items_per_s);
  (*json)["p50_us"] = std::round(l.p50_us * 10) / 10;
  (*json)["p99_us"] = std::round(l.p99_us * 10) / 10;
  (*json)["p90_us"] = std::round(l.p90_us * 10) / 10;
  (*json)["p999_us"] = std::round(l.p999_us * 10) / 10;
  (*json)["max_us"] = std::round(l.max_us * 10) / 10;
  (*json)["mean_us"] = std::round(l.mean_us * 10) / 10;
  (*json)["items"] = t.items;
  (*json)["calls"] = t.calls;
  (*json)["seconds"] = t.seconds;
  if (f.mode == "register") return;
  (*json)["units"] = t.units;
  (*json)["units_per_s"] = std::round(units_per_s);
  (*json)["matched"] = t.matched;
  (*json)["expected_matches"] = t.expected_matches;
  if (f.json) return;
  std::printf("%s: %llu items in %.3f s = %.0f items/s", label.c_str(),
              static_cast<unsigned long long>(t.items), t.seconds, items_per_s);
  if (f.mode != "urls") {
    std::printf(" (%s %.0f/s)", f.mode == "pdq" ? "codes" : "digests", units_per_s);
  }
  std::printf("\n  latency per call (%llu calls): p50 %.1f us, p90 %.1f us, p99 %.1f us, "
              "p99.9 %.1f us, max %.1f us\n  matched %llu (expected %llu)\n",
              static_cast<unsigned long long>(t.calls), l.p50_us, l.p90_us, l.p99_us, l.p999_us,
              l.max_us, static_cast<unsigned long long>(t.matched),
              static_cast<unsigned long long>(t.expected_matches));
}

int Run(const Flags& f) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int s = 0; s < std::max(1, f.streams); ++s) channels.push_back(MakeChannel(f.server, f.tls, s));
  auto info = GetInfo(channels[0]);
  if (!info.ok()) {
    return Fail(absl::StrCat("cannot reach ", f.server, ": ",
                             client::ExplainTransportError(info.status(), f.tls).ToString()));
  }

  WorkloadOptions wo;
  wo.seed = f.seed;
  wo.stored = f.stored_set ? f.stored : f.populate;
  wo.match_fraction = f.match_fraction;
  wo.pdq_flip_bits = f.pdq_flip_bits;
  if (wo.pdq_flip_bits > info->pdq_threshold()) {
    std::fprintf(stderr, "optout-bench: warning: --pdq-flip-bits %d > server pdq_threshold %d\n",
                 wo.pdq_flip_bits, info->pdq_threshold());
  }
  const Workload workload(wo);
  nlohmann::json json;
  json["mode"] = f.mode;
  json["seed"] = f.seed;
  json["stored"] = wo.stored;

  if (f.populate > 0) {
    RegisterLoadOptions ro;
    ro.count = f.populate;
    ro.with_pdq = !f.no_pdq;
    ro.concurrency = f.concurrency;
    ro.progress_label = "populate";
    LoadTotals t = RunRegisterLoad(channels, workload, ro);
    if (!t.status.ok()) return Fail(absl::StrCat("populate: ", t.status.ToString()));
    json["populated"] = t.calls;
    json["populate_per_s"] = std::round(t.calls / t.seconds);
    if (!f.json) std::printf("populated %llu opt-outs in %.1f s (%.0f/s)\n",
                             static_cast<unsigned long long>(t.calls), t.seconds, t.calls / t.seconds);
  }
  if (f.mode.empty()) {
    if (f.json) std::printf("%s\n", json.dump().c_str());
    return 0;
  }

  if (f.mode == "register") {
    RegisterLoadOptions ro;
    ro.count = f.items > 0 ? f.items : 10000;
    ro.run = absl::StrFormat("r%016x", std::random_device{}() * 0x100000001ULL ^ time(nullptr));
    ro.with_pdq = !f.no_pdq;
    ro.concurrency = f.concurrency;
    ro.first = 0;
    json["concurrency"] = f.concurrency;
    LoadTotals t = RunRegisterLoad(channels, workload, ro);
    if (!t.status.ok()) return Fail(absl::StrCat("register: ", t.status.ToString()));
    Emit(f, "register", t, &json);
    if (f.json) {
      std::printf("%s\n", json.dump().c_str());
    } else {
      const LatencySummary l = t.latency.Summarize();
      std::printf("register (%d concurrent): %llu opt-outs in %.3f s = %.0f/s\n"
                  "  latency per call: p50 %.1f us, p99 %.1f us, max %.1f us\n",
                  f.concurrency, static_cast<unsigned long long>(t.calls), t.seconds,
                  t.calls / t.seconds, l.p50_us, l.p99_us, l.max_us);
    }
    return 0;
  }

  BatchOptions bo;
  bo.mode = f.mode == "digests" ? CheckMode::kDigests
            : f.mode == "urls"  ? CheckMode::kUrls
                                : CheckMode::kPdq;
  bo.exact_only = f.exact_only;
  bo.dihedral = f.dihedral;
  if (f.batch > info->max_batch_items()) {
    return Fail(absl::StrCat("--batch ", f.batch, " exceeds the server's max_batch_items ",
                             info->max_batch_items()));
  }
  std::unique_ptr<url::PublicSuffixList> psl;
  if (bo.mode == CheckMode::kDigests) {
    auto loaded = url::PublicSuffixList::Load(f.psl_file);
    if (!loaded.ok()) return Fail(loaded.status().ToString());
    psl = std::move(*loaded);
    if (psl->version() != info->psl_version()) {
      std::fprintf(stderr, "optout-bench: warning: local PSL %s, server PSL %s\n",
                   psl->version().c_str(), info->psl_version().c_str());
    }
  }
  const uint64_t items = f.items > 0 ? f.items : 100000;
  const uint64_t total_batches = (items + f.batch - 1) / f.batch;
  const uint64_t pool_cap =
      std::max<uint64_t>(1, (static_cast<uint64_t>(f.pool_mb) << 20) / BytesPerItem(f) / f.batch);
  const uint64_t pool_size = std::min(total_batches, pool_cap);
  std::vector<Batch> pool;
  pool.reserve(pool_size);
  for (uint64_t b = 0; b < pool_size; ++b) {
    const uint64_t first = b * f.batch;
    // A cycled pool repeats whole batches, so every batch is full then.
    const uint32_t count = pool_size < total_batches
                               ? f.batch
                               : static_cast<uint32_t>(std::min<uint64_t>(f.batch, items - first));
    auto batch = BuildBatch(workload, bo, psl.get(), first, count);
    if (!batch.ok()) return Fail(batch.status().ToString());
    pool.push_back(std::move(*batch));
  }

  CheckLoadOptions co;
  co.inflight = f.inflight;
  co.unary = f.rpc == "unary";
  co.api_key = f.api_key;
  const uint64_t warmup = f.warmup >= 0 ? f.warmup
                                        : std::min<uint64_t>(200, std::max<uint64_t>(1, total_batches / 20));
  if (warmup > 0) {
    LoadTotals w = RunCheckLoad(channels, pool, warmup, co);
    if (!w.status.ok()) return Fail(absl::StrCat("warm-up: ", w.status.ToString()));
  }
  LoadTotals t = RunCheckLoad(channels, pool, total_batches, co);
  if (!t.status.ok()) return Fail(absl::StrCat(f.mode, ": ", t.status.ToString()));
  json["batch"] = f.batch;
  json["inflight"] = f.inflight;
  json["streams"] = f.streams;
  json["rpc"] = f.rpc;
  Emit(f, f.mode, t, &json);
  if (f.json) std::printf("%s\n", json.dump().c_str());
  if (t.matched != t.expected_matches) {
    std::fprintf(stderr,
                 "optout-bench: %llu items matched but the workload expects %llu; was the "
                 "registry populated with --seed %llu and at least --stored %llu opt-outs?\n",
                 static_cast<unsigned long long>(t.matched),
                 static_cast<unsigned long long>(t.expected_matches),
                 static_cast<unsigned long long>(f.seed),
                 static_cast<unsigned long long>(wo.stored));
    return 3;
  }
  return 0;
}

}  // namespace
}  // namespace optout::load

int main(int argc, char** argv) {
  optout::load::Flags f;
  const char* env = std::getenv("OPTOUT_SERVER");
  f.server = env != nullptr ? env : "127.0.0.1:50051";
  if (const char* ca = std::getenv("OPTOUT_TLS_CA"); ca != nullptr) f.tls_files.ca_file = ca;
  CLI::App app{"optout-bench: drives a running optoutd and reports items/s and latency"};
  app.add_option("--server", f.server, "HOST:PORT of optoutd (default $OPTOUT_SERVER, else 127.0.0.1:50051)");
  app.add_option("--mode", f.mode, "digests (packed URL expression digests), urls (raw URLs), "
                 "pdq (packed PDQ hashes) or register (durable registrations); omit to only --populate")
      ->check(CLI::IsMember({"digests", "urls", "pdq", "register"}));
  app.add_option("--items", f.items, "items to check / opt-outs to register (default 100000 / 10000)");
  app.add_option("--batch", f.batch, "items per Check batch (default 1000)")->check(CLI::Range(1, 1 << 24));
  app.add_option("--inflight", f.inflight, "batches in flight per stream, or unary threads per stream (default 4)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--streams", f.streams, "parallel CheckStreams / connections (default 1)")->check(CLI::Range(1, 256));
  app.add_option("--api-key", f.api_key, "check with this API key (authorization: Bearer KEY)")
      ->envname("OPTOUT_API_KEY");
  app.add_option("--rpc", f.rpc, "stream (CheckStream) or unary (Check) (default stream)")
      ->check(CLI::IsMember({"stream", "unary"}));
  app.add_flag("--json", f.json, "print one JSON object");
  app.add_option("--populate", f.populate, "first register opt-outs 0..N-1 of --seed (idempotent)");
  auto* stored = app.add_option("--stored", f.stored, "opt-outs 0..N-1 of --seed already in the registry (default: --populate)");
  app.add_option("--seed", f.seed, "workload seed (default 1)");
  app.add_option("--match-fraction", f.match_fraction, "share of check items that hit a stored opt-out (default 0.1)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--concurrency", f.concurrency, "concurrent Register calls for register mode and --populate (default 64)")
      ->check(CLI::Range(1, 4096));
  app.add_flag("--exact-only", f.exact_only, "digests: send only each URL's exact-expression digest");
  app.add_flag("--dihedral", f.dihedral, "pdq: send the 8 dihedral variants with every hash");
  app.add_option("--pdq-flip-bits", f.pdq_flip_bits, "pdq: bits a hit differs from its stored hash (default 8)")
      ->check(CLI::Range(0, 63));
  app.add_flag("--no-pdq", f.no_pdq, "register URLs only (no PDQ hash) in register mode and --populate");
  app.add_option("--warmup", f.warmup, "untimed batches sent first (default: 5% of the batches, 1..200)");
  app.add_option("--pool-mb", f.pool_mb, "memory for prepared batches; longer runs cycle them (default 512)")
      ->check(CLI::Range(1, 1 << 16));
  app.add_option("--psl_file", f.psl_file, "Public Suffix List for digests mode (must match the server's)");
  app.add_flag("--tls", f.tls_files.tls, "connect with TLS, trusting the system's CA certificates");
  app.add_option("--tls-ca", f.tls_files.ca_file, "connect with TLS, trusting this PEM CA bundle (env OPTOUT_TLS_CA)");
  app.add_option("--tls-cert", f.tls_files.cert_file, "PEM client certificate (mutual TLS; implies TLS)");
  app.add_option("--tls-key", f.tls_files.key_file, "PEM private key of --tls-cert");
  CLI11_PARSE(app, argc, argv);
  auto tls = optout::client::LoadTlsOptions(f.tls_files);
  if (!tls.ok()) return optout::load::Fail(std::string(tls.status().message()));
  f.tls = *std::move(tls);
  // Debian's Abseil keeps lock-order checking on (no NDEBUG); gRPC's mutexes
  // are absl::Mutex, so this would tax every call the tool measures.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  f.stored_set = stored->count() > 0;
  if (f.mode.empty() && f.populate == 0) {
    std::fprintf(stderr, "optout-bench: give --mode and/or --populate (see --help)\n");
    return 1;
  }
  return optout::load::Run(f);
}
