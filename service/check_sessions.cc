#include "service/check_sessions.h"

#include <openssl/rand.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"

namespace optout::service {
namespace {

absl::Status UnknownSession() {
  return absl::NotFoundError(
      "check session unknown, expired, closed or opened by another caller (optout-session)");
}

absl::Status SkippedBatch(uint64_t batch, uint64_t next) {
  return absl::FailedPreconditionError(absl::StrCat(
      "session_batch ", batch, " arrives before batch ", next,
      " of its part was answered; a part's numbered batches go one stream (or call) at a time"));
}

// Tells a re-sent batch from another one of the same number (not a secret).
uint64_t CountsFingerprint(const receipt::ItemCounts& c) {
  return c.url * 0x9E3779B97F4A7C15u ^ c.pdq * 0xC2B2AE3D27D4EB4Fu ^
         c.sha256 * 0x165667B19E3779F9u ^ c.md5 * 0x27D4EB2F165667C5u;
}

}  // namespace

absl::Status SessionPart::CheckStart(uint64_t batch) const {
  absl::MutexLock lock(&mu_);
  if (batch == 0 || closed_ || batch <= next_batch_) return absl::OkStatus();
  return SkippedBatch(batch, next_batch_);
}

absl::Status SessionPart::Add(const v1::CheckRequest& request, const KindCounts& matched,
                              uint64_t version, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::OkStatus();
  last_active_->store(absl::ToUnixMicros(now), std::memory_order_relaxed);
  const uint64_t batch = request.session_batch();
  if (batch != 0 && batch < next_batch_) {
    // A re-send after a reconnect: answered again, counted once. Its check
    // ran against this version too, so the range shows it.
    const uint64_t age = next_batch_ - batch;
    if (age > recent_.size()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "session_batch ", batch, " re-sent after ", age - 1,
          " later batches of its part; a client re-sends only the batches still in flight"));
    }
    receipt::ItemsDigest resent;
    resent.Add(request);
    if (CountsFingerprint(resent.counts()) != recent_[recent_.size() - age]) {
      return absl::FailedPreconditionError(absl::StrCat(
          "session_batch ", batch, " re-sent with other items than when it was first answered"));
    }
    min_version_ = std::min(min_version_, version);
    max_version_ = std::max(max_version_, version);
    return absl::OkStatus();
  }
  if (batch > next_batch_) return SkippedBatch(batch, next_batch_);
  const receipt::ItemCounts before = digest_.counts();
  digest_.Add(request);
  if (batch != 0) {
    receipt::ItemCounts added = digest_.counts();
    added.url -= before.url, added.pdq -= before.pdq, added.sha256 -= before.sha256,
        added.md5 -= before.md5;
    recent_.push_back(CountsFingerprint(added));
    if (recent_.size() > kResendWindow) recent_.pop_front();
    ++next_batch_;
  }
  matched_.url += matched.url + matched.url_any_query + matched.scope;
  matched_.pdq += matched.pdq;
  matched_.sha256 += matched.sha256;
  matched_.md5 += matched.md5;
  min_version_ = std::min(min_version_, version);
  max_version_ = std::max(max_version_, version);
  return absl::OkStatus();
}

absl::Status StreamBatchOrder::Next(const SessionPart& part, uint64_t batch) {
  if (!started_) {
    started_ = true;
    last_ = batch;
    return part.CheckStart(batch);
  }
  const uint64_t want = last_ == 0 ? 0 : last_ + 1;
  if (batch != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "session_batch ", batch, ": want ", want,
        want == 0 ? " (this stream's first batch was not numbered)"
                  : " (the batches of one stream are numbered consecutively)"));
  }
  last_ = batch;
  return absl::OkStatus();
}

CheckSessions::CheckSessions(const CheckSessionOptions& options, Signer signer,
                             VersionSource version, Clock clock)
    : options_(options),
      signer_(std::move(signer)),
      version_(std::move(version)),
      clock_(std::move(clock)) {}

bool CheckSessions::Expired(const Session& session, absl::Time now) const {
  const absl::Time last =
      absl::FromUnixMicros(session.last_active->load(std::memory_order_relaxed));
  return now - last > options_.idle_timeout;
}

void CheckSessions::Sweep(absl::Time now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto here = it++;
    if (!Expired(*here->second, now)) continue;
    for (auto& [number, part] : here->second->parts) {
      absl::MutexLock lock(&part->mu_);
      part->closed_ = true;
    }
    sessions_.erase(here);
  }
}

size_t CheckSessions::open_count() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

absl::StatusOr<v1::OpenCheckSessionResponse> CheckSessions::Open(const std::string& owner) {
  const absl::Time now = clock_();
  uint8_t random[16];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return absl::InternalError("no randomness for a session id");
  }
  const std::string id = digest::ToHex(
      absl::string_view(reinterpret_cast<const char*>(random), sizeof(random)));
  absl::MutexLock lock(&mu_);
  Sweep(now);
  if (static_cast<int>(sessions_.size()) >= options_.max_open) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many check sessions open on this registry (", options_.max_open,
        ", --max_check_sessions); close finished ones or retry later"));
  }
  const auto owned = std::count_if(sessions_.begin(), sessions_.end(), [&](const auto& entry) {
    return entry.second->owner == owner;
  });
  if (owned >= options_.max_per_owner) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "this caller holds ", owned, " open check sessions, the most allowed; close one first"));
  }
  auto session = std::make_unique<Session>();
  session->owner = owner;
  session->started = now;
  session->last_active = std::make_shared<std::atomic<int64_t>>(absl::ToUnixMicros(now));
  // Part 0 always exists, so a session that checked nothing and a client
  // that sent nothing agree on the digest.
  session->parts[0] = std::make_shared<SessionPart>(session->last_active);
  sessions_.emplace(id, std::move(session));
  v1::OpenCheckSessionResponse response;
  response.set_session_id(id);
  response.set_started_unix_micros(absl::ToUnixMicros(now));
  return response;
}

absl::StatusOr<std::shared_ptr<SessionPart>> CheckSessions::Join(const std::string& id,
                                                                 uint32_t part,
                                                                 const std::string& owner) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->owner != owner) return UnknownSession();
  Session& session = *it->second;
  if (Expired(session, now)) {
    Sweep(now);
    return UnknownSession();
  }
  session.last_active->store(absl::ToUnixMicros(now), std::memory_order_relaxed);
  std::shared_ptr<SessionPart>& slot = session.parts[part];
  if (slot == nullptr) {
    if (static_cast<int>(session.parts.size()) > options_.max_parts) {
      session.parts.erase(part);
      return absl::ResourceExhaustedError(absl::StrCat(
          "a check session has at most ", options_.max_parts, " parts (optout-session-part)"));
    }
    slot = std::make_shared<SessionPart>(session.last_active);
  }
  return slot;
}

absl::StatusOr<v1::CheckReceipt> CheckSessions::Close(const std::string& id,
                                                      const std::string& owner) {
  const absl::Time now = clock_();
  std::unique_ptr<Session> session;
  {
    absl::MutexLock lock(&mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second->owner != owner) return UnknownSession();
    if (Expired(*it->second, now)) {
      Sweep(now);
      return UnknownSession();
    }
    session = std::move(it->second);
    sessions_.erase(it);
  }
  v1::CheckReceipt r;
  r.set_session_id(id);
  r.set_started_unix_micros(absl::ToUnixMicros(session->started));
  r.set_ended_unix_micros(absl::ToUnixMicros(now));
  std::map<uint32_t, receipt::Digest32> digests;
  receipt::ItemCounts items;
  KindCounts matched;
  uint64_t min_version = UINT64_MAX, max_version = 0;
  for (auto& [number, part] : session->parts) {
    absl::MutexLock lock(&part->mu_);
    part->closed_ = true;
    digests[number] = part->digest_.Finish();
    items += part->digest_.counts();
    matched.url += part->matched_.url;
    matched.pdq += part->matched_.pdq;
    matched.sha256 += part->matched_.sha256;
    matched.md5 += part->matched_.md5;
    min_version = std::min(min_version, part->min_version_);
    max_version = std::max(max_version, part->max_version_);
  }
  if (min_version > max_version) min_version = max_version = version_();
  r.set_min_version(min_version);
  r.set_max_version(max_version);
  r.set_url_items(items.url);
  r.set_pdq_items(items.pdq);
  r.set_sha256_items(items.sha256);
  r.set_md5_items(items.md5);
  r.set_url_matches(static_cast<uint64_t>(matched.url));
  r.set_pdq_matches(static_cast<uint64_t>(matched.pdq));
  r.set_sha256_matches(static_cast<uint64_t>(matched.sha256));
  r.set_md5_matches(static_cast<uint64_t>(matched.md5));
  r.set_matched_items(static_cast<uint64_t>(matched.url + matched.pdq + matched.sha256 + matched.md5));
  const receipt::Digest32 digest = receipt::CombineParts(digests);
  r.set_items_digest(std::string(digest.begin(), digest.end()));
  absl::Status signed_ok = signer_(&r);
  if (!signed_ok.ok()) return signed_ok;
  return r;
}

}  // namespace optout::service
