// File: client/pdq/image_hasher.h
//
// Hashes an image file the way the reference PDQ file hasher does
// (README.md): decode (JPEG, PNG, WebP), pre-scale to 512x512 when larger,
// PDQ hash + quality (+ the 8 dihedral variants), plus SHA-256 and MD5 of the
// file bytes. The image itself never leaves this process.
//
// Thread-safe: no global mutable state; call from any number of threads.
// Memory per call is bounded by HashOptions (see decode_limits.h).
#ifndef OPTOUT_CLIENT_PDQ_IMAGE_HASHER_H_
#define OPTOUT_CLIENT_PDQ_IMAGE_HASHER_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/pdq/match_regions.h"
#include "client/pdq/pdq_hash.h"

namespace optout::pdq {

struct ImageHashes {
  PdqHash pdq;
  int quality = 0;  // 0..100; the registry refuses hashes of quality < 50
  // Filled only with HashOptions::dihedral, in the order of
  // README.md#dihedral-variants: orig, rot90, rot180, rot270, flipX, flipY,
  // flipPlus1, flipMinus1 (indices: DihedralIndex in pdq_hasher.h).
  std::array<PdqHash, 8> dihedral{};
  std::array<uint8_t, 32> sha256{};  // of the file bytes
  std::array<uint8_t, 16> md5{};     // of the file bytes
  int width = 0;                     // decoded size, before the pre-scale
  int height = 0;
  // Filled only with HashOptions::regions (match_regions.h).
  std::vector<RegionHash> regions;
  // Filled only with HashOptions::verification: the verification hash of
  // the whole image (match_regions.h) and, in the order of `dihedral`, its
  // 8 dihedral variants ([0] goes with `pdq`); each region's is then in
  // RegionHash::verification.
  std::array<PdqHash, 8> verification{};
};

// Which region hashes to add (match_regions.h).
enum class RegionSet {
  kNone,
  kOwner,    // registering: trimmed image and the fixed windows (<= 63)
  kChecker,  // checking: borders and caption bars trimmed (<= 2)
};

struct HashOptions {
  // Also compute the 8 dihedral hashes. Default: false.
  bool dihedral = false;
  // Also hash regions of the image. Default: none.
  RegionSet regions = RegionSet::kNone;
  // Region hashes below this quality are left out. Default: 50 (the
  // registry's default minimum).
  int min_region_quality = 50;
  // Also compute verification hashes (match_regions.h) of the image and of
  // each region. Default: false.
  bool verification = false;
  // Largest width * height decoded, in pixels; larger images are refused from
  // their header, before decoding. Default: 100,000,000 (100 MP).
  int64_t max_pixels = 100'000'000;
  // Largest file HashImageFile reads, in bytes. Default: 512 MiB.
  int64_t max_file_bytes = int64_t{512} << 20;
};

// Hashes an in-memory image file.
// Errors (never an all-zero hash reported as success):
//   InvalidArgument   empty, not an image, corrupt, truncated, smaller than
//                     5 px on a side (after the pre-scale, as the reference),
//                     or without any detail (the hash would be all zero);
//   Unimplemented     a recognised but unsupported format (BMP, PSD, ...);
//   ResourceExhausted more than max_pixels pixels.
absl::StatusOr<ImageHashes> HashImageBytes(absl::string_view file_bytes,
                                           const HashOptions& options = {});

// Reads `path` and hashes it. Every error message starts with "<path>: ".
// Adds NotFound / PermissionDenied / Unavailable for I/O failures and
// ResourceExhausted for files above max_file_bytes.
absl::StatusOr<ImageHashes> HashImageFile(const std::string& path,
                                          const HashOptions& options = {});

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_IMAGE_HASHER_H_
