// File: tests/bench/url_bench.cc
//
// Throughput of the registry's per-URL work: canonicalize, lookup expressions,
// SHA-256 of each expression (issue 6 target: >= 300,000 URLs/s on one core),
// plus each stage alone so that the split of the time is visible. Inputs are
// realistic image URLs (~100 bytes, CDN hosts, query strings), generated
// deterministically. items_per_second counts URLs.
#include <openssl/evp.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/url_digests.h"
#include "client/common/url/url.h"

namespace optout::url {
namespace {

std::vector<std::string> MakeImageUrls(size_t count) {
  static const char* const kHosts[] = {
      "images.example-cdn.com",         "cdn.shopify.com",
      "i.pinimg.com",                   "pbs.twimg.com",
      "upload.wikimedia.org",           "images.unsplash.com",
      "media.newsroom.example.co.uk",   "d1a2b3c4d5e6f7.cloudfront.net",
      "my-bucket.s3.amazonaws.com",     "lh3.googleusercontent.com",
      "scontent-cdg4-1.xx.fbcdn.net",   "img.shop.example.com.au",
      "static.photos.example.org",      "assets.example.net",
  };
  static const char* const kDirs[] = {"photos", "images", "uploads", "media", "wp-content", "p"};
  static const char* const kExts[] = {".jpg", ".jpeg", ".png", ".webp", ".JPG"};
  static const char* const kQueries[] = {
      "w=800&h=600&fit=crop&auto=format", "width=1200&quality=80", "v=1700000000",
      "size=large",                       "", "format=webp&q=75",
  };
  std::mt19937_64 rng(42);
  std::vector<std::string> urls;
  urls.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string url = absl::StrCat(rng() % 4 == 0 ? "http" : "https", "://",
                                   kHosts[rng() % std::size(kHosts)], "/",
                                   kDirs[rng() % std::size(kDirs)], "/", 2015 + rng() % 10, "/",
                                   1 + rng() % 12, "/");
    if (rng() % 2 == 0) absl::StrAppend(&url, "user", rng() % 100000, "/");
    absl::StrAppend(&url, absl::Hex(rng(), absl::kZeroPad16), kExts[rng() % std::size(kExts)]);
    const char* query = kQueries[rng() % std::size(kQueries)];
    if (*query != '\0') absl::StrAppend(&url, "?", query);
    urls.push_back(std::move(url));
  }
  return urls;
}

const std::vector<std::string>& Urls() {
  static const std::vector<std::string> urls = MakeImageUrls(4096);
  return urls;
}

// The same URLs with a distinct random subdomain each: every PSL lookup
// misses the per-thread cache and goes to libpsl.
const std::vector<std::string>& DistinctHostUrls() {
  static const std::vector<std::string> urls = [] {
    std::vector<std::string> out;
    std::mt19937_64 rng(7);
    for (const std::string& url : Urls()) {
      const size_t host_start = url.find("://") + 3;
      out.push_back(absl::StrCat(url.substr(0, host_start), "u", rng() % 100000000, ".",
                                 url.substr(host_start)));
    }
    return out;
  }();
  return urls;
}

const PublicSuffixList& Psl() {
  static const PublicSuffixList* const psl = PublicSuffixList::Load()->release();
  return *psl;
}

const std::vector<CanonicalUrl>& CanonicalUrls() {
  static const std::vector<CanonicalUrl> canonical = [] {
    std::vector<CanonicalUrl> out;
    for (const std::string& url : Urls()) out.push_back(*Canonicalize(url));
    return out;
  }();
  return canonical;
}

const std::vector<std::vector<std::string>>& ExpressionSets() {
  static const std::vector<std::vector<std::string>> sets = [] {
    std::vector<std::vector<std::string>> out;
    for (const CanonicalUrl& url : CanonicalUrls()) out.push_back(LookupExpressions(url, Psl()));
    return out;
  }();
  return sets;
}

void SetCounters(benchmark::State& state) {
  size_t bytes = 0, expressions = 0;
  for (const std::string& url : Urls()) bytes += url.size();
  for (const auto& set : ExpressionSets()) expressions += set.size();
  state.SetItemsProcessed(state.iterations());
  state.counters["url_bytes"] = static_cast<double>(bytes) / Urls().size();
  state.counters["exprs_per_url"] = static_cast<double>(expressions) / Urls().size();
}

// SHA-256 with the digest fetched once and one reused context: what
// optout::digest::Sha256 costs without OpenSSL 3's per-call implicit fetch.
class ReusedSha256 {
 public:
  ReusedSha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {}
  ~ReusedSha256() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  digest::Sha256Digest operator()(absl::string_view data) {
    digest::Sha256Digest out{};
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx_, md_, nullptr);
    EVP_DigestUpdate(ctx_, data.data(), data.size());
    EVP_DigestFinal_ex(ctx_, out.data(), &len);
    return out;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

// The whole path with the allocation-free API and optout::digest::Sha256.
void BM_FullPath(benchmark::State& state) {
  const std::vector<std::string>& urls = Urls();
  const PublicSuffixList& psl = Psl();
  CanonicalUrl canonical;
  ExpressionList expressions;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& raw = urls[i++ & (urls.size() - 1)];
    if (!CanonicalizeInto(raw, &canonical).ok()) state.SkipWithError("invalid URL");
    ComputeLookupExpressions(canonical, psl, &expressions);
    for (size_t e = 0; e < expressions.size(); ++e) {
      benchmark::DoNotOptimize(digest::Sha256(expressions[e]));
    }
  }
  SetCounters(state);
}
BENCHMARK(BM_FullPath);

// The same work through protocol::ComputeUrlDigests, the one function the
// server and the clients use: should cost what BM_FullPath costs.
void BM_ProtocolUrlDigests(benchmark::State& state) {
  const std::vector<std::string>& urls = Urls();
  const PublicSuffixList& psl = Psl();
  protocol::UrlDigests digests;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& raw = urls[i++ & (urls.size() - 1)];
    if (!protocol::ComputeUrlDigests(raw, psl, &digests).ok()) state.SkipWithError("invalid URL");
    benchmark::DoNotOptimize(digests.packed().data());
  }
  SetCounters(state);
}
BENCHMARK(BM_ProtocolUrlDigests);

// The whole path when every host is new (PSL cache misses).
void BM_FullPathDistinctHosts(benchmark::State& state) {
  const std::vector<std::string>& urls = DistinctHostUrls();
  const PublicSuffixList& psl = Psl();
  CanonicalUrl canonical;
  ExpressionList expressions;
  size_t i = 0;
  for (auto _ : state) {
    if (!CanonicalizeInto(urls[i++ & (urls.size() - 1)], &canonical).ok()) {
      state.SkipWithError("invalid URL");
    }
    ComputeLookupExpressions(canonical, psl, &expressions);
    for (size_t e = 0; e < expressions.size(); ++e) {
      benchmark::DoNotOptimize(digest::Sha256(expressions[e]));
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FullPathDistinctHosts);

// The same with the convenience API (StatusOr<CanonicalUrl>, vector<string>).
void BM_FullPathConvenienceApi(benchmark::State& state) {
  const std::vector<std::string>& urls = Urls();
  const PublicSuffixList& psl = Psl();
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<CanonicalUrl> canonical = Canonicalize(urls[i++ & (urls.size() - 1)]);
    for (const std::string& e : LookupExpressions(*canonical, psl)) {
      benchmark::DoNotOptimize(digest::Sha256(e));
    }
  }
  SetCounters(state);
}
BENCHMARK(BM_FullPathConvenienceApi);

// The whole path hashing with a reused, pre-fetched EVP context.
void BM_FullPathReusedSha256(benchmark::State& state) {
  const std::vector<std::string>& urls = Urls();
  const PublicSuffixList& psl = Psl();
  CanonicalUrl canonical;
  ExpressionList expressions;
  ReusedSha256 sha256;
  size_t i = 0;
  for (auto _ : state) {
    if (!CanonicalizeInto(urls[i++ & (urls.size() - 1)], &canonical).ok()) {
      state.SkipWithError("invalid URL");
    }
    ComputeLookupExpressions(canonical, psl, &expressions);
    for (size_t e = 0; e < expressions.size(); ++e) benchmark::DoNotOptimize(sha256(expressions[e]));
  }
  SetCounters(state);
}
BENCHMARK(BM_FullPathReusedSha256);

// Stage 1: canonicalization alone.
void BM_Canonicalize(benchmark::State& state) {
  const std::vector<std::string>& urls = Urls();
  CanonicalUrl canonical;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(CanonicalizeInto(urls[i++ & (urls.size() - 1)], &canonical));
  }
  SetCounters(state);
}
BENCHMARK(BM_Canonicalize);

// Stage 2: lookup expressions alone (includes the PSL lookup).
void BM_Expressions(benchmark::State& state) {
  const std::vector<CanonicalUrl>& canonical = CanonicalUrls();
  const PublicSuffixList& psl = Psl();
  ExpressionList expressions;
  size_t i = 0;
  for (auto _ : state) {
    ComputeLookupExpressions(canonical[i++ & (canonical.size() - 1)], psl, &expressions);
    benchmark::DoNotOptimize(expressions.size());
  }
  SetCounters(state);
}
BENCHMARK(BM_Expressions);

// Stage 2a: the PSL registrable-domain lookup (libpsl) inside stage 2.
void BM_PslRegistrableDomain(benchmark::State& state) {
  const std::vector<CanonicalUrl>& canonical = CanonicalUrls();
  const PublicSuffixList& psl = Psl();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(psl.RegistrableDomainLabels(canonical[i++ & (canonical.size() - 1)].host));
  }
  SetCounters(state);
}
BENCHMARK(BM_PslRegistrableDomain);

// Stage 2a without the cache: libpsl's psl_registrable_domain itself.
void BM_PslRegistrableDomainUncached(benchmark::State& state) {
  const std::vector<CanonicalUrl>& canonical = CanonicalUrls();
  const PublicSuffixList& psl = Psl();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        psl.RegistrableDomainLabelsUncached(canonical[i++ & (canonical.size() - 1)].host));
  }
  SetCounters(state);
}
BENCHMARK(BM_PslRegistrableDomainUncached);

// Stage 3: SHA-256 of every expression of one URL, optout::digest::Sha256.
void BM_HashExpressions(benchmark::State& state) {
  const std::vector<std::vector<std::string>>& sets = ExpressionSets();
  size_t i = 0;
  for (auto _ : state) {
    for (const std::string& e : sets[i++ & (sets.size() - 1)]) {
      benchmark::DoNotOptimize(digest::Sha256(e));
    }
  }
  SetCounters(state);
}
BENCHMARK(BM_HashExpressions);

// Stage 3 with a reused, pre-fetched EVP context.
void BM_HashExpressionsReusedSha256(benchmark::State& state) {
  const std::vector<std::vector<std::string>>& sets = ExpressionSets();
  ReusedSha256 sha256;
  size_t i = 0;
  for (auto _ : state) {
    for (const std::string& e : sets[i++ & (sets.size() - 1)]) benchmark::DoNotOptimize(sha256(e));
  }
  SetCounters(state);
}
BENCHMARK(BM_HashExpressionsReusedSha256);

}  // namespace
}  // namespace optout::url

BENCHMARK_MAIN();
