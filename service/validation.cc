#include "service/validation.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/common/protocol/packed_items.h"

namespace optout::service {
namespace {

using protocol::kDihedralVariants;
using protocol::kMaxCheckRegionsPerPdq;
using protocol::kMd5Bytes;
using protocol::kPdqBytes;
using protocol::kSha256Bytes;
using protocol::kUrlDigestBytes;
using protocol::PackedItemBytes;
using protocol::PackedItemCount;

constexpr size_t kMaxRequestIdBytes = 128;
constexpr size_t kMaxExpressionsPerUrl = 64;
// One person's images; also keeps PDQ entry handles within their 16 bits
// (MatchIndex) whatever --max_batch_items is set to.
constexpr int kMaxPdqPerRegistration = 4096;
// Region hashes per image (plus its own hash: 64 stored hashes at most), and
// the images that may carry them (both fit MatchIndex's entry packing).
constexpr int kMaxRegionsPerPdq = 63;
constexpr int kMaxPdqWithRegions = 512;

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string At(absl::string_view name, size_t i) { return absl::StrCat(name, "[", i, "]"); }

}  // namespace

absl::Status ValidateDigest(absl::string_view field, absl::string_view digest, size_t size) {
  if (digest.size() != size) {
    return Invalid(field, absl::StrCat("must be ", size, " bytes, got ", digest.size()));
  }
  return absl::OkStatus();
}

namespace {

int PdqPopcount(absl::string_view hash32) {
  int popcount = 0;
  for (size_t i = 0; i < kPdqBytes; i += 8) {
    uint64_t word;
    std::memcpy(&word, hash32.data() + i, sizeof(word));
    popcount += __builtin_popcountll(word);
  }
  return popcount;
}

bool PdqPopcountOk(absl::string_view hash32) {
  const int popcount = PdqPopcount(hash32);
  return popcount >= kMinPdqPopcount && popcount <= kMaxPdqPopcount;
}

}  // namespace

absl::Status ValidatePdqBytes(absl::string_view field, absl::string_view hash) {
  OPTOUT_RETURN_IF_ERROR(ValidateDigest(field, hash, kPdqBytes));
  if (!PdqPopcountOk(hash)) {
    const int popcount = PdqPopcount(hash);
    return Invalid(field, absl::StrCat(popcount, " of 256 bits set, outside the limit ",
                                       kMinPdqPopcount, "..", kMaxPdqPopcount,
                                       ": a real PDQ hash sets about half its bits"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  if (request_id.empty()) return absl::OkStatus();
  if (request_id.size() > kMaxRequestIdBytes) {
    return Invalid("request_id", absl::StrCat("longer than ", kMaxRequestIdBytes, " bytes"));
  }
  bool all_hex = true;
  for (char c : request_id) {
    const bool hex = absl::ascii_isxdigit(static_cast<unsigned char>(c));
    if (!hex && !absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return Invalid("request_id", "only base64url characters (A-Z a-z 0-9 - _) are allowed");
    }
    all_hex = all_hex && hex;
  }
  const size_t needed = all_hex ? kMinRequestIdHexChars : kMinRequestIdBase64Chars;
  if (request_id.size() < needed) {
    // The id itself is a secret: only its length is echoed.
    return Invalid("request_id",
                   absl::StrCat(request_id.size(), " characters is too short: it must carry at "
                                "least 128 bits of randomness, ", kMinRequestIdBase64Chars,
                                "+ base64url characters or ", kMinRequestIdHexChars,
                                "+ hex digits"));
  }
  return absl::OkStatus();
}

absl::Status ValidatePdqHash(absl::string_view field, const v1::PdqHash& pdq,
                             const RegistryOptions& options, bool for_registration) {
  // A check's regions are searched like its dihedral variants, and the item
  // counts once against quotas: the cap keeps the work per item bounded.
  if (!for_registration && pdq.regions_size() > kMaxCheckRegionsPerPdq) {
    return Invalid(absl::StrCat(field, ".regions"),
                   absl::StrCat("too many region hashes: ", pdq.regions_size(), " > limit ",
                                kMaxCheckRegionsPerPdq, " per checked image"));
  }
  OPTOUT_RETURN_IF_ERROR(ValidatePdqBytes(absl::StrCat(field, ".hash"), pdq.hash()));
  if (for_registration && !pdq.has_quality()) {
    return Invalid(absl::StrCat(field, ".quality"),
                   "required on registration: the PDQ quality the hasher reported (0..100)");
  }
  // Quality floor..min-1 is the low-quality tier (matched at a stricter
  // distance); below the floor, hashes of flat images match each other.
  const int floor = LowestPdqQuality(options);
  if (pdq.has_quality() && (pdq.quality() < floor || pdq.quality() > 100)) {
    return Invalid(absl::StrCat(field, ".quality"),
                   absl::StrCat("quality ", pdq.quality(), " is outside ", floor,
                                "..100: the image is too flat or small to match reliably"));
  }
  if (pdq.dihedral_size() != 0) {
    if (for_registration) {
      return Invalid(absl::StrCat(field, ".dihedral"),
                     "not accepted here; register each variant as its own hash");
    }
    if (pdq.dihedral_size() != kDihedralVariants) {
      return Invalid(absl::StrCat(field, ".dihedral"),
                     absl::StrCat("must hold 0 or ", kDihedralVariants, " hashes, got ",
                                  pdq.dihedral_size()));
    }
    for (int i = 0; i < pdq.dihedral_size(); ++i) {
      OPTOUT_RETURN_IF_ERROR(ValidatePdqBytes(At(absl::StrCat(field, ".dihedral"), i),
                                              pdq.dihedral(i)));
    }
  }
  if (pdq.regions_size() > kMaxRegionsPerPdq) {
    return Invalid(absl::StrCat(field, ".regions"),
                   absl::StrCat("too many region hashes: ", pdq.regions_size(), " > limit ",
                                kMaxRegionsPerPdq, " per image"));
  }
  for (int i = 0; i < pdq.regions_size(); ++i) {
    OPTOUT_RETURN_IF_ERROR(
        ValidatePdqBytes(At(absl::StrCat(field, ".regions"), i), pdq.regions(i)));
  }
  // Each region's own tier (README.md#matching): by the same floors as the
  // hash's quality.
  if (pdq.region_quality_size() != 0 && pdq.region_quality_size() != pdq.regions_size()) {
    return Invalid(absl::StrCat(field, ".region_quality"),
                   absl::StrCat("must be empty or one per region (", pdq.regions_size(),
                                "), got ", pdq.region_quality_size()));
  }
  for (int i = 0; i < pdq.region_quality_size(); ++i) {
    const int q = pdq.region_quality(i);
    if (q < floor || q > 100) {
      return Invalid(At(absl::StrCat(field, ".region_quality"), i),
                     absl::StrCat("quality ", q, " is outside ", floor,
                                  "..100: the region is too flat to match reliably"));
    }
  }
  // Mirrors of a check's regions: one per region at most, so the regions'
  // cap bounds them too (an item searches at most 1 + 8 + 8 + 8 hashes).
  if (pdq.region_mirrors_size() != 0) {
    if (for_registration) {
      return Invalid(absl::StrCat(field, ".region_mirrors"),
                     "checks only; register the image's own windows in regions");
    }
    if (pdq.region_mirrors_size() != pdq.regions_size()) {
      return Invalid(absl::StrCat(field, ".region_mirrors"),
                     absl::StrCat("must be empty or one per region (", pdq.regions_size(),
                                  "), got ", pdq.region_mirrors_size()));
    }
    for (int i = 0; i < pdq.region_mirrors_size(); ++i) {
      OPTOUT_RETURN_IF_ERROR(ValidatePdqBytes(At(absl::StrCat(field, ".region_mirrors"), i),
                                              pdq.region_mirrors(i)));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRegisterRequest(const v1::RegisterRequest& request,
                                     const RegistryOptions& options) {
  OPTOUT_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  const size_t items = request.urls_size() + request.url_any_query_size() +
                       request.scopes_size() + request.pdq_size() + request.sha256_size() +
                       request.md5_size();
  if (items == 0) {
    return Invalid("request",
                   "empty registration: give at least one url, url_any_query, scope, pdq, "
                   "sha256 or md5");
  }
  if (items > static_cast<size_t>(options.max_batch_items)) {
    return Invalid("request", absl::StrCat("too many items: ", items, " > limit ",
                                           options.max_batch_items));
  }
  if (request.pdq_size() > kMaxPdqPerRegistration) {
    return Invalid("pdq", absl::StrCat("too many hashes: ", request.pdq_size(), " > limit ",
                                       kMaxPdqPerRegistration, " per opt-out"));
  }
  for (int i = 0; i < request.pdq_size(); ++i) {
    OPTOUT_RETURN_IF_ERROR(ValidatePdqHash(At("pdq", i), request.pdq(i), options, true));
    if (request.pdq(i).regions_size() > 0 && i >= kMaxPdqWithRegions) {
      return Invalid(At("pdq", i) + ".regions",
                     absl::StrCat("only the first ", kMaxPdqWithRegions,
                                  " hashes of a registration may carry regions"));
    }
  }
  for (int i = 0; i < request.sha256_size(); ++i) {
    OPTOUT_RETURN_IF_ERROR(ValidateDigest(At("sha256", i), request.sha256(i), kSha256Bytes));
  }
  for (int i = 0; i < request.md5_size(); ++i) {
    OPTOUT_RETURN_IF_ERROR(ValidateDigest(At("md5", i), request.md5(i), kMd5Bytes));
  }
  return absl::OkStatus();
}

namespace {

// KIND_PDQ with counts: item i is its hash (and dihedral variants) and then
// counts[i] region hashes; the lengths must add up exactly.
absl::Status ValidatePackedPdqWithRegions(absl::string_view field, const v1::PackedItems& packed) {
  const size_t unit = PackedItemBytes(packed);
  const absl::string_view data = packed.data();
  size_t offset = 0;
  for (int i = 0; i < packed.counts_size(); ++i) {
    const uint32_t c = packed.counts(i);
    if (c > static_cast<uint32_t>(kMaxCheckRegionsPerPdq)) {
      return Invalid(At(absl::StrCat(field, ".counts"), i),
                     absl::StrCat("must be 0..", kMaxCheckRegionsPerPdq, " region hashes, got ", c));
    }
    const size_t bytes = unit + c * kPdqBytes;
    if (offset + bytes > data.size()) break;
    for (size_t h = 0; h < bytes; h += kPdqBytes) {
      const absl::string_view hash = data.substr(offset + h, kPdqBytes);
      if (!PdqPopcountOk(hash)) {
        return ValidatePdqBytes(absl::StrCat(field, ".data item ", i), hash);
      }
    }
    offset += bytes;
  }
  if (offset != data.size()) {
    return Invalid(absl::StrCat(field, ".counts"),
                   absl::StrCat("items and region counts do not match the ", data.size(),
                                " bytes of data"));
  }
  return absl::OkStatus();
}

// A non-empty bitmap of one bit per each of `n` things (`plural`, `one`
// name them in the message): exactly (n + 7) / 8 bytes, no bit past the last.
absl::Status ValidateBitmap(const std::string& name, const std::string& bits, uint64_t n,
                            absl::string_view plural, absl::string_view one) {
  if (bits.size() != (n + 7) / 8) {
    return Invalid(name, absl::StrCat("must be empty or ", (n + 7) / 8, " bytes for ", n, " ",
                                      plural, ", got ", bits.size()));
  }
  if (n % 8 != 0 && (static_cast<uint8_t>(bits.back()) >> (n % 8)) != 0) {
    return Invalid(name, absl::StrCat("has bits set past ", one, " ", n - 1));
  }
  return absl::OkStatus();
}

// PackedItems.pdq_low_quality: empty, or one bit per item and no more.
absl::Status ValidatePackedLowQuality(absl::string_view field, const v1::PackedItems& packed) {
  const std::string& bits = packed.pdq_low_quality();
  if (bits.empty()) return absl::OkStatus();
  const std::string name = absl::StrCat(field, ".pdq_low_quality");
  if (packed.kind() != v1::PackedItems::KIND_PDQ) return Invalid(name, "only KIND_PDQ items have it");
  return ValidateBitmap(name, bits, PackedItemCount(packed), "items", "item");
}

// PackedItems.pdq_region_low_quality: empty, or one bit per region hash of
// a KIND_PDQ group with counts, and no more.
absl::Status ValidatePackedRegionLowQuality(absl::string_view field,
                                            const v1::PackedItems& packed) {
  const std::string& bits = packed.pdq_region_low_quality();
  if (bits.empty()) return absl::OkStatus();
  const std::string name = absl::StrCat(field, ".pdq_region_low_quality");
  if (packed.kind() != v1::PackedItems::KIND_PDQ || packed.counts_size() == 0) {
    return Invalid(name, "only KIND_PDQ items with region counts have it");
  }
  uint64_t n = 0;
  for (uint32_t c : packed.counts()) n += c;
  return ValidateBitmap(name, bits, n, "region hashes", "region hash");
}

// The data and counts of a packed group of a known kind.
absl::Status ValidatePackedShape(absl::string_view field, const v1::PackedItems& packed) {
  const size_t unit = PackedItemBytes(packed);
  const bool pdq_counts = packed.kind() == v1::PackedItems::KIND_PDQ && packed.counts_size() > 0;
  if (pdq_counts) return ValidatePackedPdqWithRegions(field, packed);
  if (packed.data().size() % unit != 0) {
    return Invalid(absl::StrCat(field, ".data"),
                   absl::StrCat("length ", packed.data().size(), " is not a multiple of ", unit));
  }
  if (packed.counts_size() > 0) {
    if (packed.kind() != v1::PackedItems::KIND_URL_DIGESTS) {
      return Invalid(absl::StrCat(field, ".counts"), "only URL digests and PDQ carry counts");
    }
    uint64_t total = 0;
    for (int i = 0; i < packed.counts_size(); ++i) {
      const uint32_t c = packed.counts(i);
      if (c == 0 || c > kMaxExpressionsPerUrl) {
        return Invalid(At(absl::StrCat(field, ".counts"), i),
                       absl::StrCat("must be 1..", kMaxExpressionsPerUrl, ", got ", c));
      }
      total += c;
    }
    if (total * unit != packed.data().size()) {
      return Invalid(absl::StrCat(field, ".counts"),
                     absl::StrCat("sum ", total, " does not match ",
                                  packed.data().size() / unit, " digests in data"));
    }
  }
  if (packed.kind() == v1::PackedItems::KIND_PDQ) {
    const size_t hashes = packed.data().size() / kPdqBytes;
    for (size_t h = 0; h < hashes; ++h) {
      const absl::string_view hash = absl::string_view(packed.data()).substr(h * kPdqBytes, kPdqBytes);
      if (PdqPopcountOk(hash)) continue;  // the message is built only for a refusal
      const size_t item = h * kPdqBytes / unit;
      return ValidatePdqBytes(absl::StrCat(field, ".data item ", item), hash);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePacked(absl::string_view field, const v1::PackedItems& packed) {
  if (packed.kind() == v1::PackedItems::KIND_UNSPECIFIED ||
      !v1::PackedItems::Kind_IsValid(packed.kind())) {
    return Invalid(absl::StrCat(field, ".kind"), "must be set to a known kind");
  }
  OPTOUT_RETURN_IF_ERROR(ValidatePackedShape(field, packed));
  OPTOUT_RETURN_IF_ERROR(ValidatePackedLowQuality(field, packed));
  return ValidatePackedRegionLowQuality(field, packed);
}

absl::Status ValidateItem(absl::string_view field, const v1::CheckItem& item,
                          const RegistryOptions& options) {
  switch (item.kind_case()) {
    case v1::CheckItem::kUrl:
      return absl::OkStatus();  // canonicalized (and rejected) by the checker
    case v1::CheckItem::kUrlDigests: {
      const auto& d = item.url_digests();
      OPTOUT_RETURN_IF_ERROR(ValidateDigest(absl::StrCat(field, ".url_digests.exact"),
                                            d.exact(), kUrlDigestBytes));
      if (static_cast<size_t>(d.expressions_size()) > kMaxExpressionsPerUrl) {
        return Invalid(absl::StrCat(field, ".url_digests.expressions"), "too many expressions");
      }
      for (int i = 0; i < d.expressions_size(); ++i) {
        OPTOUT_RETURN_IF_ERROR(ValidateDigest(
            At(absl::StrCat(field, ".url_digests.expressions"), i), d.expressions(i),
            kUrlDigestBytes));
      }
      return absl::OkStatus();
    }
    case v1::CheckItem::kPdq:
      return ValidatePdqHash(absl::StrCat(field, ".pdq"), item.pdq(), options, false);
    case v1::CheckItem::kSha256:
      return ValidateDigest(absl::StrCat(field, ".sha256"), item.sha256(), kSha256Bytes);
    case v1::CheckItem::kMd5:
      return ValidateDigest(absl::StrCat(field, ".md5"), item.md5(), kMd5Bytes);
    case v1::CheckItem::KIND_NOT_SET:
      break;
  }
  return Invalid(field, "empty item: set url, url_digests, pdq, sha256 or md5");
}

}  // namespace

absl::Status ValidateCheckRequest(const v1::CheckRequest& request,
                                  const RegistryOptions& options) {
  for (int i = 0; i < request.packed_size(); ++i) {
    OPTOUT_RETURN_IF_ERROR(ValidatePacked(At("packed", i), request.packed(i)));
  }
  size_t items = request.items_size();
  for (const auto& packed : request.packed()) items += PackedItemCount(packed);
  if (items == 0) {
    return Invalid("request", "empty check: give at least one item or a packed group with data");
  }
  if (items > static_cast<size_t>(options.max_batch_items)) {
    return Invalid("request", absl::StrCat("too many items: ", items, " > limit ",
                                           options.max_batch_items,
                                           "; split the batch or use CheckStream"));
  }
  for (int i = 0; i < request.items_size(); ++i) {
    OPTOUT_RETURN_IF_ERROR(ValidateItem(At("items", i), request.items(i), options));
  }
  return absl::OkStatus();
}

}  // namespace optout::service
