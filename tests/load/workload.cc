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
  kRequestId = 9,
};

// optoutd refuses PDQ hashes with fewer than 96 or more than 160 bits set
// (real ones set about 128). Generated codes stay inside [100, 156], which
// leaves room for the alternating flips of CheckPdq.
constexpr int kMinCodePopcount = 100;
constexpr int kMaxCodePopcount = 156;

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
  // Uniform codes, redrawn in the rare case (about 1 in 2,000) that the
  // popcount falls outside the accepted range; the first draw is the code
  // earlier versions of this tool generated.
  for (uint64_t attempt = 0;; ++attempt) {
    Code code;
    int popcount = 0;
    for (int w = 0; w < 4; ++w) {
      uint64_t v = Mix(stream, i * 4 + w);
      if (attempt > 0) v = SplitMix64(v ^ (attempt << 32));
      popcount += __builtin_popcountll(v);
      for (int b = 0; b < 8; ++b) code[w * 8 + b] = static_cast<uint8_t>(v >> (8 * b));
    }
    if (popcount >= kMinCodePopcount && popcount <= kMaxCodePopcount) return code;
  }
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
  // optoutd wants 128 bits of randomness in a request_id; deriving them
  // from (seed, run, i) keeps --populate idempotent.
  const uint64_t h = HashRun(absl::StrCat(options_.seed, "-", run, "-", i));
  request.set_request_id(
      absl::StrFormat("%016x%016x", Mix(kRequestId, h), Mix(kRequestId, ~h)));
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
  // Flip distinct bits: a near duplicate at a known distance. Set and clear
  // bits alternate, so the popcount moves by at most one.
  uint64_t flipped[4] = {0, 0, 0, 0};
  int done = 0;
  for (uint64_t k = 0; done < options_.pdq_flip_bits; ++k) {
    const int bit = static_cast<int>(Mix(kFlip, j * 1024 + k) % 256);
    if (flipped[bit / 64] >> (bit % 64) & 1) continue;
    const bool is_set = code[bit / 8] >> (bit % 8) & 1;
    if (is_set != (done % 2 == 0)) continue;
    flipped[bit / 64] |= uint64_t{1} << (bit % 64);
    code[bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
    ++done;
  }
  return code;
}

Code Workload::DihedralFiller(uint64_t j, int k) const { return RandomCode(kDihedral, j * 8 + k); }

}  // namespace optout::load
