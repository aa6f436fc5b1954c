// optout-fill-store: fills a data folder with N opt-outs of optout-bench's
// workload (URL + PDQ hash each, same seed and request ids as
// `optout-bench --populate`) through the service core directly, for
// measuring optoutd's start-up reload at millions of opt-outs (issue 9,
// finding 6). Populating through gRPC runs at ~3.8k registrations/s (each a
// synced write); this writes the same records unsynced from several threads
// and compacts once at the end. Bench only: never point it at live data.
//
//   optout-fill-store --data_dir D --secret_file S --count N [--seed 1] [--threads 2]
//
// Then: optoutd --data_dir D --secret_file S ... logs "loaded N opt-outs in T".
#include <openssl/rand.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/common/url/url.h"
#include "service/keyring.h"
#include "service/opt_out_codec.h"
#include "service/registry_secret.h"
#include "storage/opt_out_store.h"
#include "tests/load/workload.h"

namespace {

using namespace optout;  // NOLINT: a small tool

absl::Status FillOne(const service::Keyring& keyring, const url::PublicSuffixList& psl,
                     const load::Workload& workload, storage::OptOutStore& store, uint64_t i) {
  const v1::RegisterRequest request = workload.Registration(i, "", /*with_pdq=*/true);
  auto content = service::SaltableContent(request, psl);
  if (!content.ok()) return content.status();
  const std::string fingerprint = service::Fingerprint(keyring, *content);
  const std::string request_key = service::RequestKey(keyring, request.request_id());
  std::string id(16, '\0'), token(32, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(id.data()), 16);
  RAND_bytes(reinterpret_cast<unsigned char*>(token.data()), 32);
  content->set_manage_token(token);
  content->set_request_id(request.request_id());  // as Registry::Register seals it
  auto record = service::BuildRecord(keyring, id, *content, request_key, fingerprint,
                                     absl::ToUnixSeconds(absl::Now()));
  if (!record.ok()) return record.status();
  return store.Insert(id, record->SerializeAsString(), request_key);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"optout-fill-store: fill a data folder with N bench opt-outs (bench only)"};
  std::string data_dir, secret_file;
  uint64_t count = 0, seed = 1;
  int threads = 2;
  app.add_option("--data_dir", data_dir, "data folder to create or extend")->required();
  app.add_option("--secret_file", secret_file, "registry secret (created if missing)")->required();
  app.add_option("--count", count, "opt-outs to write")->required();
  app.add_option("--seed", seed, "workload seed (as optout-bench --seed)");
  app.add_option("--threads", threads, "writer threads");
  CLI11_PARSE(app, argc, argv);

  auto secret = service::LoadOrCreateRegistrySecret(secret_file);
  auto psl = url::PublicSuffixList::Load();
  if (!secret.ok() || !psl.ok()) {
    std::fprintf(stderr, "optout-fill-store: %s %s\n", secret.status().ToString().c_str(),
                 psl.status().ToString().c_str());
    return 1;
  }
  auto keyring = service::Keyring::Derive(*secret);
  storage::StoreOptions store_options;
  store_options.sync_writes = false;  // one compaction at the end makes it durable enough
  auto store = storage::OptOutStore::Open(data_dir, store_options);
  if (!keyring.ok() || !store.ok()) {
    std::fprintf(stderr, "optout-fill-store: cannot open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  load::WorkloadOptions workload_options;
  workload_options.seed = seed;
  const load::Workload workload(workload_options);

  const absl::Time start = absl::Now();
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&] {
      for (uint64_t i; !failed && (i = next.fetch_add(1)) < count;) {
        absl::Status s = FillOne(*keyring, **psl, workload, **store, i);
        if (!s.ok()) {
          std::fprintf(stderr, "optout-fill-store: opt-out %lu: %s\n", static_cast<unsigned long>(i),
                       s.ToString().c_str());
          failed = true;
        }
        if (i % 1000000 == 999999) {
          std::fprintf(stderr, "  %lu written, %.0f s\n", static_cast<unsigned long>(i + 1),
                       absl::ToDoubleSeconds(absl::Now() - start));
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  if (failed) return 1;
  const absl::Status compacted = (*store)->FlushAndCompact();
  if (!compacted.ok()) {
    std::fprintf(stderr, "optout-fill-store: %s\n", compacted.ToString().c_str());
    return 1;
  }
  std::printf("wrote %lu opt-outs in %.1f s (with the final compaction)\n",
              static_cast<unsigned long>(count), absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}
