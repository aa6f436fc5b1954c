#include "client/cli/request_builder.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli/error_reporter.h"
#include "client/common/base/status_macros.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/pdq_quality.h"
#include "client/common/url/url.h"
#include "client/pdq/image_hasher.h"
#include "client/pdq/pdq_hash.h"
#include "client/pdq/pdq_hex.h"

namespace optout::cli {
namespace {

std::string Bytes(const std::array<uint8_t, 32>& b) { return std::string(b.begin(), b.end()); }
std::string Bytes(const std::array<uint8_t, 16>& b) { return std::string(b.begin(), b.end()); }

// The registry accepts region hashes (v1.PdqHash.regions) on the first 512
// PDQ hashes of a registration.
constexpr int kMaxPdqWithRegions = 512;

// One image hashed for a request. `pdq_usable` is false below the server's
// lowest accepted quality: the server would refuse the hash, so only the
// file digests go, and a note tells the user (`command` names who speaks,
// `use` what happens instead, e.g. "checked"). `low_quality`: usable but
// below the minimum, so matched within the server's stricter low-quality
// distance (the quality sent says so). `region_tiers`: the server also
// matches a region below the minimum as low-quality, so regions go from the
// low-quality floor up with their qualities (PdqHash.region_quality); else
// a low-quality image's regions are those of at least the low-quality
// floor, a normal image's those of at least the minimum, all in the
// image's tier. `region_mirrors`: the server searches the mirrors of a
// check's regions (PdqHash.region_mirrors).
struct HashedImage {
  pdq::ImageHashes hashes;
  bool pdq_usable = false;
  bool low_quality = false;
  bool region_tiers = false;
  bool region_mirrors = false;
};

// The image's regions (and their qualities, with region tiers) on `pdq`.
void AddRegions(const HashedImage& image, v1::PdqHash* pdq) {
  for (const pdq::RegionHash& r : image.hashes.regions) {
    pdq->add_regions(Bytes(r.hash.bytes));
    if (image.region_tiers) pdq->add_region_quality(r.quality);
  }
}

absl::StatusOr<HashedImage> HashImage(absl::string_view command, absl::string_view use,
                                      const std::string& path, bool dihedral,
                                      pdq::RegionSet regions,
                                      const protocol::PdqQualityFloors& floors,
                                      int64_t max_pixels) {
  pdq::HashOptions options;
  options.dihedral = dihedral;
  options.regions = regions;
  options.min_region_quality = floors.low;
  options.max_pixels = max_pixels;
  auto hashes = pdq::HashImageFile(path, options);
  if (!hashes.ok()) {
    // HashImageFile's message starts with the path.
    return WithPixelLimitHint(absl::Status(hashes.status().code(),
                                           absl::StrCat("--image ", hashes.status().message())));
  }
  HashedImage image{*std::move(hashes), false, false, floors.region_tiers,
                    floors.region_mirrors};
  const int quality = image.hashes.quality;
  image.pdq_usable = floors.Usable(quality);
  image.low_quality = image.pdq_usable && floors.Low(quality);
  std::vector<pdq::RegionHash>& kept = image.hashes.regions;
  kept.erase(std::remove_if(kept.begin(), kept.end(),
                            [&](const pdq::RegionHash& r) {
                              return r.quality < floors.RegionFloor(quality);
                            }),
             kept.end());
  if (!image.pdq_usable) {
    ReportNote(command, absl::StrCat(path, " has PDQ quality ", quality, " (< ", floors.low,
                                     ", too flat or small): ", use,
                                     " by its file digests only, near-duplicates will not match"));
  } else if (image.low_quality) {
    ReportNote(command, absl::StrCat(path, " has PDQ quality ", quality, " (< ", floors.min,
                                     ", low detail): ", use,
                                     " as low-quality, only close near-duplicates match"));
  }
  return image;
}

// The request items of one non-image command-line item.
absl::StatusOr<v1::CheckItem> CheckItemOf(const ItemArg& item) {
  v1::CheckItem out;
  switch (item.kind) {
    case ItemKind::kUrl:
      out.set_url(item.value);
      return out;  // canonicalized by the server; pre-checked by UrlError()
    case ItemKind::kPdq: {
      OPTOUT_ASSIGN_OR_RETURN(std::string bytes, HexItemBytes(item.kind, item.value));
      out.mutable_pdq()->set_hash(std::move(bytes));
      return out;
    }
    case ItemKind::kSha256: {
      OPTOUT_ASSIGN_OR_RETURN(std::string bytes, HexItemBytes(item.kind, item.value));
      out.set_sha256(std::move(bytes));
      return out;
    }
    case ItemKind::kMd5: {
      OPTOUT_ASSIGN_OR_RETURN(std::string bytes, HexItemBytes(item.kind, item.value));
      out.set_md5(std::move(bytes));
      return out;
    }
    case ItemKind::kUrlAnyQuery:
    case ItemKind::kScope:
    case ItemKind::kImage:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(FlagName(item.kind), " cannot be checked here"));
}

// The check items of an image: its PDQ hash with the dihedral variants and
// its trimmed regions (and their mirrors, when the server searches them;
// it matches any of them) when usable, then SHA-256 and MD5.
std::vector<v1::CheckItem> ImageCheckItems(const HashedImage& image) {
  std::vector<v1::CheckItem> items(image.pdq_usable ? 3 : 2);
  size_t i = 0;
  if (image.pdq_usable) {
    v1::PdqHash* pdq = items[i++].mutable_pdq();
    pdq->set_hash(Bytes(image.hashes.pdq.bytes));
    pdq->set_quality(image.hashes.quality);
    for (const pdq::PdqHash& d : image.hashes.dihedral) pdq->add_dihedral(Bytes(d.bytes));
    AddRegions(image, pdq);
    // Each region's mirror: a copy both mirrored and cropped, padded or
    // captioned meets the owner's windows only through them
    // (README.md#matching, "Mirrored regions").
    if (image.region_mirrors) {
      for (const pdq::RegionHash& r : image.hashes.regions) {
        pdq->add_region_mirrors(Bytes(r.mirror.bytes));
      }
    }
  }
  items[i++].set_sha256(Bytes(image.hashes.sha256));
  items[i].set_md5(Bytes(image.hashes.md5));
  return items;
}

// Why a --url value cannot be checked, or OK. The server canonicalizes the
// same way, but a URL it refuses would fail the whole batch, and one it
// accepts whose host is no DNS name (`not a url at all`) would read "clear".
absl::Status UrlError(const std::string& raw) {
  auto canonical = url::Canonicalize(raw);
  if (!canonical.ok()) return canonical.status();
  return url::CheckHostName(*canonical);
}

}  // namespace

absl::Status WithPixelLimitHint(const absl::Status& status) {
  // The decoders' size refusal (client/pdq/decode_limits.cc) says this.
  if (status.code() != absl::StatusCode::kResourceExhausted ||
      !absl::StrContains(status.message(), "above the limit")) {
    return status;
  }
  return absl::Status(status.code(),
                      absl::StrCat(status.message(),
                                   "; to hash it anyway, give --max-pixels with a larger limit "
                                   "(about 6 bytes of memory per pixel)"));
}

absl::StatusOr<protocol::PdqQualityFloors> ServerPdqFloors(client::RegistryClient& client) {
  OPTOUT_ASSIGN_OR_RETURN(v1::GetInfoResponse info, client.GetInfo());
  return protocol::PdqFloors(info);
}

absl::StatusOr<std::string> HexItemBytes(ItemKind kind, absl::string_view hex) {
  if (kind == ItemKind::kPdq) {
    auto hash = pdq::PdqHashFromHex(hex);
    if (!hash.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--pdq: ", hash.status().message()));
    }
    return Bytes(hash->bytes);
  }
  const size_t size = kind == ItemKind::kSha256 ? 32 : kind == ItemKind::kMd5 ? 16 : 0;
  if (size == 0) {
    return absl::InvalidArgumentError(absl::StrCat(FlagName(kind), " does not take hex"));
  }
  auto parsed = digest::FromHex(hex, size);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(FlagName(kind), ": ", parsed.status().message()));
  }
  return *std::move(parsed);
}

absl::StatusOr<CheckPlan> BuildCheckRequest(const std::vector<ItemArg>& items,
                                            const PdqFloorsFn& pdq_floors,
                                            int64_t max_pixels) {
  // First every typed item (hex checked before the network), then images.
  std::vector<std::vector<v1::CheckItem>> per_item(items.size());
  std::vector<absl::Status> errors(items.size());
  bool any_image = false;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].kind == ItemKind::kImage) {
      any_image = true;
      continue;
    }
    if (items[i].kind == ItemKind::kUrl) {
      errors[i] = UrlError(items[i].value);
      if (!errors[i].ok()) continue;
    }
    OPTOUT_ASSIGN_OR_RETURN(v1::CheckItem item, CheckItemOf(items[i]));
    per_item[i].push_back(std::move(item));
  }
  if (any_image) {
    OPTOUT_ASSIGN_OR_RETURN(const protocol::PdqQualityFloors floors, pdq_floors());
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].kind != ItemKind::kImage) continue;
      // One unreadable image is reported as such; the others are checked.
      auto image = HashImage("check", "checked", items[i].value, /*dihedral=*/true,
                             pdq::RegionSet::kChecker, floors, max_pixels);
      if (image.ok()) {
        per_item[i] = ImageCheckItems(*image);
      } else {
        errors[i] = image.status();
      }
    }
  }
  CheckPlan plan;
  for (size_t i = 0; i < items.size(); ++i) {
    plan.spans.push_back(
        {plan.request.items_size(), static_cast<int>(per_item[i].size()), errors[i]});
    for (v1::CheckItem& item : per_item[i]) *plan.request.add_items() = std::move(item);
  }
  return plan;
}

absl::StatusOr<v1::RegisterRequest> BuildRegisterRequest(const ItemFlags& flags,
                                                         const std::string& request_id,
                                                         bool dihedral,
                                                         const PdqFloorsFn& pdq_floors,
                                                         nlohmann::ordered_json* registered) {
  v1::RegisterRequest request;
  request.set_request_id(request_id);
  for (const auto& u : flags.Values(ItemKind::kUrl)) request.add_urls(u);
  for (const auto& u : flags.Values(ItemKind::kUrlAnyQuery)) request.add_url_any_query(u);
  for (const auto& s : flags.Values(ItemKind::kScope)) request.add_scopes(s);
  std::vector<std::string> pdq_hex;
  for (const auto& arg : flags.Values(ItemKind::kPdq)) {
    // HEX:QUALITY, as `optout hash` prints them: the registry needs the
    // quality the hasher reported to refuse hashes of flat images.
    const std::vector<absl::string_view> parts = absl::StrSplit(arg, ':');
    int quality = -1;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &quality)) {
      return absl::InvalidArgumentError(
          "--pdq: give HEX:QUALITY, the hash and the quality `optout hash` printed");
    }
    OPTOUT_ASSIGN_OR_RETURN(std::string bytes, HexItemBytes(ItemKind::kPdq, parts[0]));
    v1::PdqHash* pdq = request.add_pdq();
    pdq->set_hash(std::move(bytes));
    pdq->set_quality(quality);
    pdq_hex.emplace_back(parts[0]);
  }
  for (const auto& hex : flags.Values(ItemKind::kSha256)) {
    OPTOUT_ASSIGN_OR_RETURN(std::string bytes, HexItemBytes(ItemKind::kSha256, hex));
    request.add_sha256(std::move(bytes));
  }
  for (const auto& hex : flags.Values(ItemKind::kMd5)) {
    OPTOUT_ASSIGN_OR_RETURN(std::string bytes, HexItemBytes(ItemKind::kMd5, hex));
    request.add_md5(std::move(bytes));
  }
  (*registered)["urls"] = flags.Values(ItemKind::kUrl);
  (*registered)["url_any_query"] = flags.Values(ItemKind::kUrlAnyQuery);
  (*registered)["scopes"] = flags.Values(ItemKind::kScope);
  (*registered)["pdq"] = pdq_hex;
  (*registered)["sha256"] = flags.Values(ItemKind::kSha256);
  (*registered)["md5"] = flags.Values(ItemKind::kMd5);

  const std::vector<std::string>& files = flags.Values(ItemKind::kImage);
  if (files.empty()) return request;
  OPTOUT_ASSIGN_OR_RETURN(const protocol::PdqQualityFloors floors, pdq_floors());
  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  // The same image twice (the same file, or a byte-identical copy) is
  // registered once: sha256 hex -> the file first seen with it.
  std::map<std::string, std::string> first_file_of;
  for (const std::string& file : files) {
    OPTOUT_ASSIGN_OR_RETURN(HashedImage hashed,
                            HashImage("register", "registered", file, dihedral,
                                      pdq::RegionSet::kOwner, floors, flags.max_pixels()));
    const pdq::ImageHashes& hashes = hashed.hashes;
    auto [first, fresh] = first_file_of.emplace(digest::ToHex(hashes.sha256), file);
    if (!fresh) {
      ReportNote("register", absl::StrCat(file, " is the same image as ", first->second,
                                          " (same SHA-256): registered once"));
      continue;
    }
    nlohmann::ordered_json image;
    image["file"] = file;
    image["pdq"] = hashes.pdq.ToHex();
    image["quality"] = hashes.quality;
    image["sha256"] = digest::ToHex(hashes.sha256);
    image["md5"] = digest::ToHex(hashes.md5);
    image["pdq_registered"] = hashed.pdq_usable;
    if (hashed.low_quality) image["pdq_low_quality"] = true;
    if (hashed.pdq_usable) {
      // The plain hash first, then the distinct rotations/flips of it.
      std::set<std::string> seen;
      nlohmann::ordered_json variants = nlohmann::ordered_json::array();
      auto add = [&](const pdq::PdqHash& h, bool variant) -> v1::PdqHash* {
        if (!seen.insert(Bytes(h.bytes)).second) return nullptr;
        v1::PdqHash* out = request.add_pdq();
        out->set_hash(Bytes(h.bytes));
        out->set_quality(hashes.quality);
        if (variant) variants.push_back(h.ToHex());
        return out;
      };
      v1::PdqHash* plain = add(hashes.pdq, false);
      // The image's windows travel with its plain hash (README.md#matching);
      // the registry takes them on its first kMaxPdqWithRegions hashes.
      if (plain != nullptr && request.pdq_size() <= kMaxPdqWithRegions) AddRegions(hashed, plain);
      image["regions"] = plain != nullptr ? plain->regions_size() : 0;
      if (plain != nullptr && hashed.region_tiers) {
        int low_regions = 0;
        for (int q : plain->region_quality()) low_regions += floors.RegionLow(hashes.quality, q);
        image["low_quality_regions"] = low_regions;
      }
      if (dihedral) {
        for (const pdq::PdqHash& h : hashes.dihedral) add(h, true);
        image["dihedral"] = variants;
      }
    }
    request.add_sha256(Bytes(hashes.sha256));
    request.add_md5(Bytes(hashes.md5));
    images.push_back(std::move(image));
  }
  (*registered)["images"] = std::move(images);
  (*registered)["dihedral"] = dihedral;
  return request;
}

}  // namespace optout::cli
