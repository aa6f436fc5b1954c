// File: service/server_metrics.h
//
// The metric families that describe optoutd's state rather than single
// calls: what was checked and matched, which limits refused work, what is
// stored and indexed, RocksDB's sizes, queue depths, free disk and the
// build. They are read from the objects that own the numbers at each scrape
// (no copy to keep in sync); per-call counts are in rpc_metrics.h.
//
// gRPC-free. Every pointer in ServerMetricSources must outlive `registry`'s
// last scrape.
#ifndef OPTOUT_SERVICE_SERVER_METRICS_H_
#define OPTOUT_SERVICE_SERVER_METRICS_H_

#include "client/common/base/thread_pool.h"
#include "service/check_access.h"
#include "service/check_workers.h"
#include "service/disk_floor.h"
#include "service/metrics/metric_registry.h"
#include "service/peer_rate_limiter.h"
#include "service/key_rotation.h"
#include "service/registry.h"
#include "storage/opt_out_store.h"

namespace optout::service {

struct ServerMetricSources {
  const Registry* registry = nullptr;
  const storage::OptOutStore* store = nullptr;
  const CheckWorkers* check_workers = nullptr;
  const ThreadPool* write_pool = nullptr;
  const PeerRateLimiter* register_rate = nullptr;
  const PeerRateLimiter* revoke_catch_up_rate = nullptr;
  const DiskFloor* disk_floor = nullptr;
  const CheckAccess* check_access = nullptr;
  const KeyRotation* key_rotation = nullptr;  // null: no key rotation gauges
};

// The version optoutd reports in optout_build_info.
const char* BuildVersion();

void AddServerMetrics(const ServerMetricSources& sources, metrics::MetricRegistry* registry);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_SERVER_METRICS_H_
