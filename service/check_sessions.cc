#include "service/check_sessions.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"
#include "optout/internal/record.pb.h"
#include "service/log.h"

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

std::string PartKey(const std::string& id, uint32_t part) { return absl::StrCat(id, "/", part); }

}  // namespace

void SessionPart::SaveLocked() {
  if (journal_ == nullptr || journal_failed_) return;
  internal::StoredSessionPart p;
  p.set_digest_state(digest_.SaveState());
  p.set_matched_url(static_cast<uint64_t>(matched_.url));
  p.set_matched_pdq(static_cast<uint64_t>(matched_.pdq));
  p.set_matched_sha256(static_cast<uint64_t>(matched_.sha256));
  p.set_matched_md5(static_cast<uint64_t>(matched_.md5));
  p.set_min_version(min_version_);
  p.set_max_version(max_version_);
  p.set_next_batch(next_batch_);
  p.set_fingerprint_key(fingerprint_key_.data(), fingerprint_key_.size());
  for (const BatchFingerprintTag& tag : recent_) p.add_recent(tag.data(), tag.size());
  p.set_last_active_unix_micros(last_active_->load(std::memory_order_relaxed));
  const absl::Status saved = journal_->Put(journal_key_, p.SerializeAsString());
  if (!saved.ok()) {
    // The session still works; it is only lost if the server restarts.
    journal_failed_ = true;
    Log(LogLevel::kWarning, absl::StrCat("a check session part is no longer kept across "
                                         "restarts: ", saved.message()));
  }
}

bool SessionPart::RestoreLocked(const std::string& state, int64_t* last_active) {
  internal::StoredSessionPart p;
  if (!p.ParseFromString(state) || p.fingerprint_key().size() != fingerprint_key_.size() ||
      p.recent_size() > static_cast<int>(kResendWindow) || p.next_batch() == 0 ||
      !digest_.RestoreState(p.digest_state())) {
    return false;
  }
  for (const std::string& tag : p.recent()) {
    if (tag.size() != BatchFingerprintTag().size()) return false;
  }
  matched_.url = static_cast<int64_t>(p.matched_url());
  matched_.pdq = static_cast<int64_t>(p.matched_pdq());
  matched_.sha256 = static_cast<int64_t>(p.matched_sha256());
  matched_.md5 = static_cast<int64_t>(p.matched_md5());
  min_version_ = p.min_version();
  max_version_ = p.max_version();
  next_batch_ = p.next_batch();
  *last_active = std::max(*last_active, p.last_active_unix_micros());
  std::memcpy(fingerprint_key_.data(), p.fingerprint_key().data(), fingerprint_key_.size());
  recent_.clear();
  for (const std::string& tag : p.recent()) {
    BatchFingerprintTag t;
    std::memcpy(t.data(), tag.data(), t.size());
    recent_.push_back(t);
  }
  return true;
}

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
    if (FingerprintOf(request, min_pdq_quality_, fingerprint_key_) !=
        recent_[recent_.size() - age]) {
      return absl::FailedPreconditionError(absl::StrCat(
          "session_batch ", batch,
          " re-sent with other items than when it was first answered (a re-send must repeat "
          "the batch exactly; it is not counted again)"));
    }
    min_version_ = std::min(min_version_, version);
    max_version_ = std::max(max_version_, version);
    SaveLocked();
    return absl::OkStatus();
  }
  if (batch > next_batch_) return SkippedBatch(batch, next_batch_);
  if (batch != 0) {
    BatchFingerprint fingerprint(fingerprint_key_);
    digest_.Add(request, &fingerprint);
    recent_.push_back(fingerprint.Finish());
    if (recent_.size() > kResendWindow) recent_.pop_front();
    ++next_batch_;
  } else {
    digest_.Add(request);
  }
  matched_.url += matched.url + matched.url_any_query + matched.scope;
  matched_.pdq += matched.pdq;
  matched_.sha256 += matched.sha256;
  matched_.md5 += matched.md5;
  min_version_ = std::min(min_version_, version);
  max_version_ = std::max(max_version_, version);
  // Before the answer is written (callers write it once Add returned).
  SaveLocked();
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
    Forget(here->first);
    sessions_.erase(here);
  }
}

std::shared_ptr<SessionPart> CheckSessions::NewPart(const std::string& id, uint32_t number,
                                                    const Session& session) const {
  return std::make_shared<SessionPart>(session.last_active, options_.min_pdq_quality, journal_,
                                       PartKey(id, number));
}

void CheckSessions::Forget(const std::string& id) {
  if (journal_ == nullptr) return;
  const absl::Status erased = journal_->Erase(id);
  if (!erased.ok()) {
    Log(LogLevel::kWarning, absl::StrCat("a closed check session stays in the journal until "
                                         "the next start: ", erased.message()));
  }
}

absl::Status CheckSessions::Restore(SessionJournal* journal) {
  struct Saved {
    internal::StoredCheckSession header;
    bool has_header = false;
    bool unreadable = false;
    std::map<uint32_t, std::string> parts;
  };
  std::map<std::string, Saved> saved;
  const absl::Status listed = journal->ForEach([&](const std::string& key,
                                                   const std::string& state) {
    const size_t slash = key.find('/');
    Saved& s = saved[key.substr(0, slash)];
    uint32_t part = 0;
    if (slash == std::string::npos) {
      s.has_header = s.header.ParseFromString(state);
      s.unreadable |= !s.has_header;
    } else if (absl::SimpleAtoi(key.substr(slash + 1), &part)) {
      s.parts[part] = state;
    } else {
      s.unreadable = true;
    }
  });
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  journal_ = journal;
  if (!listed.ok()) return listed;
  int restored = 0, dropped = 0;
  for (auto& [id, s] : saved) {
    auto session = std::make_unique<Session>();
    session->owner = s.header.owner();
    session->started = absl::FromUnixMicros(s.header.started_unix_micros());
    int64_t last = s.header.last_active_unix_micros();
    session->last_active = std::make_shared<std::atomic<int64_t>>(0);
    bool ok = s.has_header && !s.unreadable && !session->owner.empty() &&
              static_cast<int>(sessions_.size()) < options_.max_open &&
              static_cast<int>(s.parts.size()) <= options_.max_parts + 1;
    for (auto& [number, state] : s.parts) {
      if (!ok) break;
      std::shared_ptr<SessionPart> part = NewPart(id, number, *session);
      absl::MutexLock part_lock(&part->mu_);
      ok = part->RestoreLocked(state, &last);
      session->parts[number] = std::move(part);
    }
    session->last_active->store(last, std::memory_order_relaxed);
    if (!ok || Expired(*session, now)) {
      Forget(id);
      ++dropped;
      continue;
    }
    if (session->parts.count(0) == 0) session->parts[0] = NewPart(id, 0, *session);
    sessions_.emplace(id, std::move(session));
    ++restored;
  }
  if (restored + dropped > 0) {
    Log(LogLevel::kInfo, absl::StrCat("check sessions: ", restored,
                                      " kept across the restart, ", dropped,
                                      " expired or unreadable dropped"));
  }
  return absl::OkStatus();
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
  session->parts[0] = NewPart(id, 0, *session);
  if (journal_ != nullptr) {
    // Saved before the id is given out, so a restart never meets a part
    // without its session.
    internal::StoredCheckSession header;
    header.set_owner(owner);
    header.set_started_unix_micros(absl::ToUnixMicros(now));
    header.set_last_active_unix_micros(absl::ToUnixMicros(now));
    const absl::Status saved = journal_->Put(id, header.SerializeAsString());
    if (!saved.ok()) {
      Log(LogLevel::kWarning,
          absl::StrCat("a check session is not kept across restarts: ", saved.message()));
    }
  }
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
    slot = NewPart(id, part, session);
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
  {
    absl::MutexLock lock(&mu_);
    Forget(id);
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
