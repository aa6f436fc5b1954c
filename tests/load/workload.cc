#include "tests/load/workload.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace optout::load {
namespace {

// Independent value streams derived from one seed.
enum Stream : uint64_t {
  kUrlName = 1,
  kPdq = 2,
  kHitCoin = 3,
  kHitTarget = 4,
  kMissName = 5,
  kMissPdq = 6,
  kFlip = 7,
  kDihedral = 8,
};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashRun(const std::string& run) {
  uint64_t h = 0;
  for (unsigned char c : run) h = SplitMix64(h ^ c);
  return h;
}

// Same shape for hits and misses, so both expand to the same expressions.
std::string UrlOf(uint64_t i, absl::string_view name) {
  return absl::StrCat("https://img", i % 5, ".site", i % 100000, ".com/u/", i % 1000, "/p-", name,
                      ".jpg?s=", i % 4);
}

}  // namespace

uint64_t Workload::Mix(uint64_t stream, uint64_t i) const {
  return SplitMix64(SplitMix64(options_.seed ^ (stream << 56)) ^ i);
}

Code Workload::RandomCode(uint64_t stream, uint64_t i) const {
  Code code;
  for (int w = 0; w < 4; ++w) {
    const uint64_t v = Mix(stream, i * 4 + w);
    for (int b = 0; b < 8; ++b) code[w * 8 + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  return code;  // all-zero or all-one has probability 2^-255
}

std::string Workload::RegisteredUrl(uint64_t i, const std::string& run) const {
  const uint64_t name = Mix(kUrlName, i) ^ HashRun(run);
  return UrlOf(i, absl::StrFormat("%016x", name));
}

Code Workload::RegisteredPdq(uint64_t i, const std::string& run) const {
  return RandomCode(kPdq, i ^ HashRun(run));
}

v1::RegisterRequest Workload::Registration(uint64_t i, const std::string& run,
                                           bool with_pdq) const {
  v1::RegisterRequest request;
  request.set_request_id(absl::StrCat("optout-bench-", options_.seed, "-", run, "-", i));
  request.add_urls(RegisteredUrl(i, run));
  if (with_pdq) {
    const Code code = RegisteredPdq(i, run);
    v1::PdqHash* pdq = request.add_pdq();
    pdq->set_hash(code.data(), code.size());
    pdq->set_quality(100);
  }
  return request;
}

bool Workload::IsHit(uint64_t j) const {
  if (options_.stored == 0) return false;
  const double u = static_cast<double>(Mix(kHitCoin, j) >> 11) * 0x1.0p-53;
  return u < options_.match_fraction;
}

uint64_t Workload::HitTarget(uint64_t j) const { return Mix(kHitTarget, j) % options_.stored; }

std::string Workload::CheckUrl(uint64_t j) const {
  if (IsHit(j)) return RegisteredUrl(HitTarget(j));
  // "m" is not a hex digit, so no registered name can equal a miss name.
  return UrlOf(Mix(kMissName, j), absl::StrFormat("m%015x", Mix(kMissName, j) >> 4));
}

Code Workload::CheckPdq(uint64_t j) const {
  if (!IsHit(j)) return RandomCode(kMissPdq, j);
  Code code = RegisteredPdq(HitTarget(j));
  // Flip distinct bits: a near duplicate at a known distance.
  uint64_t flipped[4] = {0, 0, 0, 0};
  int done = 0;
  for (uint64_t k = 0; done < options_.pdq_flip_bits; ++k) {
    const int bit = static_cast<int>(Mix(kFlip, j * 1024 + k) % 256);
    if (flipped[bit / 64] >> (bit % 64) & 1) continue;
    flipped[bit / 64] |= uint64_t{1} << (bit % 64);
    code[bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
    ++done;
  }
  return code;
}

Code Workload::DihedralFiller(uint64_t j, int k) const { return RandomCode(kDihedral, j * 8 + k); }

}  // namespace optout::load
