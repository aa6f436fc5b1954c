// File: client/common/protocol/pdq_quality.h
//
// The PDQ quality floor: hashes of flat or tiny images (quality below the
// floor) match unrelated images, so the server refuses them and clients fall
// back to file digests for such images. The server reports its floor in
// GetInfoResponse.min_pdq_quality; this is the default on both sides.
#ifndef OPTOUT_CLIENT_COMMON_PROTOCOL_PDQ_QUALITY_H_
#define OPTOUT_CLIENT_COMMON_PROTOCOL_PDQ_QUALITY_H_

#include "optout/v1/optout.pb.h"

namespace optout::protocol {

// optoutd's --min_pdq_quality default, on the 0..100 PDQ quality scale.
inline constexpr int kDefaultMinPdqQuality = 50;

// The floor a client applies before sending a hash: the server's, or the
// default when the server does not report one (0).
inline int MinPdqQuality(const v1::GetInfoResponse& info) {
  return info.min_pdq_quality() > 0 ? info.min_pdq_quality() : kDefaultMinPdqQuality;
}

}  // namespace optout::protocol

#endif  // OPTOUT_CLIENT_COMMON_PROTOCOL_PDQ_QUALITY_H_
