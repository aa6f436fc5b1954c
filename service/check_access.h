// File: service/check_access.h
//
// CheckAccess decides whether a check may run and charges its cost
// (issue 10): a call with an API key is charged to that key (ApiKeys); an
// anonymous call to its peer's budget of `anonymous_items_per_minute` items
// (0: anonymous checks are refused). PDQ checks of a key or peer found
// probing for stored hashes are refused for a while (PdqProbeGuard). The
// gRPC layer extracts the bearer key and the peer; everything else is here,
// with an injectable clock.
//
// Thread-safe.
#ifndef OPTOUT_SERVICE_CHECK_ACCESS_H_
#define OPTOUT_SERVICE_CHECK_ACCESS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/api_keys.h"
#include "service/audit_log.h"
#include "service/pdq_probe_guard.h"
#include "service/peer_rate_limiter.h"

namespace optout::service {

// Who is calling, as the gRPC layer saw it.
struct Caller {
  // From `authorization: Bearer KEY`; empty when the call has none.
  std::string bearer;
  // The call had an authorization header of another form (refused, never
  // taken for anonymous).
  bool malformed_authorization = false;
  // As gRPC names it, e.g. "ipv4:10.0.0.1:5555".
  std::string peer;
  // The subject (RFC 2253) of the client certificate the TLS handshake
  // verified (optoutd --tls_client_ca_file); empty when none. Stands for the
  // API key created with that cert_subject when no bearer key is sent.
  std::string cert_subject;
};

// A check that may run: charged to `key` (the bearer key's, or the client
// certificate's), or (nullptr) to `peer`'s
// anonymous budget. What CheckDone needs to count and audit it.
struct CheckAdmission {
  std::shared_ptr<ApiKeys::Key> key;
  std::string peer;
  absl::string_view method;
  KindCounts items;
};

// Items of each kind in `request` (typed and packed).
KindCounts ItemsOf(const v1::CheckRequest& request);
// Matched items of each kind (by the strongest kind of each) in `response`.
KindCounts MatchesOf(const v1::CheckResponse& response);

class CheckAccess final {
 public:
  using Clock = std::function<absl::Time()>;
  // `keys`, `audit` (nullptr: no audit log) and `probes` (nullptr: no
  // probing detection) must outlive this object.
  CheckAccess(ApiKeys* keys, int anonymous_items_per_minute, AuditLog* audit = nullptr,
              Clock clock = absl::Now, PdqProbeGuard* probes = nullptr)
      : keys_(keys),
        anonymous_per_minute_(anonymous_items_per_minute),
        anonymous_(anonymous_items_per_minute, "items checked", "--anonymous_items_per_minute"),
        audit_(audit),
        clock_(std::move(clock)),
        probes_(probes) {}

  // Bytes of an anonymous HTTP check body that cost one item, paid before
  // the body is parsed. Parsing JSON costs ~65 ns a byte here (a 7.7 MB
  // body took 0.5 CPU-s), so without this a refused request would still
  // cost the server its parse, as often as a peer cares to send it. Honest
  // items are far smaller (a URL item ~200 bytes, a PDQ item with its
  // dihedral hashes and regions ~5 KiB), so they pay nothing extra.
  static constexpr size_t kAnonymousBodyBytesPerItem = 8 << 10;

  // Before an HTTP body from `caller` is parsed: an anonymous caller pays one
  // item per started kAnonymousBodyBytesPerItem of it; returns the items
  // paid (0 for a caller with a key, bearer or certificate, charged after
  // parsing), which AdmitCheck then deducts. An unknown or malformed key is
  // refused here, unread. Refusals as Admit's, audited here.
  absl::StatusOr<int64_t> PrepayAnonymousBody(const Caller& caller, absl::string_view method,
                                              size_t body_bytes);

  // Admit below for `request` from `caller`, called as `method` ("Check",
  // "CheckStream"), then the probing guard for its PDQ items: a throttled
  // caller is refused before being charged; a request that is found probing
  // is charged and refused (audited with event "pdq_probing", later refusals
  // with "pdq_probing_throttled"). A refusal is
  // audited here, an admitted check by CheckDone. `prepaid`: items
  // PrepayAnonymousBody already charged.
  absl::StatusOr<CheckAdmission> AdmitCheck(const Caller& caller, absl::string_view method,
                                            const v1::CheckRequest& request,
                                            int64_t prepaid = 0);
  // After an admitted check: counts its matches for the key and writes its
  // audit line. `response` is only read when `status` is OK.
  void CheckDone(const CheckAdmission& admission, const v1::CheckResponse& response,
                 const absl::Status& status);

  // `bearer`: the API key sent, empty when none; `grpc_peer`: the caller as
  // gRPC names it (anonymous budgets are per PeerKey: IPv4 address or IPv6 /64). Returns the key to
  // Record matches against (nullptr for anonymous calls), or
  // UNAUTHENTICATED (unknown or revoked key; anonymous checks off),
  // PERMISSION_DENIED (method class not allowed for the key),
  // RESOURCE_EXHAUSTED with a RetryInfo payload (over budget).
  absl::StatusOr<std::shared_ptr<ApiKeys::Key>> Admit(absl::string_view bearer,
                                                      absl::string_view grpc_peer,
                                                      const CheckCost& cost);
  // Counts the matches of an admitted check; nothing for anonymous calls.
  static void Record(ApiKeys::Key* key, const v1::CheckResponse& response) {
    if (key != nullptr) ApiKeys::Record(*key, response);
  }

  // Checks refused so far for exceeding the anonymous budget, and for
  // exceeding an API key's budget (RESOURCE_EXHAUSTED).
  uint64_t anonymous_refused() const { return anonymous_.refused(); }
  uint64_t key_budget_refused() const {
    return key_budget_refused_.load(std::memory_order_relaxed);
  }
  // PDQ checks refused for probing (the call that found it and later ones).
  uint64_t probing_refused() const { return probes_ != nullptr ? probes_->refused() : 0; }

 private:
  // Admit, with `request` (nullptr: none) checked by the probing guard;
  // sets `event` for the audit when the guard refused.
  absl::StatusOr<std::shared_ptr<ApiKeys::Key>> AdmitRequest(const Caller& caller,
                                                             const CheckCost& cost,
                                                             const v1::CheckRequest* request,
                                                             absl::string_view* event);
  // The key `caller` stands for (bearer key, else certificate subject);
  // nullptr when none or unknown.
  std::shared_ptr<ApiKeys::Key> KeyOf(const Caller& caller) const;
  void Audit(const CheckAdmission& admission, const KindCounts& matches,
             absl::StatusCode status, absl::string_view event = {});

  ApiKeys* const keys_;
  const int anonymous_per_minute_;
  PeerRateLimiter anonymous_;
  AuditLog* const audit_;
  const Clock clock_;
  PdqProbeGuard* const probes_;
  std::atomic<uint64_t> key_budget_refused_{0};
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECK_ACCESS_H_
