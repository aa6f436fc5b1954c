// File: client/cli/scope_status.h
//
// How `optout register`, `get` and `verify` show host and directory scopes,
// which match nothing until their host is proven (issue 10): the challenge
// to publish, and each scope's state.
#ifndef OPTOUT_CLIENT_CLI_SCOPE_STATUS_H_
#define OPTOUT_CLIENT_CLI_SCOPE_STATUS_H_

#include <ostream>
#include <string>

#include "google/protobuf/repeated_field.h"
#include "nlohmann/json.hpp"
#include "optout/v1/optout.pb.h"

namespace optout::cli {

// "pending", "verified", "lapsed", "expired".
std::string ScopeStateName(v1::ScopeState state);

// The receipt's "challenge" object: the token and, per scope, where to
// publish it. Empty object when there are no scopes.
nlohmann::ordered_json ChallengeJson(
    const std::string& token, const google::protobuf::RepeatedPtrField<v1::ScopeStatus>& scopes);

// Each scope as JSON ({"index", "host", "state", ...}).
nlohmann::ordered_json ScopeStatusesJson(
    const google::protobuf::RepeatedPtrField<v1::ScopeStatus>& scopes);

// One line per scope: "scope 0 photos.example: pending until 2026-12-08 (...)".
void PrintScopeStatuses(const google::protobuf::RepeatedPtrField<v1::ScopeStatus>& scopes,
                        std::ostream& out);

// What to publish, after `optout register`, for scopes to match.
void PrintChallenge(const std::string& token,
                    const google::protobuf::RepeatedPtrField<v1::ScopeStatus>& scopes,
                    std::ostream& out);

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_SCOPE_STATUS_H_
