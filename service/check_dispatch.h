// File: service/check_dispatch.h
//
// How a check call reaches the core (gRPC adapter side): its work units
// decide whether it runs inline or on CheckWorkers, and InterruptOf turns the
// call's cancellation and deadline into the CheckInterrupt that the core asks
// between chunks.
#ifndef OPTOUT_SERVICE_CHECK_DISPATCH_H_
#define OPTOUT_SERVICE_CHECK_DISPATCH_H_

#include <chrono>
#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "optout/v1/optout.pb.h"
#include "service/check_access.h"
#include "service/checker.h"

namespace optout::service {

// Checks of at most this many work units run on the gRPC thread: their cost
// is a few microseconds, below that of handing them to a worker thread.
constexpr size_t kInlineCheckItems = 8;

// Typed items plus 32-byte units of packed data (one per URL expression
// digest, PDQ hash or variant, or file digest).
size_t CheckWorkUnits(const v1::CheckRequest& request);

// Cancelled once the client cancels (or the connection breaks),
// DeadlineExceeded once the call's deadline passed, or `early` before it
// (so that an answer such as min_version's UNAVAILABLE still reaches the
// client in time). `context` must outlive the check.
CheckInterrupt InterruptOf(const grpc::ServerContextBase* context,
                           std::chrono::milliseconds early = std::chrono::milliseconds(0));

// Who calls: the API key of the call's `authorization: Bearer KEY` metadata
// (or that it had another kind of authorization) and its peer.
Caller CallerOf(const grpc::ServerContextBase* context);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECK_DISPATCH_H_
