// File: client/registry_client.h
//
// RegistryClient: typed calls to an optoutd over one gRPC channel, returning
// absl::StatusOr with the server's status code and message.
//
// Thread-safety: all methods may be called concurrently (gRPC stubs are).
#ifndef OPTOUT_CLIENT_REGISTRY_CLIENT_H_
#define OPTOUT_CLIENT_REGISTRY_CLIENT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/channel.h"
#include "optout/v1/optout.grpc.pb.h"

namespace optout::client {

struct ClientOptions {
  // Deadline of each unary call, and the longest a stream step (opening,
  // sending a batch, waiting for its answer) may block: a stopped or
  // unreachable server fails the call instead of hanging. Default: 30 s.
  absl::Duration timeout = absl::Seconds(30);
  // Largest message sent or received. Default: 64 MiB (matches optoutd).
  int max_message_bytes = 64 << 20;
  // Plaintext unless enabled (see client/channel.h). Default: plaintext.
  TlsOptions tls;
  // API key sent as `authorization: Bearer KEY` on every call; empty: none
  // (checks then use the small anonymous budget of the caller's address).
  std::string api_key;
};

// gRPC status -> absl status, same code and message; a google.rpc.RetryInfo
// error detail is kept (see RetryDelayOf).
absl::Status FromGrpcStatus(const grpc::Status& status);
// How long the server asked to wait before retrying (RESOURCE_EXHAUSTED over
// a budget), when it said so.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

// Tags a check call (Check or CheckStream) with a check session: metadata
// `optout-session` and, for part > 0, `optout-session-part`. Nothing for an
// empty id.
void TagCheckSession(grpc::ClientContext* context, const std::string& session_id,
                     uint32_t part = 0);

class RegistryClient final {
 public:
  // `target` is HOST:PORT. The channel connects lazily; the first call
  // reports Unavailable if nothing listens there.
  static std::unique_ptr<RegistryClient> Create(const std::string& target,
                                                const ClientOptions& options = {});

  absl::StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request);
  absl::StatusOr<v1::GetResponse> Get(const std::string& opt_out_id,
                                      const std::string& manage_token);
  // `version` (optional) receives the registry version of the revocation.
  // `min_version`: RevokeRequest.min_version (0: none).
  absl::Status Revoke(const std::string& opt_out_id, const std::string& manage_token,
                      uint64_t* version = nullptr, uint64_t min_version = 0);
  // Asks the registry to check the challenges of the opt-out's pending and
  // lapsed scopes now (issue 10).
  absl::StatusOr<v1::VerifyResponse> Verify(const std::string& opt_out_id,
                                            const std::string& manage_token);
  absl::StatusOr<v1::CheckResponse> Check(const v1::CheckRequest& request);
  absl::StatusOr<v1::GetInfoResponse> GetInfo();
  // Check sessions (issue 14): the checks of calls tagged with the session
  // (TagCheckSession) are counted and digested by the registry, which signs
  // a receipt over them on Close. Unimplemented on registries without them.
  absl::StatusOr<v1::OpenCheckSessionResponse> OpenCheckSession();
  absl::StatusOr<v1::CheckReceipt> CloseCheckSession(const std::string& session_id);
  // The server's Public Suffix List; see client/psl_sync.h, which uses it.
  absl::StatusOr<v1::GetPublicSuffixListResponse> GetPublicSuffixList();

  v1::Check::Stub& check_stub() { return *check_; }
  // Adds the API key (if any) to a context of a call made on a stub directly.
  void AddCredentials(grpc::ClientContext* context) const;
  const ClientOptions& options() const { return options_; }

 private:
  RegistryClient(std::shared_ptr<grpc::Channel> channel, const ClientOptions& options);
  // Sets the per-call deadline and the API key.
  void SetDeadline(grpc::ClientContext* context) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Registry::Stub> registry_;
  std::unique_ptr<v1::Check::Stub> check_;
  ClientOptions options_;
};

}  // namespace optout::client

#endif  // OPTOUT_CLIENT_REGISTRY_CLIENT_H_
