// File: client/common/protocol/packed_items.h
//
// Layout of optout.v1.PackedItems (see its comments in optout.proto): the
// bytes per item of each kind and how many items a group carries. Clients
// use these to build groups, the server to validate and answer them.
// Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_COMMON_PROTOCOL_PACKED_ITEMS_H_
#define OPTOUT_CLIENT_COMMON_PROTOCOL_PACKED_ITEMS_H_

#include <cstddef>

#include "optout/v1/optout.pb.h"

namespace optout::protocol {

// Sizes of the fixed-size wire fields, in bytes.
inline constexpr size_t kUrlDigestBytes = 32;  // SHA-256 of a lookup expression
inline constexpr size_t kSha256Bytes = 32;
inline constexpr size_t kMd5Bytes = 16;
inline constexpr size_t kPdqBytes = 32;
// A PDQ item with `pdq_dihedral` is its hash followed by this many variants.
inline constexpr int kDihedralVariants = 8;
inline constexpr size_t kPdqDihedralItemBytes = (1 + kDihedralVariants) * kPdqBytes;

// Region hashes a packed PDQ item may carry (`counts[i]`), and a check's
// PdqHash.regions: the checking client sends at most 4 (client/pdq/
// match_regions.h); the cap bounds the searches one item buys.
inline constexpr int kMaxCheckRegionsPerPdq = 8;

// Bytes per item of a packed group: 16 for MD5, 9 × 32 for PDQ with
// dihedral, otherwise 32 (for URL digests: per digest, see PackedItemCount;
// for PDQ with counts: before its region hashes).
size_t PackedItemBytes(const v1::PackedItems& packed);

// Number of items the group carries: `counts_size()` for URL digests or PDQ
// with counts, otherwise data size / PackedItemBytes. Meaningful only for a
// group whose data fits its counts (the server validates).
size_t PackedItemCount(const v1::PackedItems& packed);

}  // namespace optout::protocol

#endif  // OPTOUT_CLIENT_COMMON_PROTOCOL_PACKED_ITEMS_H_
