#include "client/cli/scope_status.h"

#include <set>

#include "absl/time/time.h"

namespace optout::cli {
namespace {

std::string Day(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

}  // namespace

std::string ScopeStateName(v1::ScopeState state) {
  switch (state) {
    case v1::SCOPE_STATE_PENDING: return "pending";
    case v1::SCOPE_STATE_VERIFIED: return "verified";
    case v1::SCOPE_STATE_LAPSED: return "lapsed";
    case v1::SCOPE_STATE_EXPIRED: return "expired";
    default: return "unknown";
  }
}

nlohmann::ordered_json ChallengeJson(
    const std::string& token, const google::protobuf::RepeatedPtrField<v1::ScopeStatus>& scopes) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (scopes.empty()) return out;
  out["token"] = token;
  out["scopes"] = nlohmann::ordered_json::array();
  for (const v1::ScopeStatus& scope : scopes) {
    nlohmann::ordered_json entry;
    entry["host"] = scope.host();
    entry["https_url"] = scope.https_url();
    if (!scope.dns_name().empty()) entry["dns_name"] = scope.dns_name();
    out["scopes"].push_back(entry);
  }
  return out;
}

nlohmann::ordered_json ScopeStatusesJson(
    const google::protobuf::RepeatedPtrField<v1::ScopeStatus>& scopes) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const v1::ScopeStatus& scope : scopes) {
    nlohmann::ordered_json entry = {{"index", scope.index()},
                                    {"host", scope.host()},
                                    {"state", ScopeStateName(scope.state())}};
    if (scope.pending_until_unix_seconds() > 0) {
      entry["pending_until"] = Day(scope.pending_until_unix_seconds());
    }
    if (scope.verified_unix_seconds() > 0) {
      entry["verified"] = Day(scope.verified_unix_seconds());
      entry["method"] = scope.method();
    }
    if (!scope.reason().empty()) entry["reason"] = scope.reason();
    out.push_back(entry);
  }
  return out;
}

void PrintScopeStatuses(const google::protobuf::RepeatedPtrField<v1::ScopeStatus>& scopes,
                        std::ostream& out) {
  for (const v1::ScopeStatus& scope : scopes) {
    out << "scope " << scope.index() << " " << scope.host() << ": "
        << ScopeStateName(scope.state());
    if (scope.state() == v1::SCOPE_STATE_PENDING && scope.pending_until_unix_seconds() > 0) {
      out << " until " << Day(scope.pending_until_unix_seconds());
    }
    if (scope.verified_unix_seconds() > 0) {
      out << " (" << scope.method() << ", " << Day(scope.verified_unix_seconds()) << ")";
    }
    if (!scope.reason().empty()) out << ": " << scope.reason();
    out << "\n";
  }
}

void PrintChallenge(const std::string& token,
                    const google::protobuf::RepeatedPtrField<v1::ScopeStatus>& scopes,
                    std::ostream& out) {
  if (scopes.empty()) return;
  out << "Scopes match nothing until you prove each host is yours. Publish the token\n"
      << "  " << token << "\n"
      << "either as the whole content of the HTTPS file or as a DNS TXT record:\n";
  std::set<std::string> shown;
  for (const v1::ScopeStatus& scope : scopes) {
    if (!shown.insert(scope.host()).second) continue;
    out << "  " << scope.https_url() << "\n";
    if (!scope.dns_name().empty()) out << "  TXT " << scope.dns_name() << "\n";
  }
  out << "then run `optout verify --receipt FILE` (within 7 days, or as the server's\n"
      << "pending period says; see `optout get`).\n";
}

}  // namespace optout::cli
