#include "service/cluster/jetstream_log.h"

#include <nats/nats.h>

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/common/base/status_macros.h"
#include "client/common/digest/digest.h"
#include "service/cluster/divergence.h"
#include "service/cluster/internal/subscription_reaper.h"
#include "service/cluster/key_fingerprint.h"
#include "service/cluster/progress.h"
#include "service/cluster/status_board.h"
#include "service/log.h"

namespace optout::service::cluster {
namespace {

constexpr absl::string_view kFingerprintLabel = "key fingerprint=";
// Marks the Start error that a peer's snapshot fixes (NeedsSnapshot).
constexpr absl::string_view kNeedsSnapshotPayload = "type.optout/cluster.needs_snapshot";
// How long a node may wait for NATS (servers still starting) before Start fails.
constexpr absl::Duration kConnectPatience = absl::Seconds(60);
// A catching-up node syncs at least this often (in mutations).
constexpr int kMaxUnsyncedMutations = 256;
// With mutations on the stream not arriving for this long, the consumer is
// created anew from the applied sequence (its server may have died).
constexpr absl::Duration kStallTimeout = absl::Seconds(2);
// Making a consumer is a request the JetStream meta leader answers. While
// the meta group elects (4-9 s in nats-server 2.9.10, each time the server
// holding it dies, longer while more servers die) such a request is
// dropped unanswered, and libnats 3.4.1 reports a timeout only once the
// whole wait is over, so a try made just before the new leader is elected
// is lost with all its wait (it was 5 s, the context's default). Each try
// therefore waits kConsumerRequestWaitMs, and the next follows after
// kMinConsumerRetry, doubling up to kMaxConsumerRetry: a node has its
// consumer within about 2.5 s of the meta leader's election.
constexpr int64_t kConsumerRequestWaitMs = 2000;
// Dropping a consumer deletes it, a request the meta leader answers too:
// waited for this long at most (the consumer thread waits), else the
// server removes it after its InactiveThreshold.
constexpr int64_t kConsumerDeleteWaitMs = 500;
// A dropped subscription is freed after a flush round trip of at most this
// long; while the connection is down, at the next try, once a second.
constexpr int64_t kReapFlushWaitMs = 1000;
constexpr absl::Duration kMinConsumerRetry = absl::Milliseconds(50);
constexpr absl::Duration kMaxConsumerRetry = absl::Milliseconds(500);
// The consumer's idle heartbeat; the library reports two missed in a row
// (its server died) through the connection's error handler.
constexpr int64_t kConsumerHeartbeatNs = int64_t{1000} * 1000 * 1000;
// A node that applied up to this many messages more than the stream's
// leader holds goes on (the leader may be a replica that lost messages to
// the nats-server 2.9.10 defect, one per event); further ahead, the stream
// was deleted and made anew, and the node refuses to start.
constexpr uint64_t kDivergedReplicaSlack = 64;
// A node whose consumers find another message at its last applied sequence
// on every replica they land on, for this long and this many tries in a
// row, holds a history the stream no longer has: it exits with
// kExitDiverged, and once restarted (systemd, compose, Kubernetes) takes a
// peer's snapshot (--cluster_snapshot_from; Start checks the same).
constexpr absl::Duration kDivergedAfter = absl::Seconds(8);
constexpr int kDivergedTries = 4;
constexpr int kExitDiverged = 75;
// Nodes tell each other their digests (core NATS, not the stream) at every
// multiple of this sequence and at their last one. A node told another
// digest than its own at a version judges its own history against the
// stream leader's messages (divergence.h), not by counting nodes: nodes that
// read a replica the defect shortened agree with each other, and a vote
// would make the one that read a whole replica drop an acknowledged write.
constexpr uint64_t kCheckpointEvery = 64;
// The longest range of the leader's messages a node reads to judge itself.
constexpr uint64_t kMaxJudgedMessages = 4096;
constexpr absl::Duration kJudgmentSpacing = absl::Seconds(5);
constexpr size_t kCheckpointsKept = 256;
// Store meta key written before that exit; a peer's snapshot replaces it.
constexpr absl::string_view kDivergedMarker = "cluster_diverged_at";
// The writes this node acknowledged, kept (sealed) under this prefix and the
// stream sequence, written in the batch that applies them (so durable with
// that synced write) for this many sequences: before a node gives up its
// history, it re-publishes those the stream's leader lacks.
constexpr absl::string_view kAckedPrefix = "cluster_acked/";
constexpr uint64_t kAckedKeptSequences = 16384;
// Publishes in flight at once per node; each takes every write waiting
// (up to the limits below) as one message, so writers arriving during a
// publish round trip share the next one. One: the stream, every node's
// consumer and every node's synced write cost mostly per message, and on a
// machine whose CPU is the limit fewer, larger messages were acknowledged
// sooner (cluster_bench at 2,000/s asked: 4.0-10.9 registrations per
// message against 3.8-4.5 with 4 publishers, 1,761-1,993 against
// 1,529-1,970 acknowledged/s, server CPU per registration -10 %).
constexpr int kPublishers = 1;
constexpr size_t kMaxBatchMutations = 256;
constexpr size_t kMaxBatchBytes = 256 << 10;  // well under NATS's 1 MB payload

absl::Status NatsError(natsStatus s, absl::string_view what, jsErrCode code = jsErrCode(0)) {
  std::string message = absl::StrCat("NATS ", what, ": ", natsStatus_GetText(s));
  if (code != 0) absl::StrAppend(&message, " (JetStream error ", static_cast<int>(code), ")");
  return absl::UnavailableError(message);
}

absl::Status StartupStopped(absl::string_view while_doing) {
  return absl::CancelledError(absl::StrCat("cluster: stopped by a signal while ", while_doing));
}

std::string Subject(const std::string& stream) { return absl::StrCat("optout.mutations.", stream); }

std::string AadFor(const std::string& stream) { return absl::StrCat("optout-mutation:", stream); }
std::string BatchAadFor(const std::string& stream) {
  return absl::StrCat("optout-mutation-batch:", stream);
}
std::string AckedAadFor(const std::string& stream) {
  return absl::StrCat("optout-acked-mutations:", stream);
}
std::string AckedKey(uint64_t sequence) {
  return absl::StrCat(kAckedPrefix, absl::Hex(sequence, absl::kZeroPad16));
}

// A write waiting for its publish ack and for this node's synced apply of
// it; guarded by Impl::mu. Its writer sleeps on its own `wake`, signalled
// once by whichever of the publisher and the consumer completes it (a
// condition on the shared mutex would be re-evaluated for every waiting
// writer at every unlock, and would wake the writer twice).
struct PublishSlot {
  // The writer stopped waiting (its deadline passed): a publisher that has
  // not taken it yet drops it, so a write given up on is not sent later.
  bool abandoned = false;
  bool finished = false;  // by the publisher
  uint64_t sequence = 0;  // the stream's, once acknowledged
  absl::Status status;    // why not, when finished without a sequence
  bool applied = false;   // by the consumer, once synced here
  ApplyOutcome outcome = ApplyOutcome::kApplied;
  absl::CondVar wake;
  // Acknowledged and applied, or failed: nothing more to wait for.
  bool Complete() const { return finished && (applied || !status.ok()); }
};

struct Outgoing {
  internal::Mutation mutation;
  std::shared_ptr<PublishSlot> slot;
  absl::Time deadline;  // the writer's
};

// The logs alive in this process: the library's error handler runs on its
// own thread and may come after a log's connection is closed.
struct LiveImplSet {
  absl::Mutex mu;
  absl::flat_hash_set<const void*> impls ABSL_GUARDED_BY(mu);
};
LiveImplSet& LiveImpls() {
  static LiveImplSet* live = new LiveImplSet;
  return *live;
}

// "" when the description names no fingerprint.
std::string FingerprintIn(const char* description) {
  if (description == nullptr) return "";
  absl::string_view d(description);
  const size_t at = d.find(kFingerprintLabel);
  if (at == absl::string_view::npos) return "";
  return std::string(d.substr(at + kFingerprintLabel.size(), 32));
}

struct StreamState {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::string fingerprint;
};

}  // namespace

struct JetStreamLog::Impl {
  bool StopStarting() const {
    return options.stop_starting != nullptr && options.stop_starting->load();
  }

  ClusterOptions options;
  Keyring keyring;
  storage::OptOutStore* store;
  MutationApplier* applier;
  std::string subject;
  std::string aad;
  std::string batch_aad;
  std::string acked_aad;

  natsOptions* nats_options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  // Makes the consumers; its default wait bounds the delete of one dropped
  // (kConsumerDeleteWaitMs).
  jsCtx* consumer_js = nullptr;

  // Consumer thread only.
  natsSubscription* subscription = nullptr;
  // Frees dropped subscriptions once the read loop is done with them.
  std::unique_ptr<SubscriptionReaper> reaper;
  absl::Time last_reap = absl::InfinitePast();
  // The consumer stopped delivering (missed heartbeats, or the stream is
  // ahead with nothing arriving): a new one is made, and this one kept
  // until then, since its server may come back first (an R1 consumer
  // returns with its server) while no new one can be made (see
  // kConsumerRequestWaitMs).
  bool replace_consumer = false;
  absl::Time next_consumer_try = absl::InfinitePast();
  absl::Duration consumer_retry = kMinConsumerRetry;
  // Set from the library's thread when `watched` missed its heartbeats.
  std::atomic<natsSubscription*> watched{nullptr};
  std::atomic<bool> heartbeats_missed{false};
  // The subscription starts at the last applied sequence, to check that
  // its replica holds the same message there (see NewConsumer).
  // Digest comparison with peers (consumer thread, but `peer_reports`).
  natsSubscription* progress_subscription = nullptr;
  std::map<uint64_t, cluster::Progress> my_digests;  // checkpoints and the last
  // Versions already judged against the leader (one judgment each), and
  // when the next judgment may be: a peer that keeps reporting another
  // history (it has not found out yet) must not keep this node's consumer
  // reading the leader instead of applying.
  absl::flat_hash_set<uint64_t> judged_versions;
  absl::Time next_judgment = absl::InfinitePast();
  uint64_t next_acked_prune = 0;
  absl::Time last_progress_report = absl::InfinitePast();
  absl::Mutex peer_mu;
  // version -> node name -> digest hex, as the peers reported.
  std::map<uint64_t, std::map<std::string, std::string>> peer_reports ABSL_GUARDED_BY(peer_mu);
  bool verifying = false;
  int64_t replica_mismatches = 0;
  int mismatches_in_a_row = 0;
  absl::Time first_mismatch = absl::InfiniteFuture();
  cluster::Progress progress;          // last applied (maybe not yet synced)
  int unsynced = 0;
  absl::Time last_message = absl::Now();
  absl::Time last_stream_poll = absl::InfinitePast();
  // Waiting on NATS is logged at most every 2 s (why a restart is slow).
  absl::Time last_wait_log = absl::InfinitePast();
  std::vector<std::pair<std::string, ApplyOutcome>> unsynced_outcomes;
  // The store batch a message's registrations are staged in (consumer thread).
  std::unique_ptr<storage::OptOutStore::Batch> staged;

  std::thread consumer;
  std::atomic<bool> stopping{false};
  std::unique_ptr<StatusBoard> board;  // goes before the connection

  AppliedVersion applied;  // synced
  mutable absl::Mutex mu;
  // Mutation ids this node published and whose writers wait.
  absl::flat_hash_map<std::string, std::shared_ptr<PublishSlot>> waiting ABSL_GUARDED_BY(mu);
  uint64_t known_last_seq ABSL_GUARDED_BY(mu) = 0;
  std::string synced_digest_hex ABSL_GUARDED_BY(mu);
  // Writes taken by Commit, not yet handed to a publisher.
  std::deque<Outgoing> outbox ABSL_GUARDED_BY(mu);
  bool stop_publishing ABSL_GUARDED_BY(mu) = false;
  std::vector<std::thread> publishers;

  Impl(const ClusterOptions& o, const Keyring& k, storage::OptOutStore* s, MutationApplier* a)
      : options(o), keyring(k), store(s), applier(a), subject(Subject(o.stream)),
        aad(AadFor(o.stream)), batch_aad(BatchAadFor(o.stream)), acked_aad(AckedAadFor(o.stream)) {
    absl::MutexLock lock(&LiveImpls().mu);
    LiveImpls().impls.insert(this);
  }

  ~Impl() {
    {
      // The library may call OnAsyncError after this log is gone.
      absl::MutexLock lock(&LiveImpls().mu);
      LiveImpls().impls.erase(this);
    }
    {
      absl::MutexLock lock(&mu);
      stop_publishing = true;
    }
    stopping = true;
    for (std::thread& t : publishers) t.join();
    if (consumer.joinable()) consumer.join();
    board.reset();  // drains its subscription, which needs the connection
    // Closed first: that joins the read loop, which may be handing a
    // message to a subscription (SubscriptionReaper says why that matters).
    if (connection != nullptr) natsConnection_Close(connection);
    reaper.reset();
    if (subscription != nullptr) natsSubscription_Destroy(subscription);
    if (progress_subscription != nullptr) natsSubscription_Destroy(progress_subscription);
    if (consumer_js != nullptr) jsCtx_Destroy(consumer_js);
    if (js != nullptr) jsCtx_Destroy(js);
    if (connection != nullptr) natsConnection_Destroy(connection);
    if (nats_options != nullptr) natsOptions_Destroy(nats_options);
  }

  absl::Status Connect();
  // Thread-safe (uses only the JetStream context).
  absl::StatusOr<StreamState> StreamInfo(int64_t wait_ms = 1000);
  absl::StatusOr<StreamState> EnsureStream();
  absl::Status CheckLocalData(const StreamState& state);
  // NeedsSnapshot when this node found its history diverged from the
  // stream's (and exited for it: kDivergedMarker).
  absl::Status CheckNotDiverged();
  // A new consumer starting at the applied progress, or nullptr (logged)
  // when none could be made now; `verify` says it starts at the last
  // applied sequence to check it (see the definition).
  natsSubscription* NewConsumer(bool* verify);
  // Takes `fresh` as this node's consumer, dropping the one held.
  void Adopt(natsSubscription* fresh, bool verify);
  // Makes a consumer when one is due (held: none, or one to replace);
  // after a failed try the next waits kMinConsumerRetry, doubling to
  // kMaxConsumerRetry.
  void TryConsumer();
  // Drops the consumer held: deletes it on the server (waiting at most
  // kConsumerDeleteWaitMs) and frees it once the read loop is done with it.
  void DropConsumer();
  // Connection error handler: notes missed heartbeats of the consumer.
  static void OnAsyncError(natsConnection* connection, natsSubscription* sub, natsStatus err,
                           void* closure);
  void Run();
  // Applies the message at `seq` (one mutation or a batch); false after an
  // error (logged).
  bool ApplyMessage(uint64_t seq, uint64_t pending, absl::string_view data);
  // Publisher thread: publishes what Commit queued, a batch at a time.
  void PublishLoop();
  // Publishes `batch` as one message, re-sending (same message id) until the
  // stream acknowledges it or commit_timeout passes; its stream sequence.
  absl::StatusOr<uint64_t> PublishBatch(const std::vector<Outgoing>& batch);
  // Syncs the store if writes are unsynced, then publishes the progress.
  void SyncAndPublish();
  void PollStream();
  // Records the applied progress, tells the peers, compares with theirs;
  // a node told another digest judges itself against the stream's leader.
  void NoteDigest();
  void ReportAndCompare();
  [[noreturn]] void ExitDiverged(const std::string& why);
  // The leader's message at `seq` (NotFound past the end), and the ids of
  // the mutations in it.
  absl::StatusOr<std::string> LeaderMessage(uint64_t seq);
  absl::StatusOr<std::vector<std::string>> LeaderIds(uint64_t seq);
  // The mutations in a stream message (one or a batch); empty when it
  // cannot be opened with this node's keys.
  std::vector<internal::Mutation> OpenMessage(absl::string_view data) const;
  // Keeps the mutations of `mutations` this node waits to acknowledge (in
  // the batch applying the message, `staged`).
  void KeepAcked(uint64_t seq, const std::vector<internal::Mutation>& mutations);
  // Re-publishes the kept acknowledged mutations the leader's stream lacks.
  absl::Status Rescue();
  // Judges this node's history over (from, to] against the leader's; when
  // it differs, rescues what this node acknowledged and exits for a
  // snapshot. Stays (and says why) when it is the same or cannot be told.
  void JudgeAgainstLeader(const cluster::Progress& from, const cluster::Progress& to,
                          const std::string& why);
  // Messages already received for the subscription and not yet taken.
  int LocallyQueued() const {
    int messages = 0, bytes = 0;
    if (natsSubscription_GetPending(subscription, &messages, &bytes) != NATS_OK) return 0;
    return messages;
  }
  void NoteKnownLast(uint64_t last) {
    absl::MutexLock lock(&mu);
    if (last > known_last_seq) known_last_seq = last;
  }
};

absl::Status JetStreamLog::Impl::Connect() {
  natsStatus s = natsOptions_Create(&nats_options);
  std::vector<const char*> urls;
  for (const std::string& url : options.nats_urls) urls.push_back(url.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(nats_options, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(nats_options, options.node_name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(nats_options, -1);  // forever
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(nats_options, 100);
  if (s == NATS_OK) s = natsOptions_SetTimeout(nats_options, 2000);
  // A dead server is noticed within ~2 s, not the default 4 minutes.
  if (s == NATS_OK) s = natsOptions_SetPingInterval(nats_options, 1000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(nats_options, 2);
  // Without an error handler libnats 3.4.1 does not watch a push
  // consumer's heartbeats at all (NextMsg never reports them missed).
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(nats_options, &Impl::OnAsyncError, this);
  if (s == NATS_OK && !options.nats_ca_file.empty()) {
    s = natsOptions_SetSecure(nats_options, true);
    if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(nats_options, options.nats_ca_file.c_str());
  }
  if (s == NATS_OK && !options.nats_creds_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(nats_options, options.nats_creds_file.c_str(),
                                                nullptr);
  }
  if (s != NATS_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("NATS options (--cluster_nats, TLS or credentials): ", natsStatus_GetText(s)));
  }
  const absl::Time give_up = absl::Now() + kConnectPatience;
  for (;;) {
    s = natsConnection_Connect(&connection, nats_options);
    if (s == NATS_OK) break;
    if (absl::Now() > give_up) return NatsError(s, "connect to --cluster_nats");
    if (StopStarting()) return StartupStopped("connecting to --cluster_nats");
    if (absl::Now() - last_wait_log > absl::Seconds(5)) {
      last_wait_log = absl::Now();
      Log(LogLevel::kWarning,
          absl::StrCat("cluster: waiting for NATS (--cluster_nats ",
                       absl::StrJoin(options.nats_urls, ","), "; giving up after ",
                       absl::FormatDuration(kConnectPatience), "): ", natsStatus_GetText(s)));
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = 5000;
  s = natsConnection_JetStream(&js, connection, &js_options);
  if (s != NATS_OK) return NatsError(s, "JetStream context");
  js_options.Wait = kConsumerDeleteWaitMs;
  s = natsConnection_JetStream(&consumer_js, connection, &js_options);
  if (s != NATS_OK) return NatsError(s, "JetStream context");
  reaper = std::make_unique<SubscriptionReaper>(connection);
  return absl::OkStatus();
}

absl::StatusOr<StreamState> JetStreamLog::Impl::StreamInfo(int64_t wait_ms) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = jsErrCode(0);
  // Short: while the stream elects a leader a request gets no answer at
  // all; asking again each second finds the new leader sooner than one
  // long wait would.
  jsOptions wait;
  jsOptions_Init(&wait);
  wait.Wait = wait_ms;
  natsStatus s = js_GetStreamInfo(&info, js, options.stream.c_str(), &wait, &code);
  if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) {
    return absl::NotFoundError(absl::StrCat("no stream ", options.stream));
  }
  if (s != NATS_OK) return NatsError(s, "stream info", code);
  StreamState state;
  state.first_seq = info->State.FirstSeq;
  state.last_seq = info->State.LastSeq;
  state.fingerprint = FingerprintIn(info->Config->Description);
  jsStreamInfo_Destroy(info);
  return state;
}

absl::StatusOr<StreamState> JetStreamLog::Impl::EnsureStream() {
  const std::string description =
      absl::StrCat("optout-registry mutation log; ", kFingerprintLabel, KeyFingerprint(keyring));
  const absl::Time give_up = absl::Now() + kConnectPatience;
  absl::Status last;
  // A cluster that just started has no JetStream leader for a few seconds.
  while (absl::Now() < give_up) {
    if (StopStarting()) return StartupStopped("waiting for the stream");
    absl::StatusOr<StreamState> state = StreamInfo();
    if (state.ok()) return state;
    last = state.status();
    if (!absl::IsNotFound(last) && absl::Now() - last_wait_log > absl::Seconds(2)) {
      // No answer while the stream elects its leader.
      last_wait_log = absl::Now();
      Log(LogLevel::kWarning,
          absl::StrCat("cluster: waiting for the stream's info: ", last.ToString()));
    }
    if (absl::IsNotFound(state.status())) {
      jsStreamConfig config;
      jsStreamConfig_Init(&config);
      const char* subjects[] = {subject.c_str()};
      config.Name = options.stream.c_str();
      config.Description = description.c_str();
      config.Subjects = subjects;
      config.SubjectsLen = 1;
      config.Storage = js_FileStorage;
      config.Replicas = options.replicas;
      config.Retention = js_LimitsPolicy;
      config.Discard = js_DiscardOld;
      config.MaxMsgs = options.max_messages > 0 ? options.max_messages : -1;
      config.Duplicates = int64_t{120} * 1000 * 1000 * 1000;  // 2 min, in ns
      config.DenyDelete = true;  // a single mutation must never vanish
      jsErrCode code = jsErrCode(0);
      jsStreamInfo* created = nullptr;
      natsStatus s = js_AddStream(&created, js, &config, nullptr, &code);
      if (created != nullptr) jsStreamInfo_Destroy(created);
      if (s == NATS_OK) {
        Log(LogLevel::kInfo, absl::StrCat("cluster: created stream ", options.stream, " (",
                                          options.replicas, " replicas, file storage)"));
        continue;  // read it back
      }
      last = NatsError(s, "create stream", code);
      if (code == JSStreamReplicasNotSupportedErr) {
        // A single JetStream server never gains replicas: waiting is futile.
        return absl::FailedPreconditionError(absl::StrCat(
            "cluster: cannot create stream ", options.stream, " with ", options.replicas,
            " replicas: the NATS server is not clustered (JetStream error ",
            static_cast<int>(code), "); give --cluster_replicas=1, or run a NATS cluster of ",
            options.replicas, " JetStream servers"));
      }
      if (absl::Now() - last_wait_log > absl::Seconds(2)) {
        last_wait_log = absl::Now();
        Log(LogLevel::kWarning,
            absl::StrCat("cluster: cannot create stream ", options.stream, " yet (",
                         options.replicas, " replicas; retrying until ",
                         absl::FormatDuration(kConnectPatience), " have passed): ",
                         last.ToString(),
                         code == JSClusterNoPeersErr || code == JSInsufficientResourcesErr
                             ? absl::StrCat(" -- JetStream needs ", options.replicas,
                                            " servers with room for the stream (--cluster_replicas)")
                             : ""));
      }
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return last;
}

absl::Status JetStreamLog::Impl::CheckLocalData(const StreamState& state) {
  if (progress.sequence == 0) {
    bool has_records = false;
    absl::Status scan = store->ForEachRecord([&](absl::string_view, absl::string_view) {
      has_records = true;
      return absl::CancelledError("one is enough");
    });
    if (!scan.ok() && !absl::IsCancelled(scan)) return scan;
    if (has_records) {
      return absl::FailedPreconditionError(
          "cluster: --data_dir holds opt-outs that did not come from the stream; a node joins "
          "with an empty data_dir and fills it from the stream");
    }
  }
  if (progress.sequence > state.last_seq &&
      progress.sequence - state.last_seq <= kDivergedReplicaSlack) {
    // The stream's leader may be a replica with another history (the
    // defect), a few messages shorter than the one this node followed; the
    // consumer keeps to a replica holding what was applied here (Subscribe).
    Log(LogLevel::kWarning,
        absl::StrCat("cluster: this node applied up to ", progress.sequence, " but the stream's "
                     "leader reports ", state.last_seq, " (a replica with another history?); "
                     "following the replicas that hold what was applied here"));
  } else if (progress.sequence > state.last_seq) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster: --data_dir has applied stream sequence ", progress.sequence, " but stream ",
        options.stream, " ends at ", state.last_seq,
        " (stream deleted and made anew?); start this node with an empty data_dir"));
  }
  if (state.first_seq > progress.sequence + 1 && state.last_seq > progress.sequence) {
    absl::Status purged = absl::FailedPreconditionError(absl::StrCat(
        "cluster: this node applied up to ", progress.sequence, " but stream ", options.stream,
        " now starts at ", state.first_seq,
        " (older mutations were purged); start it with --cluster_snapshot_from=<a peer's admin "
        "address> to take a peer's snapshot, or restore a peer's backup (optout-admin backup) "
        "into an empty data_dir"));
    purged.SetPayload(kNeedsSnapshotPayload, absl::Cord("1"));
    return purged;
  }
  return absl::OkStatus();
}

void JetStreamLog::Impl::ExitDiverged(const std::string& where) {
  absl::Status marked = store->PutMeta(kDivergedMarker, where);
  if (!marked.ok()) {
    Log(LogLevel::kError, absl::StrCat("cluster: marking the divergence: ", marked.ToString()));
  }
  std::_Exit(kExitDiverged);
}

void JetStreamLog::Impl::NoteDigest() {
  // Only checkpoints stay; the last applied is replaced by the next.
  if (!my_digests.empty()) {
    auto last = std::prev(my_digests.end());
    if (last->first % kCheckpointEvery != 0) my_digests.erase(last);
  }
  my_digests[progress.sequence] = progress;
  while (my_digests.size() > kCheckpointsKept) my_digests.erase(my_digests.begin());
}

void JetStreamLog::Impl::ReportAndCompare() {
  if (absl::Now() - last_progress_report < absl::Seconds(1) || my_digests.empty()) return;
  last_progress_report = absl::Now();
  const std::string report_subject = absl::StrCat("optout.progress.", options.stream);
  if (progress_subscription == nullptr) {
    auto on_report = [](natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
      std::vector<std::string> parts =
          absl::StrSplit(absl::string_view(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)), ' ');
      natsMsg_Destroy(msg);
      // Runs on the subscription's own thread, which unsubscribing does not
      // wait for: the log may be going away meanwhile.
      absl::MutexLock live(&LiveImpls().mu);
      if (!LiveImpls().impls.contains(closure)) return;
      auto* impl = static_cast<Impl*>(closure);
      if (parts.size() < 3 || parts.size() % 2 != 1 || parts[0] == impl->options.node_name) return;
      absl::MutexLock lock(&impl->peer_mu);
      for (size_t i = 1; i + 1 < parts.size(); i += 2) {
        uint64_t version = 0;
        if (!absl::SimpleAtoi(parts[i], &version)) return;
        impl->peer_reports[version][parts[0]] = parts[i + 1];
      }
      while (impl->peer_reports.size() > 4 * kCheckpointsKept) {
        impl->peer_reports.erase(impl->peer_reports.begin());
      }
    };
    if (natsConnection_Subscribe(&progress_subscription, connection, report_subject.c_str(),
                                 on_report, this) != NATS_OK) {
      progress_subscription = nullptr;
    }
  }
  // "name version hex version hex": the last two checkpoints and the last.
  std::string report = options.node_name;
  int told = 0;
  for (auto it = my_digests.rbegin(); it != my_digests.rend() && told < 3; ++it, ++told) {
    absl::StrAppend(&report, " ", it->first, " ", digest::ToHex(it->second.digest));
  }
  natsConnection_Publish(connection, report_subject.c_str(), report.data(),
                         static_cast<int>(report.size()));
  // The first version not judged yet where a peer reports another digest,
  // and the range to judge (JudgedRangeStart, else the last message).
  std::optional<std::pair<cluster::Progress, cluster::Progress>> range;
  std::string why;
  if (absl::Now() >= next_judgment) {
    absl::MutexLock lock(&peer_mu);
    for (const auto& [version, by_node] : peer_reports) {
      auto mine = my_digests.find(version);
      if (mine == my_digests.end() || judged_versions.contains(version)) continue;
      const std::string my_hex = digest::ToHex(mine->second.digest);
      for (const auto& [node, hex] : by_node) {
        if (hex == my_hex) continue;
        const cluster::Progress& to = mine->second;
        const std::optional<cluster::Progress> start =
            JudgedRangeStart(my_digests, version, peer_reports, node, kMaxJudgedMessages);
        cluster::Progress from;
        if (start.has_value()) {
          from = *start;
        } else if (to.knows_previous) {
          from.sequence = to.sequence - 1;
          from.digest = to.previous_digest;
        } else {
          continue;  // no digest before `to` is known
        }
        if (judged_versions.size() > 4 * kCheckpointsKept) judged_versions.clear();
        judged_versions.insert(version);
        range.emplace(from, to);
        why = absl::StrCat("node ", node, " reports digest ", hex, " at version ", version,
                           ", this node ", my_hex);
        break;
      }
      if (range.has_value()) break;
    }
  }
  if (!range.has_value()) return;
  next_judgment = absl::Now() + kJudgmentSpacing;
  JudgeAgainstLeader(range->first, range->second, why);
}

absl::StatusOr<std::string> JetStreamLog::Impl::LeaderMessage(uint64_t seq) {
  // Not a consumer (JetStream places those on any replica): the stream's
  // leader answers a message get.
  jsOptions wait;
  jsOptions_Init(&wait);
  wait.Wait = 2000;
  natsMsg* msg = nullptr;
  jsErrCode code = jsErrCode(0);
  natsStatus s = js_GetMsg(&msg, js, options.stream.c_str(), seq, &wait, &code);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) {
    if (msg != nullptr) natsMsg_Destroy(msg);
    return absl::NotFoundError(absl::StrCat("no stream message ", seq));
  }
  if (s != NATS_OK || msg == nullptr) {
    if (msg != nullptr) natsMsg_Destroy(msg);
    return NatsError(s, absl::StrCat("read stream message ", seq, " from the leader"), code);
  }
  std::string bytes(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  return bytes;
}

std::vector<internal::Mutation> JetStreamLog::Impl::OpenMessage(absl::string_view data) const {
  std::vector<internal::Mutation> mutations;
  absl::StatusOr<std::string> opened = keyring.record_cipher().Open(data, aad);
  if (opened.ok()) {
    mutations.emplace_back();
    if (!mutations.back().ParseFromString(*opened)) mutations.clear();
  } else if ((opened = keyring.record_cipher().Open(data, batch_aad)).ok()) {
    internal::MutationBatch batch;
    if (batch.ParseFromString(*opened)) {
      for (internal::Mutation& m : *batch.mutable_mutations()) mutations.push_back(std::move(m));
    }
  }
  return mutations;
}

absl::StatusOr<std::vector<std::string>> JetStreamLog::Impl::LeaderIds(uint64_t seq) {
  OPTOUT_ASSIGN_OR_RETURN(std::string bytes, LeaderMessage(seq));
  std::vector<std::string> ids;
  for (const internal::Mutation& m : OpenMessage(bytes)) ids.push_back(m.mutation_id());
  return ids;
}

void JetStreamLog::Impl::KeepAcked(uint64_t seq, const std::vector<internal::Mutation>& mutations) {
  internal::MutationBatch mine;
  {
    absl::MutexLock lock(&mu);
    for (const internal::Mutation& m : mutations) {
      if (waiting.contains(m.mutation_id())) *mine.add_mutations() = m;
    }
  }
  if (mine.mutations_size() == 0) return;
  // In the batch applying this message: durable with its synced write,
  // which the writers wait for.
  absl::StatusOr<std::string> sealed =
      keyring.record_cipher().Seal(mine.SerializeAsString(), acked_aad);
  absl::Status kept = sealed.ok() ? staged->PutMeta(AckedKey(seq), *sealed) : sealed.status();
  if (!kept.ok()) {
    Log(LogLevel::kWarning, absl::StrCat("cluster: keeping acknowledged writes: ", kept.ToString()));
  }
  if (seq < next_acked_prune) return;
  next_acked_prune = seq + 1024;
  if (seq <= kAckedKeptSequences) return;
  const std::string oldest_kept = AckedKey(seq - kAckedKeptSequences);
  std::vector<std::string> old;
  (void)store->ForEachMeta(kAckedPrefix, [&](absl::string_view key, absl::string_view) {
    if (key >= oldest_kept) return absl::CancelledError("the rest are kept");
    old.emplace_back(key);
    return absl::OkStatus();
  });
  // A key is a prefix of no other (fixed width): each deletes itself only.
  for (const std::string& key : old) (void)store->DeleteMetaPrefix(key);
}

absl::Status JetStreamLog::Impl::Rescue() {
  std::map<uint64_t, std::vector<std::string>> acked;
  absl::flat_hash_map<std::string, internal::Mutation> by_id;
  OPTOUT_RETURN_IF_ERROR(store->ForEachMeta(kAckedPrefix, [&](absl::string_view key,
                                                              absl::string_view value) {
    uint64_t seq = 0;
    if (!absl::SimpleHexAtoi(key.substr(kAckedPrefix.size()), &seq)) return absl::OkStatus();
    absl::StatusOr<std::string> opened = keyring.record_cipher().Open(value, acked_aad);
    internal::MutationBatch batch;
    if (!opened.ok() || !batch.ParseFromString(*opened)) return absl::OkStatus();
    for (internal::Mutation& m : *batch.mutable_mutations()) {
      acked[seq].push_back(m.mutation_id());
      by_id[m.mutation_id()] = std::move(m);
    }
    return absl::OkStatus();
  }));
  if (acked.empty()) return absl::OkStatus();
  OPTOUT_ASSIGN_OR_RETURN(StreamState state, StreamInfo());
  OPTOUT_ASSIGN_OR_RETURN(
      std::vector<std::string> missing,
      MissingFromLeader(acked, state.first_seq, kDivergedReplicaSlack,
                        [this](uint64_t seq) { return LeaderIds(seq); }));
  if (missing.empty()) {
    Log(LogLevel::kInfo, absl::StrCat("cluster: the stream's leader holds every write this node "
                                      "acknowledged since sequence ", acked.begin()->first));
    return absl::OkStatus();
  }
  // Appended as new messages: applying a mutation again changes nothing
  // on a node that has it (a held id, a gone record, proofs that no longer
  // are), and the nodes that lack it apply it.
  for (size_t at = 0; at < missing.size(); at += kMaxBatchMutations) {
    internal::MutationBatch batch;
    for (size_t i = at; i < std::min(missing.size(), at + kMaxBatchMutations); ++i) {
      *batch.add_mutations() = by_id[missing[i]];
    }
    OPTOUT_ASSIGN_OR_RETURN(std::string sealed,
                            keyring.record_cipher().Seal(batch.SerializeAsString(), batch_aad));
    const std::string message_id = absl::StrCat("r", digest::ToHex(missing[at]));
    absl::Status last;
    uint64_t sequence = 0;
    for (const absl::Time give_up = absl::Now() + absl::Seconds(30);
         sequence == 0 && absl::Now() < give_up;) {
      jsPubOptions pub;
      jsPubOptions_Init(&pub);
      pub.MsgId = message_id.c_str();
      pub.ExpectStream = options.stream.c_str();
      pub.MaxWait = 2000;
      jsPubAck* ack = nullptr;
      jsErrCode code = jsErrCode(0);
      natsStatus s = js_Publish(&ack, js, subject.c_str(), sealed.data(),
                                static_cast<int>(sealed.size()), &pub, &code);
      if (s == NATS_OK && ack != nullptr) sequence = ack->Sequence;
      if (s != NATS_OK) last = NatsError(s, "re-publish", code);
      if (ack != nullptr) jsPubAck_Destroy(ack);
      if (sequence == 0) absl::SleepFor(absl::Milliseconds(100));
    }
    if (sequence == 0) return last;
    Log(LogLevel::kWarning,
        absl::StrCat("cluster: re-published ", batch.mutations_size(), " write(s) this node "
                     "acknowledged that the stream's leader lacks, as stream message ", sequence));
  }
  return absl::OkStatus();
}

void JetStreamLog::Impl::JudgeAgainstLeader(const cluster::Progress& from,
                                            const cluster::Progress& to, const std::string& why) {
  const LeaderVerdict verdict =
      CompareWithLeader(from, to, [this](uint64_t seq) { return LeaderMessage(seq); },
                        kMaxJudgedMessages);
  const std::string range = absl::StrCat("(", from.sequence, ", ", to.sequence, "]");
  if (verdict == LeaderVerdict::kSame) {
    Log(LogLevel::kWarning,
        absl::StrCat("cluster: ", why, "; the stream's leader serves the messages this node "
                     "applied over ", range, ": staying (the other history is not the stream's)"));
    return;
  }
  if (verdict == LeaderVerdict::kUnknown) {
    Log(LogLevel::kWarning,
        absl::StrCat("cluster: ", why, "; the stream's leader could not be read over ", range,
                     ": staying until it can"));
    return;
  }
  absl::Status rescued = Rescue();
  if (!rescued.ok()) {
    Log(LogLevel::kError,
        absl::StrCat("cluster: ", why, "; this node's messages over ", range, " differ from the "
                     "stream leader's, but the writes it acknowledged could not be checked or "
                     "re-published (", rescued.ToString(), "): staying, so that none is lost"));
    return;
  }
  Log(LogLevel::kError,
      absl::StrCat("cluster: ", why, "; this node's messages over ", range, " differ from the "
                   "stream leader's: its history diverged from the stream's (nats-server 2.9.10 "
                   "defect); exiting so that it restarts and takes a peer's snapshot "
                   "(--cluster_snapshot_from)"));
  ExitDiverged(absl::StrCat(to.sequence));
}

absl::Status JetStreamLog::Impl::CheckNotDiverged() {
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> at, store->GetMeta(kDivergedMarker));
  if (!at.has_value()) return absl::OkStatus();
  absl::Status diverged = absl::FailedPreconditionError(absl::StrCat(
      "cluster: this node's history diverged from stream ", options.stream, "'s at sequence ", *at,
      " (nats-server 2.9.10 defect, README \"Cluster mode\"); start it with "
      "--cluster_snapshot_from=<a peer's admin address> to take a peer's snapshot"));
  diverged.SetPayload(kNeedsSnapshotPayload, absl::Cord("1"));
  return diverged;
}

natsSubscription* JetStreamLog::Impl::NewConsumer(bool* verify) {
  // A consumer of our own rather than the library's ordered one, which
  // silently makes itself anew where it stopped when its server goes: the
  // new one may be placed on any replica, and nats-server 2.9.10 can leave
  // a replica with another history (README "Cluster mode", the defect).
  // Each consumer this node makes starts at the last sequence it applied
  // and is kept only if it serves the same message there (Progress::
  // Follows); one on a replica with another history is dropped and made
  // again (JetStream places it on a random replica).
  *verify = progress.sequence > 0 && progress.knows_previous;
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = options.stream.c_str();
  sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
  sub_options.Config.OptStartSeq = *verify ? progress.sequence : progress.sequence + 1;
  sub_options.Config.AckPolicy = js_AckNone;
  sub_options.Config.FlowControl = true;
  // Missed heartbeats (its server died) reach OnAsyncError: made anew.
  sub_options.Config.Heartbeat = kConsumerHeartbeatNs;
  sub_options.Config.MemoryStorage = true;
  // A consumer this node dropped and could not delete (no meta leader
  // within kConsumerDeleteWaitMs) is removed once nobody listened this long.
  sub_options.Config.InactiveThreshold = int64_t{30} * 1000 * 1000 * 1000;
  jsOptions request;
  jsOptions_Init(&request);
  request.Wait = kConsumerRequestWaitMs;
  jsErrCode code = jsErrCode(0);
  natsSubscription* fresh = nullptr;
  const absl::Time asked = absl::Now();
  natsStatus s =
      js_SubscribeSync(&fresh, consumer_js, subject.c_str(), &request, &sub_options, &code);
  if (s != NATS_OK) {
    // A timeout: no meta leader (electing), or the consumer was placed on
    // a replica whose server is down.
    Log(LogLevel::kWarning,
        absl::StrCat(NatsError(s, "make a consumer of the stream", code).message(), " after ",
                     absl::FormatDuration(absl::Trunc(absl::Now() - asked, absl::Milliseconds(1))),
                     "; next try in ", absl::FormatDuration(consumer_retry)));
    return nullptr;
  }
  // Catch-up may deliver a long run at once; the default limit would drop
  // messages (the consumer would then start over).
  natsSubscription_SetPendingLimits(fresh, -1, 256 << 20);
  return fresh;
}

void JetStreamLog::Impl::Adopt(natsSubscription* fresh, bool verify) {
  DropConsumer();  // none, or one that stalled
  subscription = fresh;
  watched = fresh;
  verifying = verify;
  replace_consumer = false;
  heartbeats_missed = false;
  last_message = absl::Now();
}

void JetStreamLog::Impl::TryConsumer() {
  const absl::Time now = absl::Now();
  if (now < next_consumer_try) {
    // Only without a consumer is there nothing else to do meanwhile.
    if (subscription == nullptr) absl::SleepFor(next_consumer_try - now);
    return;
  }
  bool verify = false;
  natsSubscription* fresh = NewConsumer(&verify);
  if (fresh == nullptr) {
    next_consumer_try = absl::Now() + consumer_retry;
    consumer_retry = std::min(2 * consumer_retry, kMaxConsumerRetry);
    return;
  }
  consumer_retry = kMinConsumerRetry;
  next_consumer_try = absl::InfinitePast();
  Adopt(fresh, verify);
}

void JetStreamLog::Impl::DropConsumer() {
  if (subscription == nullptr) return;
  watched = nullptr;
  // Not natsSubscription_Destroy alone: with messages for it arriving, that
  // freed it under libnats 3.4.1's read loop (heap corruption, "malloc():
  // unaligned fastbin chunk", when replica mismatches re-made consumers
  // every 100 ms); see SubscriptionReaper.
  reaper->Drop(subscription, kReapFlushWaitMs);
  subscription = nullptr;
}

void JetStreamLog::Impl::OnAsyncError(natsConnection*, natsSubscription* sub, natsStatus err,
                                      void* closure) {
  if (err != NATS_MISSED_HEARTBEAT || sub == nullptr) return;
  absl::MutexLock lock(&LiveImpls().mu);
  if (!LiveImpls().impls.contains(closure)) return;
  auto* impl = static_cast<Impl*>(closure);
  if (impl->watched.load() == sub) impl->heartbeats_missed = true;
}

bool JetStreamLog::Impl::ApplyMessage(uint64_t seq, uint64_t pending, absl::string_view data) {
  std::vector<internal::Mutation> mutations = OpenMessage(data);
  if (mutations.empty()) {
    // Never skipped: a node that cannot read a mutation stops applying
    // (its lag grows, GetInfo shows it) rather than diverge.
    Log(LogLevel::kError, absl::StrCat("cluster: stream message ", seq,
                                       " cannot be opened with this node's keys; not applying"));
    return false;
  }
  if (staged == nullptr) staged = store->NewBatch();
  staged->Clear();
  KeepAcked(seq, mutations);
  const cluster::Progress next = progress.Next(seq, data);
  const std::string before = progress.Encode();
  const std::string after = next.Encode();
  // Group commit: while more mutations are on their way (the stream has
  // later ones, or they already wait in this client's queue), the write is
  // not synced by itself; the sync after the last one of the run makes the
  // whole run durable at once (one fsync instead of one per message), and
  // the writers waiting for them are answered only then.
  const bool sync =
      (pending == 0 && LocallyQueued() == 0) || unsynced + 1 >= kMaxUnsyncedMutations;
  std::vector<std::pair<std::string, ApplyOutcome>> outcomes;
  std::vector<std::function<void()>> after_write;
  // Writes what is staged with `value` as the progress, then makes the
  // staged mutations' in-memory changes.
  auto write_staged = [&](const std::string& value, bool sync_now) {
    storage::ProgressMark mark;
    mark.value = value;
    mark.sync = sync_now;
    absl::Status written = store->Write(staged.get(), &mark);
    if (!written.ok()) {
      Log(LogLevel::kError, absl::StrCat("cluster: applying stream message ", seq, ": ",
                                         written.ToString(), "; retrying"));
      return false;
    }
    for (std::function<void()>& change : after_write) {
      if (change) change();
    }
    after_write.clear();
    return true;
  };
  // The mutations that can be staged (registrations) go in one store batch
  // with the progress; the others are applied alone, after what was staged
  // before them. The progress moves only with the message's last write: a
  // node that stops part-way applies the whole message again, which changes
  // nothing twice (an insert of a held id, a revoke of a gone record, a
  // proof change from proofs that no longer are).
  bool progress_written = false;
  for (size_t i = 0; i < mutations.size(); ++i) {
    const bool last = i + 1 == mutations.size();
    absl::StatusOr<std::optional<StagedApply>> staged_apply =
        applier->Stage(mutations[i], staged.get());
    if (staged_apply.ok() && staged_apply->has_value()) {
      outcomes.emplace_back(mutations[i].mutation_id(), (*staged_apply)->outcome);
      after_write.push_back(std::move((*staged_apply)->after_write));
      continue;
    }
    absl::StatusOr<ApplyOutcome> outcome = absl::UnknownError("not applied");
    if (!staged_apply.ok()) {
      outcome = staged_apply.status();
    } else {
      if ((!staged->empty() || !after_write.empty()) && !write_staged(before, false)) return false;
      storage::ProgressMark mark;
      mark.value = last ? after : before;
      mark.sync = last && sync;
      outcome = applier->Apply(mutations[i], &mark);
    }
    if (!outcome.ok()) {
      Log(LogLevel::kError, absl::StrCat("cluster: applying stream message ", seq, ": ",
                                         outcome.status().ToString(), "; retrying"));
      staged->Clear();
      return false;
    }
    outcomes.emplace_back(mutations[i].mutation_id(), *outcome);
    progress_written = last;
  }
  if (!progress_written && !write_staged(after, sync)) return false;
  progress = next;
  NoteDigest();
  for (auto& o : outcomes) unsynced_outcomes.push_back(std::move(o));
  if (sync) {
    unsynced = 0;
    SyncAndPublish();
  } else {
    ++unsynced;
  }
  return true;
}

void JetStreamLog::Impl::SyncAndPublish() {
  if (unsynced > 0) {
    const std::string encoded = progress.Encode();
    storage::ProgressMark mark;
    mark.value = encoded;
    absl::Status synced = store->PutProgress(mark);
    if (!synced.ok()) {
      Log(LogLevel::kError, absl::StrCat("cluster: syncing applied mutations: ", synced.ToString()));
      return;
    }
    unsynced = 0;
  }
  {
    absl::MutexLock lock(&mu);
    for (auto& [id, outcome] : unsynced_outcomes) {
      auto it = waiting.find(id);
      if (it == waiting.end()) continue;
      PublishSlot& slot = *it->second;
      slot.applied = true;
      slot.outcome = outcome;
      if (slot.Complete()) slot.wake.Signal();
    }
    synced_digest_hex = digest::ToHex(progress.digest);
    if (progress.sequence > known_last_seq) known_last_seq = progress.sequence;
  }
  unsynced_outcomes.clear();
  applied.Advance(progress.sequence);
}

void JetStreamLog::Impl::PollStream() {
  last_stream_poll = absl::Now();
  absl::StatusOr<StreamState> state = StreamInfo();
  if (!state.ok()) {
    if (absl::Now() - last_wait_log > absl::Seconds(2)) {
      last_wait_log = absl::Now();
      Log(LogLevel::kWarning,
          absl::StrCat("cluster: polling the stream: ", state.status().ToString()));
    }
    return;
  }
  {
    // The leader's figure replaces the highest seen so far: a consumer on a
    // replica that the nats-server 2.9.10 defect left longer reports a
    // last sequence the stream never reaches, and `version_lag` would
    // show that one message as pending for good.
    absl::MutexLock lock(&mu);
    known_last_seq = state->last_seq;
  }
  if (state->last_seq > progress.sequence && absl::Now() - last_message > kStallTimeout) {
    // Mutations exist that are not arriving: the consumer's server may be
    // gone. A new consumer starts at what was applied.
    if (!replace_consumer) {
      Log(LogLevel::kWarning, absl::StrCat("cluster: stream at ", state->last_seq, ", applied ",
                                           progress.sequence, "; re-creating the consumer"));
    }
    replace_consumer = true;
  }
}

void JetStreamLog::Impl::Run() {
  while (!stopping) {
    if (subscription == nullptr) {
      TryConsumer();
      if (subscription == nullptr) continue;
    }
    natsMsg* msg = nullptr;
    // With applied but unsynced mutations, wait only briefly for the next
    // one of the run before syncing what there is.
    natsStatus s = natsSubscription_NextMsg(&msg, subscription, unsynced > 0 ? 2 : 100);
    if (s == NATS_TIMEOUT) {
      SyncAndPublish();
      if (unsynced == 0) ReportAndCompare();
      if (heartbeats_missed.exchange(false) && !replace_consumer) {
        Log(LogLevel::kWarning, "cluster: the stream's consumer missed its heartbeats (its server "
                                "may be gone); making a new one");
        replace_consumer = true;
      }
      if (replace_consumer) TryConsumer();
      if (absl::Now() - last_stream_poll > absl::Seconds(1)) PollStream();
      if (reaper->held() > 0 && absl::Now() - last_reap > absl::Seconds(1)) {
        last_reap = absl::Now();
        reaper->Reap(kReapFlushWaitMs);
      }
      continue;
    }
    if (s != NATS_OK) {
      // Slow consumer, missed heartbeats, connection trouble: start over
      // after what was applied.
      Log(LogLevel::kWarning, NatsError(s, "reading the stream (re-subscribing)").ToString());
      DropConsumer();
      absl::SleepFor(absl::Milliseconds(100));
      continue;
    }
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {  // not a stream message
      natsMsg_Destroy(msg);
      continue;
    }
    const uint64_t seq = meta->Sequence.Stream;
    const uint64_t pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    last_message = absl::Now();
    NoteKnownLast(seq + pending);
    bool ok = true;
    const absl::string_view data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    if (verifying) {
      verifying = false;
      if (seq == progress.sequence) {
        if (progress.Follows(seq, data)) {
          mismatches_in_a_row = 0;
        } else {
          ++replica_mismatches;
          if (mismatches_in_a_row++ == 0) first_mismatch = absl::Now();
          if (mismatches_in_a_row >= kDivergedTries &&
              absl::Now() - first_mismatch >= kDivergedAfter) {
            // The leader decides (exits only when its message differs too).
            cluster::Progress before;
            before.sequence = progress.sequence - 1;
            before.digest = progress.previous_digest;
            JudgeAgainstLeader(
                before, progress,
                absl::StrCat("the replicas serving this node's consumers held another message at "
                             "sequence ", seq, " (", mismatches_in_a_row, " consumers in a row "
                             "since ", absl::FormatDuration(absl::Now() - first_mismatch), ")"));
            mismatches_in_a_row = 0;
          }
          Log(LogLevel::kWarning,
              absl::StrCat("cluster: the stream replica serving this node's consumer holds another "
                           "message at sequence ", seq, " than the one applied here (a replica "
                           "with another history; nats-server 2.9.10 defect); consumer made anew "
                           "(", replica_mismatches, " so far)"));
          ok = false;
        }
        natsMsg_Destroy(msg);
        if (!ok) {
          DropConsumer();
          absl::SleepFor(absl::Milliseconds(100));
        }
        continue;
      }
    }
    if (seq == progress.sequence + 1) {
      ok = ApplyMessage(seq, pending, data);
    } else if (seq > progress.sequence + 1) {
      Log(LogLevel::kWarning, absl::StrCat("cluster: got stream message ", seq, " after ",
                                           progress.sequence, "; re-subscribing"));
      ok = false;
    }  // else: already applied (a consumer started over)
    natsMsg_Destroy(msg);
    if (!ok) {
      SyncAndPublish();
      DropConsumer();
      absl::SleepFor(absl::Milliseconds(500));
    }
  }
  SyncAndPublish();
}

JetStreamLog::JetStreamLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStreamLog::~JetStreamLog() = default;

absl::StatusOr<std::unique_ptr<JetStreamLog>> JetStreamLog::Start(const ClusterOptions& options,
                                                                  const Keyring& keyring,
                                                                  storage::OptOutStore* store,
                                                                  MutationApplier* applier) {
  if (options.nats_urls.empty()) return absl::InvalidArgumentError("--cluster_nats: no URL");
  if (options.stream.empty() ||
      options.stream.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789-_") != std::string::npos) {
    return absl::InvalidArgumentError(
        "--cluster_stream: letters, digits, '-' and '_' only, not empty");
  }
  if (options.replicas < 1 || options.replicas > 5) {
    return absl::InvalidArgumentError("cluster replicas must be 1..5");
  }
  auto impl = std::make_unique<Impl>(options, keyring, store, applier);
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> stored, store->GetProgress());
  if (stored.has_value()) {
    OPTOUT_ASSIGN_OR_RETURN(impl->progress, cluster::Progress::Decode(*stored));
  }
  impl->applied.Advance(impl->progress.sequence);
  if (impl->progress.sequence > 0) impl->NoteDigest();
  {
    absl::MutexLock lock(&impl->mu);
    impl->synced_digest_hex = digest::ToHex(impl->progress.digest);
    impl->known_last_seq = impl->progress.sequence;
  }
  OPTOUT_RETURN_IF_ERROR(impl->Connect());
  impl->board = std::make_unique<StatusBoard>(impl->connection, options.stream, options.node_name);
  OPTOUT_ASSIGN_OR_RETURN(StreamState state, impl->EnsureStream());
  const std::string mine = KeyFingerprint(keyring);
  if (state.fingerprint != mine) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster: stream ", options.stream, " was written with key fingerprint ",
        state.fingerprint.empty() ? "(none)" : state.fingerprint, ", this node's keys have ", mine,
        ": every node needs the same registry secret (--secret_file)"));
  }
  if (impl->progress.sequence > state.last_seq) {
    // The stream ends before what this node applied (a replica that lost
    // messages leads, or a quorum lost power within JetStream's sync
    // window): what this node acknowledged must not be lost with it.
    absl::Status rescued = impl->Rescue();
    if (!rescued.ok()) {
      Log(LogLevel::kWarning,
          absl::StrCat("cluster: checking this node's acknowledged writes against the stream: ",
                       rescued.ToString()));
    }
  }
  OPTOUT_RETURN_IF_ERROR(impl->CheckLocalData(state));
  OPTOUT_RETURN_IF_ERROR(impl->CheckNotDiverged());
  impl->NoteKnownLast(state.last_seq);
  Log(LogLevel::kInfo, absl::StrCat("cluster: node ", options.node_name, " on stream ",
                                    options.stream, " (", state.last_seq,
                                    " mutations); applied ", impl->progress.sequence,
                                    "; key fingerprint ", mine));
  Impl* raw = impl.get();
  impl->consumer = std::thread([raw] { raw->Run(); });
  for (int i = 0; i < kPublishers; ++i) impl->publishers.emplace_back([raw] { raw->PublishLoop(); });
  // Serve only once caught up with what the stream held at start.
  absl::Time next_progress_log = absl::Now() + absl::Seconds(5);
  while (!impl->applied.Await(state.last_seq, absl::Now() + absl::Milliseconds(250))) {
    if (impl->StopStarting()) return StartupStopped("catching up with the stream");
    if (absl::Now() < next_progress_log) continue;
    next_progress_log = absl::Now() + absl::Seconds(5);
    Log(LogLevel::kInfo, absl::StrCat("cluster: catching up: applied ", impl->applied.Get(),
                                      " of ", state.last_seq));
  }
  return std::unique_ptr<JetStreamLog>(new JetStreamLog(std::move(impl)));
}

void JetStreamLog::Impl::PublishLoop() {
  for (;;) {
    std::vector<Outgoing> batch;
    {
      absl::MutexLock lock(&mu);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return stop_publishing || !outbox.empty();
      };
      mu.Await(absl::Condition(&ready));
      if (stop_publishing) return;  // the waiting writers give up at their deadlines
      size_t bytes = 0;
      while (!outbox.empty() && batch.size() < kMaxBatchMutations && bytes < kMaxBatchBytes) {
        if (!outbox.front().slot->abandoned) {
          bytes += outbox.front().mutation.ByteSizeLong();
          batch.push_back(std::move(outbox.front()));
        }
        outbox.pop_front();
      }
    }
    if (batch.empty()) continue;
    absl::StatusOr<uint64_t> sequence = PublishBatch(batch);
    absl::MutexLock lock(&mu);
    if (sequence.ok() && *sequence > known_last_seq) known_last_seq = *sequence;
    for (Outgoing& o : batch) {
      o.slot->finished = true;
      if (sequence.ok()) {
        o.slot->sequence = *sequence;
      } else {
        o.slot->status = sequence.status();
      }
      if (o.slot->Complete()) o.slot->wake.Signal();
    }
  }
}

absl::StatusOr<uint64_t> JetStreamLog::Impl::PublishBatch(const std::vector<Outgoing>& batch) {
  // One write goes as it always did (nodes of earlier builds read it);
  // several as a MutationBatch. The message id is that of the first
  // mutation, unique to this batch as no mutation is in two.
  std::string plain;
  const std::string* message_aad = &aad;
  if (batch.size() == 1) {
    plain = batch[0].mutation.SerializeAsString();
  } else {
    internal::MutationBatch message;
    for (const Outgoing& o : batch) *message.add_mutations() = o.mutation;
    plain = message.SerializeAsString();
    message_aad = &batch_aad;
  }
  OPTOUT_ASSIGN_OR_RETURN(std::string sealed, keyring.record_cipher().Seal(plain, *message_aad));
  const std::string message_id = absl::StrCat(batch.size() == 1 ? "" : "b",
                                              digest::ToHex(batch[0].mutation.mutation_id()));
  // Re-sent no longer than its writers wait: one that gave up may retry on
  // another node, and its write must not land long after that.
  absl::Time deadline = absl::InfiniteFuture();
  for (const Outgoing& o : batch) deadline = std::min(deadline, o.deadline);
  absl::Status last;
  // Re-sending after a lost answer is safe: the stream drops a message id
  // it has seen within 2 minutes and answers with the first copy's sequence.
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() || stopping) {
      return absl::UnavailableError(absl::StrCat(
          "the cluster's stream did not acknowledge the write in time (", last.message(),
          "); it may still be applied: retry with the same request_id"));
    }
    jsPubOptions pub;
    jsPubOptions_Init(&pub);
    pub.MsgId = message_id.c_str();
    pub.ExpectStream = options.stream.c_str();
    pub.MaxWait = std::max<int64_t>(1, std::min<int64_t>(absl::ToInt64Milliseconds(left), 2000));
    jsPubAck* ack = nullptr;
    jsErrCode code = jsErrCode(0);
    natsStatus s = js_Publish(&ack, js, subject.c_str(), sealed.data(),
                              static_cast<int>(sealed.size()), &pub, &code);
    uint64_t sequence = 0;
    if (s == NATS_OK && ack != nullptr) {
      sequence = ack->Sequence;
    } else {
      last = NatsError(s, "publish", code);
    }
    if (ack != nullptr) jsPubAck_Destroy(ack);
    if (sequence != 0) return sequence;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::StatusOr<Committed> JetStreamLog::Commit(const internal::Mutation& mutation) {
  Impl& impl = *impl_;
  const std::string id = mutation.mutation_id();
  const absl::Time deadline = absl::Now() + impl.options.commit_timeout;
  auto slot = std::make_shared<PublishSlot>();
  absl::MutexLock lock(&impl.mu);
  impl.waiting[id] = slot;
  impl.outbox.push_back(Outgoing{mutation, slot, deadline});
  // A publisher takes it with whatever else waits and records the stream's
  // answer (it gives up on its own at commit_timeout after taking it); the
  // consumer records its synced apply. Both are needed, in either order.
  while (!slot->Complete()) {
    if (slot->wake.WaitWithDeadline(&impl.mu, deadline) && !slot->Complete()) break;
  }
  impl.waiting.erase(id);
  if (!slot->finished) {
    slot->abandoned = true;
    return absl::UnavailableError(
        "the cluster's stream did not acknowledge the write in time; it may still be applied: "
        "retry with the same request_id");
  }
  if (!slot->status.ok()) return slot->status;
  if (!slot->applied) {
    return absl::UnavailableError(absl::StrCat(
        "the write is on the cluster's stream (version ", slot->sequence,
        ") but this node has not applied it yet; it will be: check with min_version ",
        slot->sequence));
  }
  Committed committed;
  committed.version = slot->sequence;
  committed.outcome = slot->outcome;
  return committed;
}

bool JetStreamLog::AwaitApplied(uint64_t version, absl::Time deadline) const {
  return impl_->applied.Await(version, deadline);
}

absl::StatusOr<uint64_t> JetStreamLog::OrderedVersion(absl::Time deadline) const {
  const int64_t wait_ms =
      std::clamp<int64_t>(absl::ToInt64Milliseconds(deadline - absl::Now()), 1, 1000);
  OPTOUT_ASSIGN_OR_RETURN(StreamState state, impl_->StreamInfo(wait_ms));
  return state.last_seq;
}

LogProgress JetStreamLog::Progress() const {
  LogProgress progress;
  progress.applied_version = impl_->applied.Get();
  progress.node_name = impl_->options.node_name;
  absl::MutexLock lock(&impl_->mu);
  progress.digest_hex = impl_->synced_digest_hex;
  progress.lag = impl_->known_last_seq > progress.applied_version
                     ? impl_->known_last_seq - progress.applied_version
                     : 0;
  return progress;
}

void JetStreamLog::ShareStatus(std::function<std::string()> source) {
  impl_->board->Share(std::move(source));
}

std::vector<NodeStatus> JetStreamLog::SharedStatuses() const { return impl_->board->Statuses(); }

bool NeedsSnapshot(const absl::Status& status) {
  return status.GetPayload(kNeedsSnapshotPayload).has_value();
}

}  // namespace optout::service::cluster
