#include "service/check_access.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/common/protocol/packed_items.h"
#include "service/peer_rate_limiter.h"

namespace optout::service {
namespace {

// Audit events: the call that found its caller probing for stored PDQ
// hashes, and later calls refused while the caller is throttled for it.
constexpr char kProbing[] = "pdq_probing";
constexpr char kProbingThrottled[] = "pdq_probing_throttled";

void CountKind(v1::MatchKind kind, KindCounts* counts) {
  switch (kind) {
    // An any-query URL opt-out is a URL opt-out for the audit's purpose.
    case v1::MATCH_KIND_URL:
    case v1::MATCH_KIND_URL_ANY_QUERY: ++counts->url; break;
    case v1::MATCH_KIND_SCOPE: ++counts->scope; break;
    case v1::MATCH_KIND_PDQ: ++counts->pdq; break;
    case v1::MATCH_KIND_SHA256: ++counts->sha256; break;
    case v1::MATCH_KIND_MD5: ++counts->md5; break;
    default: break;
  }
}

}  // namespace

KindCounts ItemsOf(const v1::CheckRequest& request) {
  KindCounts counts;
  for (const v1::CheckItem& item : request.items()) {
    switch (item.kind_case()) {
      case v1::CheckItem::kUrl:
      case v1::CheckItem::kUrlDigests: ++counts.url; break;
      case v1::CheckItem::kPdq: ++counts.pdq; break;
      case v1::CheckItem::kSha256: ++counts.sha256; break;
      case v1::CheckItem::kMd5: ++counts.md5; break;
      default: break;
    }
  }
  for (const v1::PackedItems& packed : request.packed()) {
    const int64_t bytes = static_cast<int64_t>(packed.data().size());
    switch (packed.kind()) {
      case v1::PackedItems::KIND_URL_DIGESTS:
        counts.url += packed.counts_size() > 0 ? packed.counts_size() : bytes / 32;
        break;
      case v1::PackedItems::KIND_SHA256: counts.sha256 += bytes / 32; break;
      case v1::PackedItems::KIND_MD5: counts.md5 += bytes / 16; break;
      case v1::PackedItems::KIND_PDQ: counts.pdq += protocol::PackedItemCount(packed); break;
      default: break;
    }
  }
  return counts;
}

KindCounts MatchesOf(const v1::CheckResponse& response) {
  KindCounts counts;
  for (const v1::ItemResult& result : response.results()) {
    if (result.matched()) CountKind(result.kind(), &counts);
  }
  for (const v1::PackedVerdict& verdict : response.packed_verdicts()) {
    for (const v1::PackedMatch& match : verdict.matches()) CountKind(match.kind(), &counts);
  }
  return counts;
}

namespace {

// What a check still owes once its body was prepaid (only anonymous
// callers prepay).
CheckCost CostAfter(CheckCost cost, int64_t prepaid) {
  cost.items = std::max<int64_t>(0, cost.items - prepaid);
  return cost;
}

}  // namespace

absl::StatusOr<int64_t> CheckAccess::PrepayAnonymousBody(const Caller& caller,
                                                         absl::string_view method,
                                                         size_t body_bytes) {
  // Callers with a key are charged by their items after parsing; a key
  // that will be refused is refused before the body is read.
  absl::Status refused;
  if (caller.malformed_authorization) {
    refused = absl::UnauthenticatedError("authorization: expected 'Bearer KEY'");
  } else if (KeyOf(caller) != nullptr) {
    return 0;
  } else if (!caller.bearer.empty()) {
    refused = absl::UnauthenticatedError("unknown or revoked API key");
  }
  const int64_t items = static_cast<int64_t>(
      (body_bytes + kAnonymousBodyBytesPerItem - 1) / kAnonymousBodyBytesPerItem);
  if (refused.ok()) {
    // OK only when anonymous checks are on (Admit refuses them otherwise).
    absl::StatusOr<std::shared_ptr<ApiKeys::Key>> admitted =
        Admit("", caller.peer, CheckCost{items, 0});
    if (admitted.ok()) return items;
    refused = absl::Status(admitted.status().code(),
                           absl::StrCat("an anonymous request body of ", body_bytes,
                                        " bytes counts as ", items, " items (one per ",
                                        kAnonymousBodyBytesPerItem >> 10,
                                        " KiB) before it is read: ", admitted.status().message()));
    admitted.status().ForEachPayload(
        [&](absl::string_view type_url, const absl::Cord& payload) {
          refused.SetPayload(type_url, payload);
        });
  }
  if (audit_ != nullptr) {
    CheckAdmission admission;
    admission.method = method;
    admission.peer = PeerKey(caller.peer);
    Audit(admission, KindCounts(), refused.code());
  }
  return refused;
}

absl::StatusOr<CheckAdmission> CheckAccess::AdmitCheck(const Caller& caller,
                                                       absl::string_view method,
                                                       const v1::CheckRequest& request,
                                                       int64_t prepaid) {
  CheckAdmission admission;
  admission.method = method;
  if (audit_ != nullptr) {
    admission.items = ItemsOf(request);
    admission.peer = PeerKey(caller.peer);
  }
  absl::string_view event;
  absl::StatusOr<std::shared_ptr<ApiKeys::Key>> key =
      caller.malformed_authorization
          ? absl::UnauthenticatedError("authorization: expected 'Bearer KEY'")
          : AdmitRequest(caller, CostAfter(CostOf(request), prepaid), &request,
                         &event);
  if (!key.ok()) {
    if (audit_ != nullptr) {
      // A known key refused (over budget, method) is audited under its name.
      if (!caller.malformed_authorization) admission.key = KeyOf(caller);
      Audit(admission, KindCounts(), key.status().code(), event);
    }
    return key.status();
  }
  admission.key = *std::move(key);
  return admission;
}

void CheckAccess::CheckDone(const CheckAdmission& admission, const v1::CheckResponse& response,
                            const absl::Status& status) {
  if (status.ok()) Record(admission.key.get(), response);
  if (audit_ != nullptr) {
    Audit(admission, status.ok() ? MatchesOf(response) : KindCounts(), status.code());
  }
}

void CheckAccess::Audit(const CheckAdmission& admission, const KindCounts& matches,
                        absl::StatusCode status, absl::string_view event) {
  AuditEntry entry;
  entry.time = clock_();
  if (admission.key != nullptr) entry.key_name = ApiKeys::NameOf(*admission.key);
  entry.peer = admission.peer;
  entry.method = admission.method;
  entry.items = admission.items;
  entry.matches = matches;
  entry.status = status;
  entry.event = event;
  audit_->Write(entry);
}

absl::StatusOr<std::shared_ptr<ApiKeys::Key>> CheckAccess::Admit(absl::string_view bearer,
                                                                 absl::string_view grpc_peer,
                                                                 const CheckCost& cost) {
  Caller caller;
  caller.bearer = std::string(bearer);
  caller.peer = std::string(grpc_peer);
  absl::string_view event;
  return AdmitRequest(caller, cost, nullptr, &event);
}

std::shared_ptr<ApiKeys::Key> CheckAccess::KeyOf(const Caller& caller) const {
  if (!caller.bearer.empty()) return keys_->Find(caller.bearer);
  // A verified client certificate stands for the key naming its subject;
  // one that names none is an anonymous caller.
  if (!caller.cert_subject.empty()) return keys_->FindByCertSubject(caller.cert_subject);
  return nullptr;
}

absl::StatusOr<std::shared_ptr<ApiKeys::Key>> CheckAccess::AdmitRequest(
    const Caller& caller, const CheckCost& cost, const v1::CheckRequest* request,
    absl::string_view* event) {
  // Only PDQ checks are probed for; the rest never touch the guard.
  const bool guarded = request != nullptr && probes_ != nullptr && probes_->enabled() &&
                       cost.pdq_items > 0;
  const absl::Time now = clock_();
  const absl::string_view grpc_peer = caller.peer;
  std::shared_ptr<ApiKeys::Key> key = KeyOf(caller);
  if (key == nullptr && !caller.bearer.empty()) {
    return absl::UnauthenticatedError("unknown or revoked API key");
  }
  if (key == nullptr) {
    if (anonymous_per_minute_ <= 0) {
      return absl::UnauthenticatedError(
          "anonymous checks are off on this registry (--anonymous_items_per_minute 0); "
          "send an API key (authorization: Bearer KEY)");
    }
    std::string peer;
    if (guarded) {
      peer = PeerKey(grpc_peer);
      absl::Status throttled = probes_->CheckThrottled({true, peer}, now);
      if (!throttled.ok()) {
        *event = kProbingThrottled;
        return throttled;
      }
    }
    if (cost.items > 0) {
      absl::Status status = anonymous_.Admit(grpc_peer, now, cost.items);
      if (!status.ok()) return status;
    }
    if (guarded) {
      bool tripped = false;
      absl::Status observed = probes_->Observe({true, peer}, *request, now, &tripped);
      if (tripped) *event = kProbing;
      if (!observed.ok()) return observed;
    }
    return std::shared_ptr<ApiKeys::Key>();
  }
  if (guarded) {
    absl::Status throttled = probes_->CheckThrottled({false, ApiKeys::NameOf(*key)}, now);
    if (!throttled.ok()) {
      *event = kProbingThrottled;
      ApiKeys::CountRefusal(*key, /*charged=*/false);
      return throttled;
    }
  }
  absl::Status status = ApiKeys::Charge(*key, cost, now);
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kResourceExhausted) {
      key_budget_refused_.fetch_add(1, std::memory_order_relaxed);
    }
    return status;
  }
  if (guarded) {
    bool tripped = false;
    absl::Status observed =
        probes_->Observe({false, ApiKeys::NameOf(*key)}, *request, now, &tripped);
    if (tripped) *event = kProbing;
    if (!observed.ok()) {
      ApiKeys::CountRefusal(*key, /*charged=*/true);
      return observed;
    }
  }
  return key;
}

}  // namespace optout::service
