#include "service/server_metrics.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/common/base/version.h"
#include "client/common/protocol/match_kind.h"

namespace optout::service {
namespace {

using metrics::MetricType;
using metrics::Sample;

// The key kinds a MatchIndex holds entries of, strongest first.
constexpr v1::MatchKind kIndexedKinds[] = {v1::MATCH_KIND_URL, v1::MATCH_KIND_URL_ANY_QUERY,
                                           v1::MATCH_KIND_SCOPE, v1::MATCH_KIND_PDQ,
                                           v1::MATCH_KIND_SHA256, v1::MATCH_KIND_MD5};

void AddGauge(metrics::MetricRegistry* registry, const char* name, const char* help,
              std::function<double()> read) {
  registry->AddCallbackFamily({name, help, {}}, MetricType::kGauge,
                              [read = std::move(read)](std::vector<Sample>* out) {
                                out->push_back({{}, read()});
                              });
}

}  // namespace

const char* BuildVersion() { return kVersion; }

void AddServerMetrics(const ServerMetricSources& s, metrics::MetricRegistry* registry) {
  registry->AddCallbackFamily(
      {"optout_build_info", "Always 1; the labels say which optoutd runs.", {"version"}},
      MetricType::kGauge, [](std::vector<Sample>* out) { out->push_back({{BuildVersion()}, 1}); });

  const Registry* r = s.registry;
  registry->AddCallbackFamily(
      {"optout_checked_items_total",
       "Items answered by Check and CheckStream, by kind as sent (url, url_digests, pdq, "
       "sha256, md5; typed or packed).",
       {"kind"}},
      MetricType::kCounter, [r](std::vector<Sample>* out) {
        for (int k = 0; k < kCheckedItemKindCount; ++k) {
          const auto kind = static_cast<CheckedItemKind>(k);
          out->push_back({{CheckedItemKindName(kind)},
                          static_cast<double>(r->check_counters().items(kind))});
        }
      });
  registry->AddCallbackFamily(
      {"optout_matches_total",
       "Checked items that matched an opt-out, by the strongest kind matched.",
       {"kind"}},
      MetricType::kCounter, [r](std::vector<Sample>* out) {
        for (int k = 1; k < protocol::kMatchKindCount; ++k) {
          const auto kind = static_cast<v1::MatchKind>(k);
          out->push_back({{protocol::MatchKindName(kind)},
                          static_cast<double>(r->check_counters().matches(kind))});
        }
      });
  registry->AddCallbackFamily(
      {"optout_limit_rejections_total",
       "Calls refused with RESOURCE_EXHAUSTED by a limit, named by its flag (api_key_budget: "
       "a per-key budget of optout-admin keys; pdq_probe_limit: PDQ checks of a key or peer "
       "found probing for stored hashes).",
       {"limit"}},
      MetricType::kCounter, [s](std::vector<Sample>* out) {
        out->push_back({{"register_rate_per_peer"}, static_cast<double>(s.register_rate->refused())});
        out->push_back({{"revoke_catch_up_rate_per_peer"},
                        static_cast<double>(s.revoke_catch_up_rate->refused())});
        out->push_back({{"min_free_disk_mb"}, static_cast<double>(s.disk_floor->refused())});
        out->push_back({{"max_queued_checks"}, static_cast<double>(s.check_workers->refused())});
        out->push_back({{"anonymous_items_per_minute"},
                        static_cast<double>(s.check_access->anonymous_refused())});
        out->push_back({{"api_key_budget"},
                        static_cast<double>(s.check_access->key_budget_refused())});
        out->push_back({{"pdq_probe_limit"},
                        static_cast<double>(s.check_access->probing_refused())});
      });

  registry->AddCallbackFamily(
      {"optout_revoke_catch_up_queries_total",
       absl::StrCat("Cluster mode: queries of the stream's last sequence (stream info, to its "
                    "leader) made for revokes of opt-outs this node did not hold (or with a "
                    "min_version it had not applied) and for checks waiting for a min_version; "
                    "calls waiting at once share one, at most one per ",
                    absl::FormatDuration(Registry::kCatchUpQueryInterval), "."),
       {}},
      MetricType::kCounter, [r](std::vector<Sample>* out) {
        out->push_back({{}, static_cast<double>(r->catch_up_queries())});
      });
  registry->AddCallbackFamily(
      {"optout_revoke_catch_ups_total",
       "Cluster mode: revokes and checks that made or shared a query of the stream's last "
       "sequence.",
       {}},
      MetricType::kCounter, [r](std::vector<Sample>* out) {
        out->push_back({{}, static_cast<double>(r->catch_ups())});
      });
  AddGauge(registry, "optout_opt_outs", "Opt-outs stored and served (revoked ones excluded).",
           [r] { return static_cast<double>(r->opt_out_count()); });
  registry->AddCallbackFamily(
      {"optout_index_entries",
       "Entries of the in-memory match index by kind: keyed URLs, scopes and file digests; "
       "PDQ hashes (with registered variants).",
       {"kind"}},
      MetricType::kGauge, [r](std::vector<Sample>* out) {
        for (v1::MatchKind kind : kIndexedKinds) {
          out->push_back({{protocol::MatchKindName(kind)},
                          static_cast<double>(r->index().entries(kind))});
        }
      });
  if (const KeyRotation* rotation = s.key_rotation; rotation != nullptr) {
    AddGauge(registry, "optout_key_version",
             "Key version new opt-outs are written under (optout-admin rotate-keys).",
             [rotation] { return static_cast<double>(rotation->Status().to_version); });
    AddGauge(registry, "optout_key_rotation_running",
             "1 while a key rotation re-keys stored opt-outs, else 0.", [rotation] {
               return rotation->Status().state == RotationProgress::State::kRunning ? 1.0 : 0.0;
             });
    AddGauge(registry, "optout_key_rotation_rekeyed_records",
             "Opt-outs re-keyed by the current (or last) key rotation.",
             [rotation] { return static_cast<double>(rotation->Status().rekeyed); });
  }
  AddGauge(registry, "optout_index_memory_bytes",
           "Approximate heap bytes of the in-memory match index.",
           [r] { return static_cast<double>(r->index().MemoryBytes()); });

  const storage::OptOutStore* store = s.store;
  AddGauge(registry, "optout_rocksdb_live_data_size_bytes",
           "RocksDB's estimate of live data (rocksdb.estimate-live-data-size).",
           [store] { return static_cast<double>(store->Stats().live_data_bytes); });
  AddGauge(registry, "optout_rocksdb_pending_compaction_bytes",
           "Bytes RocksDB estimates compaction must rewrite "
           "(rocksdb.estimate-pending-compaction-bytes).",
           [store] { return static_cast<double>(store->Stats().pending_compaction_bytes); });
  AddGauge(registry, "optout_rocksdb_sst_files_size_bytes",
           "Bytes of all RocksDB SST files (rocksdb.total-sst-files-size).",
           [store] { return static_cast<double>(store->Stats().sst_files_bytes); });

  const CheckWorkers* workers = s.check_workers;
  AddGauge(registry, "optout_check_queue_depth", "Checks waiting for a check worker.",
           [workers] { return static_cast<double>(workers->queued()); });
  AddGauge(registry, "optout_check_queue_limit",
           "Checks that may wait for a worker before more are refused (--max_queued_checks).",
           [workers] { return static_cast<double>(workers->max_queued()); });
  const ThreadPool* writes = s.write_pool;
  AddGauge(registry, "optout_write_queue_depth",
           "Register, Get and Revoke calls waiting for a write thread.",
           [writes] { return static_cast<double>(writes->queued()); });

  const DiskFloor* disk = s.disk_floor;
  AddGauge(registry, "optout_data_disk_free_bytes",
           "Free bytes (for unprivileged users) on the file system of the data folder.",
           [disk] { return static_cast<double>(disk->FreeBytes()); });
  AddGauge(registry, "optout_data_disk_floor_bytes",
           "Below this free space Register is refused (--min_free_disk_mb; 0: no floor).",
           [disk] { return static_cast<double>(disk->floor_bytes()); });
}

}  // namespace optout::service
