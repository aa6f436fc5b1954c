#include "service/check_dispatch.h"

#include <chrono>
#include <memory>
#include <vector>

#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"

#include "absl/strings/strip.h"

namespace optout::service {

size_t CheckWorkUnits(const v1::CheckRequest& request) {
  size_t n = request.items_size();
  for (const auto& packed : request.packed()) n += packed.data().size() / 32;
  return n;
}

CheckInterrupt InterruptOf(const grpc::ServerContextBase* context,
                           std::chrono::milliseconds early) {
  const auto deadline = context->deadline() - early;
  return [context, deadline]() -> absl::Status {
    // Safe from any thread for callback calls: reads an atomic flag.
    if (context->IsCancelled()) return absl::CancelledError("check cancelled by the client");
    if (std::chrono::system_clock::now() > deadline) {
      return absl::DeadlineExceededError("check stopped at the call's deadline");
    }
    return absl::OkStatus();
  };
}

Caller CallerOf(const grpc::ServerContextBase* context) {
  Caller caller;
  caller.peer = context->peer();
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    // Without a bearer key, a client certificate may stand for one. gRPC
    // reports a subject only for a certificate the handshake verified
    // against --tls_client_ca_file (REQUIRE_AND_VERIFY).
    const std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
    if (auth != nullptr && auth->IsPeerAuthenticated()) {
      const std::vector<grpc::string_ref> subject =
          auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
      if (!subject.empty()) caller.cert_subject.assign(subject[0].data(), subject[0].size());
    }
    return caller;
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ") || value.empty()) {
    caller.malformed_authorization = true;
  } else {
    caller.bearer = std::string(value);
  }
  return caller;
}

}  // namespace optout::service
