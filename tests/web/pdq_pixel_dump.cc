// pdq_pixel_dump OUT.rgba REGION_FLOOR: for each image path read from stdin (one per
// line), decodes it with the project's decoders (full size, the pixels
// `optout hash` starts from), writes them to OUT.rgba as RGBA (alpha 255)
// and prints one JSON line with the size and the native hashes of the file
// (PDQ, quality, 8 dihedral variants, SHA-256, MD5, and the region hashes
// of client/pdq/match_regions.h, owner windows and checker regions of
// quality >= REGION_FLOOR, with their qualities), so that
// wasm_pdq_test.mjs can hash the same pixels in WebAssembly and compare.
// One process for the whole corpus; OUT.rgba holds one image at a time.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "client/common/digest/digest.h"
#include "client/pdq/decode_limits.h"
#include "client/pdq/image_decoder.h"
#include "client/pdq/image_hasher.h"
#include "nlohmann/json.hpp"

namespace {

void Dump(const std::string& path, const char* out, int region_floor) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string file = bytes.str();
  nlohmann::json line = {{"file", path}};
  optout::pdq::HashOptions options;
  options.dihedral = true;
  auto hashes = optout::pdq::HashImageBytes(file, options);
  auto image = optout::pdq::DecodeFull(file, optout::pdq::DecodeLimits());
  if (!image.ok()) {
    line["error"] = std::string(image.status().message());
    std::cout << line.dump() << std::endl;
    return;
  }
  std::vector<uint8_t> rgba(static_cast<size_t>(image->width) * image->height * 4);
  for (size_t p = 0; p < rgba.size() / 4; ++p) {
    for (int c = 0; c < 3; ++c) {
      rgba[4 * p + c] = image->pixels[p * image->channels + (image->channels == 3 ? c : 0)];
    }
    rgba[4 * p + 3] = 255;
  }
  std::ofstream(out, std::ios::binary)
      .write(reinterpret_cast<const char*>(rgba.data()), static_cast<std::streamsize>(rgba.size()));
  line["width"] = image->width;
  line["height"] = image->height;
  if (!hashes.ok()) {
    line["error"] = std::string(hashes.status().message());
    std::cout << line.dump() << std::endl;
    return;
  }
  line["pdq"] = hashes->pdq.ToHex();
  line["quality"] = hashes->quality;
  std::vector<std::string> dihedral;
  for (const auto& h : hashes->dihedral) dihedral.push_back(h.ToHex());
  line["dihedral"] = dihedral;
  for (const auto& [name, set] : {std::pair{"owner_regions", optout::pdq::RegionSet::kOwner},
                                  std::pair{"checker_regions", optout::pdq::RegionSet::kChecker}}) {
    optout::pdq::HashOptions with_regions;
    with_regions.regions = set;
    with_regions.min_region_quality = region_floor;
    auto regions = optout::pdq::HashImageBytes(file, with_regions);
    std::vector<std::string> hex;
    std::vector<int> qualities;
    if (regions.ok()) {
      for (const auto& r : regions->regions) {
        hex.push_back(r.hash.ToHex());
        qualities.push_back(r.quality);
      }
    }
    line[name] = hex;
    line[std::string(name) + "_quality"] = qualities;
  }
  line["sha256"] = optout::digest::ToHex(hashes->sha256);
  line["md5"] = optout::digest::ToHex(hashes->md5);
  std::cout << line.dump() << std::endl;  // flushed: the reader waits for it
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: pdq_pixel_dump OUT.rgba REGION_FLOOR < image-paths\n");
    return 2;
  }
  const int region_floor = std::atoi(argv[2]);
  for (std::string path; std::getline(std::cin, path);) Dump(path, argv[1], region_floor);
  return 0;
}
