// File: storage/testing/code_generators.cc
#include "storage/testing/code_generators.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "client/common/base/testing/testdata_path.h"

namespace optout::storage::testing {

uint64_t CodeRng::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Code256 FlipBits(const Code256& code, int k, CodeRng& rng) {
  // Partial Fisher-Yates over the 256 bit indices: k distinct bits.
  uint8_t bits[256];
  for (int i = 0; i < 256; ++i) bits[i] = static_cast<uint8_t>(i);
  Code256 out = code;
  for (int i = 0; i < k; ++i) {
    const int j = i + static_cast<int>(rng.Below(256 - i));
    std::swap(bits[i], bits[j]);
    out[bits[i] >> 6] ^= uint64_t{1} << (bits[i] & 63);
  }
  return out;
}

std::vector<Code256> UniformCodes(size_t n, uint64_t seed) {
  CodeRng rng(seed);
  std::vector<Code256> codes(n);
  for (auto& c : codes) c = rng.Code();
  return codes;
}

std::vector<Code256> ClusteredCodes(size_t n, uint64_t seed,
                                    ClusterOptions options) {
  CodeRng rng(seed);
  std::vector<Code256> codes;
  codes.reserve(n);
  const auto mean = static_cast<uint32_t>(std::max<size_t>(options.mean_cluster_size, 1));
  while (codes.size() < n) {
    const Code256 centre = rng.Code();
    const uint32_t span = rng.Below(10) == 0 ? 20 * mean : 2 * mean;
    size_t members = 1 + rng.Below(span);
    for (; members > 0 && codes.size() < n; --members) {
      codes.push_back(FlipBits(
          centre, static_cast<int>(rng.Below(options.max_flips + 1)), rng));
    }
  }
  return codes;
}

std::vector<Code256> MixedQueries(const std::vector<Code256>& stored,
                                  size_t count, uint64_t seed) {
  CodeRng rng(seed);
  std::vector<Code256> queries;
  queries.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (i % 2 == 0 && !stored.empty()) {
      const Code256& base = stored[rng.Below(static_cast<uint32_t>(stored.size()))];
      queries.push_back(FlipBits(base, static_cast<int>(rng.Below(21)), rng));
    } else {
      queries.push_back(rng.Code());
    }
  }
  return queries;
}

absl::StatusOr<std::vector<Code256>> LoadPdqCorpus() {
  const std::string path = optout::testing::TestDataPath("pdq/expected.tsv");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot open " + path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header = absl::StrSplit(line, '\t');
  size_t column = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "pdq_hex") column = i;
  }
  if (column == header.size()) return absl::NotFoundError("no pdq_hex column");
  std::vector<Code256> codes;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() <= column) return absl::DataLossError("short row");
    absl::StatusOr<Code256> code = CodeFromPdqHex(fields[column]);
    if (!code.ok()) return code.status();
    codes.push_back(*code);
  }
  return codes;
}

std::vector<uint64_t> PlainScan(const std::vector<Code256>& codes,
                                const Code256& query, int radius) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < codes.size(); ++i) {
    if (HammingDistance(codes[i], query) <= radius) out.push_back(i);
  }
  return out;
}

}  // namespace optout::storage::testing
