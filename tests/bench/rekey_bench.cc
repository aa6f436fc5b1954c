// rekey_bench: the re-key rate of a key rotation (issue 16) on a real store,
// against two baselines over the same store in the same run: a plain scan
// (read and parse every record) and a start-up reload (Registry::Open: scan,
// open, build the index). Each run rotates the store to its next key
// version, synced as optoutd does, so run it on a copy made for benchmarks.
//
//   optout-fill-store --data_dir D --secret_file S --count 1000000
//   rekey_bench --data_dir D --secret_file S [--batch 2000]
#include <sys/resource.h>

#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/clock.h"
#include "client/common/url/url.h"
#include "optout/internal/record.pb.h"
#include "service/key_rotation.h"
#include "service/registry.h"
#include "service/registry_secret.h"
#include "storage/opt_out_store.h"

namespace {

using namespace optout;  // NOLINT: a small tool

// CPU seconds of the whole process so far (every thread): the machine the
// figures come from is shared, so wall time alone says little.
double CpuSeconds() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "rekey_bench: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rekey_bench: key rotation re-key rate vs scan and reload of the same store"};
  std::string data_dir, secret_file;
  size_t batch = 2000;
  app.add_option("--data_dir", data_dir, "store made by optout-fill-store (it is rotated)")
      ->required();
  app.add_option("--secret_file", secret_file, "its registry secret")->required();
  app.add_option("--batch", batch, "records per synced batch (optoutd --key_rotation_batch)");
  CLI11_PARSE(app, argc, argv);

  auto psl = url::PublicSuffixList::Load();
  auto secret = service::ReadRegistrySecret(secret_file);
  if (!psl.ok()) return Fail(psl.status());
  if (!secret.ok()) return Fail(secret.status());
  auto store = storage::OptOutStore::Open(data_dir, storage::StoreOptions());
  if (!store.ok()) return Fail(store.status());

  // Baseline 1: read and parse every record, nothing else.
  absl::Time start = absl::Now();
  double cpu = CpuSeconds();
  size_t scanned = 0;
  internal::OptOutRecord record;
  absl::Status s = (*store)->ForEachRecord([&](absl::string_view, absl::string_view bytes) {
    if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::DataLossError("record does not parse");
    }
    ++scanned;
    return absl::OkStatus();
  });
  if (!s.ok()) return Fail(s);
  const double scan_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double scan_cpu = CpuSeconds() - cpu;

  // Baseline 2: what optoutd does at start.
  auto versions = service::OpenKeyVersions(**store, *secret, secret_file);
  if (!versions.ok()) return Fail(versions.status());
  start = absl::Now();
  cpu = CpuSeconds();
  auto registry = service::Registry::Open(store->get(), versions->keys, psl->get(), {});
  if (!registry.ok()) return Fail(registry.status());
  const double reload_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double reload_cpu = CpuSeconds() - cpu;
  const size_t opt_outs = (*registry)->opt_out_count();

  // The rotation, as optout-admin rotate-keys runs it in optoutd.
  service::KeyRotation::Options options;
  options.batch_records = batch;
  service::KeyRotation rotation(store->get(), registry->get(), *versions, secret_file, options);
  start = absl::Now();
  cpu = CpuSeconds();
  auto started = rotation.Start("", 0);
  if (!started.ok()) return Fail(started.status());
  service::RotationProgress progress = rotation.Status();
  while (progress.state == service::RotationProgress::State::kRunning) {
    absl::SleepFor(absl::Milliseconds(20));
    progress = rotation.Status();
  }
  const double rotate_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double rotate_cpu = CpuSeconds() - cpu;
  if (progress.state != service::RotationProgress::State::kDone) {
    return Fail(absl::InternalError(progress.error));
  }

  const double rekeyed = static_cast<double>(progress.rekeyed);
  std::printf("opt-outs: %zu; key version %u -> %u, batch %zu, synced\n", opt_outs,
              progress.from_version, progress.to_version, batch);
  std::printf("%-26s %8s %12s %8s %14s\n", "", "wall s", "records/s", "CPU s", "records/CPU-s");
  auto row = [](const char* name, double n, double wall, double cpu_s) {
    std::printf("%-26s %8.2f %12.0f %8.2f %14.0f\n", name, wall, n / wall, cpu_s, n / cpu_s);
  };
  row("scan (read + parse)", static_cast<double>(scanned), scan_seconds, scan_cpu);
  row("reload (Registry::Open)", static_cast<double>(opt_outs), reload_seconds, reload_cpu);
  row("rotation (online re-key)", rekeyed, rotate_seconds, rotate_cpu);
  std::printf("rotation vs reload: %.2fx records/s wall, %.2fx records per CPU-second\n",
              (rekeyed / rotate_seconds) / (opt_outs / reload_seconds),
              (rekeyed / rotate_cpu) / (opt_outs / reload_cpu));
  return 0;
}
