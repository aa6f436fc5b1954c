#include "service/rpc_metrics.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace optout::service {
namespace {

const char* CodeName(int code) {
  static constexpr std::array<const char*, MethodMetrics::kCodes> kNames = {
      "OK",        "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  return kNames[code];
}

// Handling-time buckets, microseconds: 50 us (a single-item check) to 60 s
// (a long CheckStream).
std::vector<int64_t> LatencyBoundsMicros() {
  return {50,     100,    250,     500,     1000,    2500,     5000,     10000,    25000,
          50000,  100000, 250000,  500000,  1000000, 2500000,  5000000,  10000000, 30000000,
          60000000};
}

}  // namespace

void MethodMetrics::Record(grpc::StatusCode code,
                           std::chrono::steady_clock::duration elapsed) const {
  int c = static_cast<int>(code);
  if (c < 0 || c >= kCodes) c = grpc::StatusCode::UNKNOWN;
  handled_[c]->Increment();
  seconds_[c]->Observe(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
}

RpcMetrics::RpcMetrics(metrics::MetricRegistry* registry,
                       const std::vector<std::string>& services) {
  auto& handled = registry->AddCounterFamily(
      {"grpc_server_handled_total",
       "gRPC calls finished by the server, by service, method and status code.",
       {"grpc_service", "grpc_method", "grpc_code"},
       /*hide_zero=*/true});
  auto& seconds = registry->AddHistogramFamily(
      {"grpc_server_handling_seconds",
       "Time from a call's handler start to its status, by service, method and status code.",
       {"grpc_service", "grpc_method", "grpc_code"},
       /*hide_zero=*/true},
      LatencyBoundsMicros(), 1e6);
  for (const std::string& service : services) {
    const google::protobuf::ServiceDescriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    if (descriptor == nullptr) continue;
    for (int m = 0; m < descriptor->method_count(); ++m) {
      const std::string& method = descriptor->method(m)->name();
      auto entry = std::make_unique<MethodMetrics>();
      for (int code = 0; code < MethodMetrics::kCodes; ++code) {
        entry->handled_[code] = &handled.Get({service, method, CodeName(code)});
        entry->seconds_[code] = &seconds.Get({service, method, CodeName(code)});
      }
      by_path_[absl::StrCat(service, "/", method)] = std::move(entry);
    }
  }
}

const MethodMetrics* RpcMetrics::Find(absl::string_view service, absl::string_view method) const {
  auto it = by_path_.find(absl::StrCat(service, "/", method));
  return it != by_path_.end() ? it->second.get() : nullptr;
}

}  // namespace optout::service
