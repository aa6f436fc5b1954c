#include "service/scope_upkeep.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/log.h"

namespace optout::service {

ScopeUpkeep::ScopeUpkeep(Registry* registry, absl::Duration interval)
    : registry_(registry), interval_(interval), thread_([this] { Run(); }) {}

ScopeUpkeep::~ScopeUpkeep() {
  stop_.Notify();
  thread_.join();
}

absl::Duration ScopeUpkeep::IntervalFor(const RegistryOptions& options) {
  const int64_t shorter = std::min(options.pending_scope_seconds, options.scope_recheck_seconds);
  return std::clamp(absl::Seconds(shorter) / 10, absl::Milliseconds(200), absl::Hours(1));
}

void ScopeUpkeep::Run() {
  do {
    absl::StatusOr<Registry::ScopeMaintenance> done = registry_->MaintainScopes(absl::Now());
    if (!done.ok()) {
      Log(LogLevel::kError, absl::StrCat("scope maintenance: ", done.status().ToString()));
    } else if (done->expired + done->rechecked + done->lapsed > 0) {
      Log(LogLevel::kInfo, absl::StrCat("scopes: ", done->expired, " pending expired, ",
                                        done->rechecked, " re-checked, ", done->lapsed, " lapsed"));
    }
  } while (!stop_.WaitForNotificationWithTimeout(interval_));
}

}  // namespace optout::service
