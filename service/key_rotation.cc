#include "service/key_rotation.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/common/base/status_macros.h"
#include "service/log.h"
#include "service/registry_secret.h"

namespace optout::service {
namespace {

// The keyring of `v`: from --secret_file when its check value matches, else
// from the file the state names. `used` receives the secret that matched.
absl::StatusOr<Keyring> KeyringOfVersion(const internal::KeyVersionState& v,
                                         const SecretBytes& secret,
                                         const std::string& secret_file, SecretBytes* used) {
  OPTOUT_ASSIGN_OR_RETURN(Keyring keyring, Keyring::Derive(secret, v.version()));
  if (keyring.check_value() == v.check_value()) {
    *used = secret;
    return keyring;
  }
  if (!v.secret_file().empty() && v.secret_file() != secret_file) {
    OPTOUT_ASSIGN_OR_RETURN(SecretBytes other, ReadRegistrySecret(v.secret_file()));
    absl::StatusOr<Keyring> from_file = Keyring::Derive(other, v.version());
    const bool matches = from_file.ok() && from_file->check_value() == v.check_value();
    if (matches) *used = other;
    other.fill(0);
    if (matches) return *std::move(from_file);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the database is keyed with key version ", v.version(), " of ",
      v.secret_file().empty() ? std::string("another secret")
                              : absl::StrCat("the secret in ", v.secret_file()),
      ", which ", secret_file, " does not hold",
      v.secret_file().empty() ? std::string()
                              : absl::StrCat("; start with --secret_file=", v.secret_file())));
}

// Where the scan is, as a share of the id space (ids are uniform random).
double FractionOf(const std::string& cursor) {
  double fraction = 0, scale = 1.0 / 256;
  for (size_t i = 0; i < cursor.size() && i < 8; ++i, scale /= 256) {
    fraction += static_cast<unsigned char>(cursor[i]) * scale;
  }
  return fraction;
}

std::shared_ptr<const Keyring> Shared(Keyring keyring) {
  return std::make_shared<const Keyring>(std::move(keyring));
}

}  // namespace

absl::StatusOr<KeyVersions> OpenKeyVersions(const storage::OptOutStore& store,
                                            const SecretBytes& secret,
                                            const std::string& secret_file) {
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store.GetMeta(kKeyStateKey));
  internal::KeyState state;
  if (bytes.has_value() && !state.ParseFromString(*bytes)) {
    return absl::DataLossError("stored key state does not parse");
  }
  if (!bytes.has_value()) {
    // Never rotated: version 1 of --secret_file (a wrong secret shows when
    // the records fail to open).
    OPTOUT_ASSIGN_OR_RETURN(Keyring v1, Keyring::Derive(secret, Keyring::kKeyVersion));
    state.mutable_current()->set_version(v1.version());
    state.mutable_current()->set_check_value(v1.check_value());
    Keyring api_keys = v1;
    return KeyVersions{KeySet{Shared(std::move(v1)), nullptr}, std::move(api_keys),
                       std::move(state)};
  }
  SecretBytes current_secret{}, previous_secret{};
  OPTOUT_ASSIGN_OR_RETURN(Keyring current,
                          KeyringOfVersion(state.current(), secret, secret_file, &current_secret));
  OPTOUT_ASSIGN_OR_RETURN(Keyring api_keys, Keyring::Derive(current_secret, Keyring::kKeyVersion));
  current_secret.fill(0);
  KeySet keys{Shared(std::move(current)), nullptr};
  if (state.has_previous()) {
    OPTOUT_ASSIGN_OR_RETURN(
        Keyring previous, KeyringOfVersion(state.previous(), secret, secret_file, &previous_secret));
    previous_secret.fill(0);
    keys.previous = Shared(std::move(previous));
  }
  return KeyVersions{std::move(keys), std::move(api_keys), std::move(state)};
}

KeyRotation::KeyRotation(storage::OptOutStore* store, Registry* registry,
                         const KeyVersions& versions, std::string secret_file, Options options)
    : store_(store),
      registry_(registry),
      secret_file_(std::move(secret_file)),
      options_(options),
      state_(versions.state) {}

KeyRotation::~KeyRotation() { Stop(); }

absl::StatusOr<RotationProgress> KeyRotation::Start(const std::string& new_secret_file,
                                                    size_t api_key_count) {
  if (options_.ordered_by_log) return StartInOrder(new_secret_file);
  absl::MutexLock lock(&mu_);
  if (state_.has_previous()) {
    if (!new_secret_file.empty() && new_secret_file != state_.current().secret_file()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "new_secret_file: a rotation to key version ", state_.current().version(),
          " is under way; let it finish (rotate-keys without a new secret resumes it)"));
    }
    if (!running_) StartWorkerLocked();
    return StatusLocked();
  }
  const internal::KeyVersionState& now = state_.current();
  SecretBytes secret{};
  if (new_secret_file.empty()) {
    // The next version of the secret in use, read again from its file: no
    // secret stays in memory between rotations.
    const std::string& path = now.secret_file().empty() ? secret_file_ : now.secret_file();
    OPTOUT_ASSIGN_OR_RETURN(secret, ReadRegistrySecret(path));
    OPTOUT_ASSIGN_OR_RETURN(Keyring check, Keyring::Derive(secret, now.version()));
    if (check.check_value() != now.check_value()) {
      secret.fill(0);
      return absl::FailedPreconditionError(
          absl::StrCat(path, " no longer holds the secret of key version ", now.version()));
    }
  } else {
    if (new_secret_file.front() != '/') {
      return absl::InvalidArgumentError("new_secret_file: must be an absolute path");
    }
    if (api_key_count > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "new_secret_file: ", api_key_count,
          " API keys exist; they are stored as keyed hashes of the current secret and cannot "
          "move to a new one: revoke them (optout-admin keys revoke), rotate, then create new "
          "ones"));
    }
    OPTOUT_ASSIGN_OR_RETURN(secret, LoadOrCreateRegistrySecret(new_secret_file));
    OPTOUT_ASSIGN_OR_RETURN(Keyring same, Keyring::Derive(secret, now.version()));
    if (same.check_value() == now.check_value()) {
      secret.fill(0);
      return absl::FailedPreconditionError(
          absl::StrCat("new_secret_file: ", new_secret_file, " holds the secret in use"));
    }
  }
  absl::StatusOr<Keyring> next = Keyring::Derive(secret, now.version() + 1);
  secret.fill(0);
  OPTOUT_RETURN_IF_ERROR(next.status());

  internal::KeyState rotating = state_;
  *rotating.mutable_previous() = now;
  internal::KeyVersionState* target = rotating.mutable_current();
  target->set_version(next->version());
  target->set_check_value(next->check_value());
  if (!new_secret_file.empty()) target->set_secret_file(new_secret_file);
  rotating.clear_rotation_cursor();
  rotating.set_rotation_rekeyed(0);
  rotating.set_rotation_started_unix_seconds(absl::ToUnixSeconds(absl::Now()));
  rotating.set_rotation_finished_unix_seconds(0);
  // Durable before any record of the new version can exist, so a restart
  // always knows both versions.
  OPTOUT_RETURN_IF_ERROR(store_->PutMeta(kKeyStateKey, rotating.SerializeAsString()));
  state_ = std::move(rotating);
  error_.clear();
  registry_->SwitchKeySet(KeySet{Shared(*std::move(next)), registry_->key_set()->current});
  Log(LogLevel::kInfo, absl::StrCat("key rotation to version ", state_.current().version(),
                                    " started (", registry_->opt_out_count(), " opt-outs)"));
  StartWorkerLocked();
  return StatusLocked();
}

void KeyRotation::ResumeIfPending() {
  absl::MutexLock lock(&mu_);
  live_ = true;
  if (!state_.has_previous() || running_) return;
  Log(LogLevel::kInfo, absl::StrCat("key rotation to version ", state_.current().version(),
                                    " resumes at ", static_cast<int>(FractionOf(state_.rotation_cursor()) * 100),
                                    "%"));
  StartWorkerLocked();
}

void KeyRotation::StartWorkerLocked() {
  if (worker_.joinable()) worker_.join();  // a finished run; it no longer needs mu_
  running_ = true;
  error_.clear();
  run_started_ = absl::Now();
  rekeyed_at_run_start_ = state_.rotation_rekeyed();
  stop_ = std::make_unique<absl::Notification>();
  worker_ = std::thread([this] { options_.ordered_by_log ? RunInOrder() : Run(); });
}

void KeyRotation::Stop() {
  std::thread worker;
  {
    absl::MutexLock lock(&mu_);
    live_ = false;
    if (stop_ != nullptr && !stop_->HasBeenNotified()) stop_->Notify();
    worker = std::move(worker_);
  }
  if (worker.joinable()) worker.join();
}

absl::StatusOr<Registry::RekeyStep> KeyRotation::NextBatch(const std::string& cursor) {
  auto progress = [this](const std::string& at, size_t rekeyed) {
    absl::MutexLock lock(&mu_);
    internal::KeyState next = state_;
    next.set_rotation_cursor(at);
    next.set_rotation_rekeyed(next.rotation_rekeyed() + rekeyed);
    return next.SerializeAsString();
  };
  absl::StatusOr<Registry::RekeyStep> step =
      registry_->RekeyBatch(cursor, options_.batch_records, kKeyStateKey, progress);
  if (step.ok()) {
    absl::MutexLock lock(&mu_);
    state_.set_rotation_cursor(step->cursor);
    state_.set_rotation_rekeyed(state_.rotation_rekeyed() + step->rekeyed);
  }
  return step;
}

internal::KeyState KeyRotation::FinishedState() {
  // What else was sealed under the old version moves first, while the
  // registry still holds it.
  if (options_.before_forgetting_old_version) {
    const absl::Status moved = options_.before_forgetting_old_version();
    if (!moved.ok()) {
      Log(LogLevel::kWarning, absl::StrCat("key rotation: what else was sealed under the old "
                                           "version stays there: ", moved.message()));
    }
  }
  internal::KeyState finished;
  {
    absl::MutexLock lock(&mu_);
    finished = state_;
  }
  finished.clear_previous();
  finished.clear_rotation_cursor();
  finished.set_rotation_finished_unix_seconds(absl::ToUnixSeconds(absl::Now()));
  return finished;
}

void KeyRotation::Run() {
  absl::Notification* stop = nullptr;
  std::string cursor;
  {
    absl::MutexLock lock(&mu_);
    stop = stop_.get();
    cursor = state_.rotation_cursor();
  }
  auto fail = [this](const absl::Status& status) {
    Log(LogLevel::kError, absl::StrCat("key rotation stopped: ", status.ToString(),
                                       "; optout-admin rotate-keys resumes it"));
    absl::MutexLock lock(&mu_);
    error_ = std::string(status.message());
    running_ = false;
  };
  bool done = false;
  while (!done && !stop->HasBeenNotified()) {
    absl::StatusOr<Registry::RekeyStep> step = NextBatch(cursor);
    if (!step.ok()) return fail(step.status());
    cursor = step->cursor;
    done = step->done;
    if (!done && options_.pause_between_batches > absl::ZeroDuration()) {
      stop->WaitForNotificationWithTimeout(options_.pause_between_batches);
    }
  }
  if (!done) {
    absl::MutexLock lock(&mu_);
    running_ = false;
    return;
  }
  // Every record is of the new version (registrations have used it since
  // the switch): drop the old one, durably first.
  internal::KeyState finished = FinishedState();
  absl::Status saved = store_->PutMeta(kKeyStateKey, finished.SerializeAsString());
  if (!saved.ok()) return fail(saved);
  registry_->SwitchKeySet(KeySet{registry_->key_set()->current, nullptr});
  Log(LogLevel::kInfo, absl::StrCat("key rotation to version ", finished.current().version(),
                                    " done: ", finished.rotation_rekeyed(),
                                    " records re-keyed; the old version is erased"));
  absl::MutexLock lock(&mu_);
  state_ = std::move(finished);
  running_ = false;
}

RotationProgress KeyRotation::Status() const {
  absl::MutexLock lock(&mu_);
  return StatusLocked();
}

RotationProgress KeyRotation::StatusLocked() const {
  RotationProgress p;
  const bool rotating = state_.has_previous();
  p.state = running_ && rotating                   ? RotationProgress::State::kRunning
            : rotating                             ? RotationProgress::State::kFailed
            : state_.rotation_finished_unix_seconds() != 0 ? RotationProgress::State::kDone
                                                   : RotationProgress::State::kIdle;
  p.to_version = state_.current().version();
  p.from_version = rotating ? state_.previous().version()
                   : p.state == RotationProgress::State::kDone ? p.to_version - 1
                                                               : 0;
  p.secret_file = state_.current().secret_file();
  p.rekeyed = state_.rotation_rekeyed();
  p.fraction_done = rotating ? (scanned_ ? 1.0 : FractionOf(state_.rotation_cursor()))
                    : p.state == RotationProgress::State::kDone ? 1.0
                                                                : 0.0;
  p.opt_outs = registry_->opt_out_count();
  p.started_unix_seconds = state_.rotation_started_unix_seconds();
  p.finished_unix_seconds = state_.rotation_finished_unix_seconds();
  if (p.state == RotationProgress::State::kFailed) {
    p.error = error_.empty() ? "stopped; rotate-keys resumes it" : error_;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - run_started_);
  if (running_ && seconds > 0) {
    p.records_per_second = static_cast<double>(p.rekeyed - rekeyed_at_run_start_) / seconds;
  } else if (p.state == RotationProgress::State::kDone &&
             p.finished_unix_seconds > p.started_unix_seconds) {
    // Whole seconds, over every run of it (restarts included).
    p.records_per_second = static_cast<double>(p.rekeyed) /
                           static_cast<double>(p.finished_unix_seconds - p.started_unix_seconds);
  }
  return p;
}

}  // namespace optout::service
