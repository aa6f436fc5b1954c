// web/wasm/pdq_wasm.cc: the C interface of pdq.wasm, the page's hasher.
//
// The page decodes a photo (createImageBitmap), hands its RGBA rows here in
// strips, and gets back what `optout hash` computes from the same pixels:
// the reference file hasher's pre-scale and grey folding (PrescaleSink),
// then the PDQ core (pdq_core.h), alpha ignored as natively. The file bytes
// go through Md5 in chunks. Everything lives in one module-wide session:
// the page hashes one photo at a time, synchronously between begin and
// finish. Exchange goes through one scratch buffer in linear memory.
// After finish, optout_pdq_regions hashes the image's regions
// (client/pdq/match_regions.h) from the region luma plane of the same rows
// (region_luma.h), as `optout register --image` and `optout check --image`
// send them.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "client/pdq/match_regions.h"
#include "client/pdq/pdq_core.h"
#include "client/pdq/prescale.h"
#include "client/pdq/region_luma.h"
#include "web/wasm/md5.h"

namespace {

using optout::pdq::PrescaleSink;

std::vector<uint8_t> scratch;
std::unique_ptr<PrescaleSink> sink;
std::unique_ptr<optout::pdq::RegionLumaSink> luma_sink;
int width = 0;
int height = 0;
int next_row = 0;
std::vector<uint8_t> rgb_row;
// The hash, then the 8 dihedral hashes: 9 x 64 hex digits and a NUL.
char hex_out[9 * 64 + 1];
// The last finished image (pre-scaled) and its hash, for optout_pdq_regions.
optout::pdq::Image last_image;
optout::pdq::LumaPlane last_luma;
optout::pdq::PdqHash last_hash;
int last_width = 0;
int last_height = 0;
// Region hashes: at most 63 x 64 hex digits and a NUL.
char regions_out[optout::pdq::kMaxOwnerRegions * 64 + 1];
// Each region's PDQ quality (0..100), in the order of regions_out: the page
// sends them (PdqHash.region_quality) when the server matches each region in
// its own tier, as `optout register --image` does.
unsigned char region_qualities_out[optout::pdq::kMaxOwnerRegions];
std::unique_ptr<optout::web::Md5> md5;
char md5_out[33];

void PutHex(const std::string& hex, int slot) { std::memcpy(hex_out + 64 * slot, hex.data(), 64); }

}  // namespace

extern "C" {

// A buffer of at least `bytes` bytes for the next call that reads from it;
// valid until the next optout_buffer call.
uint8_t* optout_buffer(uint32_t bytes) {
  if (scratch.size() < bytes) scratch.resize(bytes);
  return scratch.data();
}

// Starts hashing a width x height image. 0, or -1 for an empty size.
int optout_pdq_begin(int w, int h) {
  if (w <= 0 || h <= 0) return -1;
  width = w;
  height = h;
  next_row = 0;
  sink = std::make_unique<PrescaleSink>();
  sink->Begin(w, h, 3);
  luma_sink = std::make_unique<optout::pdq::RegionLumaSink>();
  luma_sink->Begin(w, h, 3);
  rgb_row.resize(static_cast<size_t>(w) * 3);
  return 0;
}

// Takes the next `count` rows, RGBA, from the scratch buffer. Alpha is
// dropped, never composited: the colour under a transparent pixel is hashed
// (client/pdq/README.md#decoding).
int optout_pdq_rows(int count) {
  if (sink == nullptr || count < 0 || next_row + count > height ||
      scratch.size() < static_cast<size_t>(count) * width * 4) {
    return -1;
  }
  for (int r = 0; r < count; ++r) {
    const uint8_t* rgba = scratch.data() + static_cast<size_t>(r) * width * 4;
    for (int x = 0; x < width; ++x) {
      rgb_row[3 * x] = rgba[4 * x];
      rgb_row[3 * x + 1] = rgba[4 * x + 1];
      rgb_row[3 * x + 2] = rgba[4 * x + 2];
    }
    luma_sink->PutRow(next_row, rgb_row.data());
    sink->PutRow(next_row++, rgb_row.data());
  }
  return 0;
}

// After every row: the quality (0..100), with the hex of the hash (and, if
// `dihedral`, of its 8 variants) in optout_pdq_hex(). Negative: -1 not all
// rows given, -2 smaller than 5 px a side after the pre-scale, -3 no detail
// (an all-zero hash, which `optout hash` refuses too).
int optout_pdq_finish(int dihedral) {
  if (sink == nullptr || next_row != height) return -1;
  optout::pdq::Image image = sink->Finish();
  sink.reset();
  optout::pdq::LumaPlane luma = luma_sink->Finish();
  luma_sink.reset();
  if (optout::pdq::CheckPixels(image) != optout::pdq::PixelsProblem::kNone) return -2;
  const optout::pdq::PdqResult result = optout::pdq::HashCheckedPixels(image, dihedral != 0);
  if (result.hash.IsZero()) return -3;
  last_image = std::move(image);
  last_luma = std::move(luma);
  last_hash = result.hash;
  last_width = width;
  last_height = height;
  std::memset(hex_out, '0', sizeof(hex_out) - 1);
  hex_out[sizeof(hex_out) - 1] = '\0';
  PutHex(result.hash.ToHex(), 0);
  if (dihedral != 0) {
    for (int i = 0; i < 8; ++i) PutHex(result.dihedral[i].ToHex(), i + 1);
  }
  return result.quality;
}

const char* optout_pdq_hex() { return hex_out; }

// After a successful finish: hashes the image's regions, the owner's
// windows (`owner` != 0, registering) or the checker's trimmed regions, and
// returns how many there are (their hex, 64 digits each, in
// optout_pdq_regions_hex(), their qualities in
// optout_pdq_region_qualities()); regions of quality below `min_quality` are
// left out. -1 when no image was finished.
int optout_pdq_regions(int owner, int min_quality) {
  if (last_width == 0) return -1;
  const std::vector<optout::pdq::RegionHash> regions =
      owner != 0 ? optout::pdq::OwnerRegions(last_image, last_luma, last_width, last_height,
                                             last_hash, min_quality)
                 : optout::pdq::CheckerRegions(last_image, last_luma, last_width, last_height,
                                               min_quality);
  int n = 0;
  for (const optout::pdq::RegionHash& r : regions) {
    if (n == optout::pdq::kMaxOwnerRegions) break;
    region_qualities_out[n] = static_cast<unsigned char>(r.quality);
    std::memcpy(regions_out + 64 * n++, r.hash.ToHex().data(), 64);
  }
  regions_out[64 * n] = '\0';
  return n;
}

const char* optout_pdq_regions_hex() { return regions_out; }

const unsigned char* optout_pdq_region_qualities() { return region_qualities_out; }

void optout_md5_begin() { md5 = std::make_unique<optout::web::Md5>(); }

// Adds `bytes` bytes from the scratch buffer.
void optout_md5_update(uint32_t bytes) {
  if (md5 != nullptr && bytes <= scratch.size()) md5->Update(scratch.data(), bytes);
}

const char* optout_md5_hex() {
  static constexpr char kDigits[] = "0123456789abcdef";
  if (md5 == nullptr) return "";
  const std::array<uint8_t, 16> digest = md5->Finish();
  md5.reset();
  for (int i = 0; i < 16; ++i) {
    md5_out[2 * i] = kDigits[digest[i] >> 4];
    md5_out[2 * i + 1] = kDigits[digest[i] & 15];
  }
  md5_out[32] = '\0';
  return md5_out;
}

}  // extern "C"
