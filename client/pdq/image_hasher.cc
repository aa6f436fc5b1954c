#include "client/pdq/image_hasher.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"
#include "client/pdq/decode_limits.h"
#include "client/pdq/image_decoder.h"
#include "client/pdq/pdq_hasher.h"

namespace optout::pdq {
namespace {

absl::Status WithPath(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

absl::Status ErrnoStatus(int error, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR: return absl::NotFoundError(message);
    case EACCES:
    case EPERM: return absl::PermissionDeniedError(message);
    case EISDIR: return absl::InvalidArgumentError(message);
    default: return absl::UnavailableError(message);
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& path, int64_t max_bytes) {
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return ErrnoStatus(errno, "cannot open");
  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0) return ErrnoStatus(errno, "cannot stat");
  if (S_ISDIR(info.st_mode)) return absl::InvalidArgumentError("is a directory");
  if (S_ISREG(info.st_mode) && info.st_size > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("file is ", info.st_size, " bytes, above the limit of ", max_bytes));
  }
  // Read in chunks rather than trusting st_size: pipes and growing files.
  std::string data;
  char chunk[1 << 16];
  while (true) {
    const size_t got = std::fread(chunk, 1, sizeof(chunk), file.get());
    data.append(chunk, got);
    if (static_cast<int64_t>(data.size()) > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("file is more than ", max_bytes, " bytes (the limit)"));
    }
    if (got < sizeof(chunk)) break;
  }
  if (std::ferror(file.get())) return ErrnoStatus(errno, "read error");
  return data;
}

}  // namespace

absl::StatusOr<ImageHashes> HashImageBytes(absl::string_view file_bytes,
                                           const HashOptions& options) {
  DecodeLimits limits;
  limits.max_pixels = options.max_pixels;
  const bool region_luma = options.regions != RegionSet::kNone || options.verification;
  absl::StatusOr<PrescaledImage> decoded = DecodeForPdq(file_bytes, limits, region_luma);
  if (!decoded.ok()) return decoded.status();
  absl::StatusOr<PdqResult> pdq = HashPixels(decoded->image, options.dihedral);
  if (!pdq.ok()) {
    if (decoded->image.width != decoded->source_width ||
        decoded->image.height != decoded->source_height) {
      return absl::Status(pdq.status().code(),
                          absl::StrCat(pdq.status().message(), " (decoded ",
                                       decoded->source_width, "x", decoded->source_height, ")"));
    }
    return pdq.status();
  }
  if (pdq->hash.IsZero()) {
    // A uniform black image (and the like) has an all-zero DCT: no bit is
    // above the median. Reporting that hash would match every other blank.
    return absl::InvalidArgumentError(
        absl::StrCat("image has no detail to hash (PDQ hash is all zero, quality ", pdq->quality,
                     ")"));
  }
  ImageHashes out;
  out.pdq = pdq->hash;
  out.quality = pdq->quality;
  out.dihedral = pdq->dihedral;
  out.sha256 = digest::Sha256(file_bytes);
  out.md5 = digest::Md5(file_bytes);
  out.width = decoded->source_width;
  out.height = decoded->source_height;
  // The verification hasher needs the plane after the regions' hasher took it.
  LumaPlane verification_luma;
  if (options.verification) verification_luma = decoded->region_luma;
  switch (options.regions) {
    case RegionSet::kNone:
      break;
    case RegionSet::kOwner:
      out.regions = OwnerRegions(decoded->image, std::move(decoded->region_luma), out.width,
                                 out.height, out.pdq, options.min_region_quality);
      break;
    case RegionSet::kChecker:
      out.regions = CheckerRegions(decoded->image, std::move(decoded->region_luma), out.width,
                                   out.height, options.min_region_quality);
      break;
  }
  if (options.verification) {
    const RegionHasher whole(std::move(verification_luma), out.width, out.height);
    out.verification = whole.VerificationDihedral(Region{});
    for (RegionHash& r : out.regions) r.verification = whole.Verification(r.region);
  }
  return out;
}

absl::StatusOr<ImageHashes> HashImageFile(const std::string& path, const HashOptions& options) {
  absl::StatusOr<std::string> bytes = ReadFile(path, options.max_file_bytes);
  if (!bytes.ok()) return WithPath(path, bytes.status());
  absl::StatusOr<ImageHashes> hashes = HashImageBytes(*bytes, options);
  if (!hashes.ok()) return WithPath(path, hashes.status());
  return hashes;
}

}  // namespace optout::pdq
