// pdq_bench: how fast images are hashed on one core, and where the time goes.
//
//   build/tests/bench/pdq_bench [--benchmark_filter=...]
//
// Inputs are synthetic photo-like images (smooth waves plus noise) encoded in
// memory: 1024x768 and 4000x3000 JPEG (quality 90, 4:2:0) and 512x512 PNG.
// items_per_second is images (or hashes) per second on a single thread.
//   File/...      whole HashImageBytes: decode + pre-scale + PDQ + SHA-256 + MD5
//   Decode/...    decode to full-size pixels only (no pre-scale)
//   DecodePrescaled/...  decode with the streaming 512x512 pre-scale (what File uses)
//   Prescale/...  nearest-neighbour pre-scale of already decoded pixels
//   HashPixels    PDQ from decoded 512x512 RGB pixels (luma + filter + DCT + bits)
//   Stage*        the parts of HashPixels, each on its own (HashPixels writes
//                 luma straight into the filter, so it costs less than
//                 StageLuma + StageJaroszFilter); Digests: SHA-256 + MD5
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "client/common/digest/digest.h"
#include "client/pdq/dct.h"
#include "client/pdq/image_decoder.h"
#include "client/pdq/image_hasher.h"
#include "client/pdq/jarosz_filter.h"
#include "client/pdq/luma.h"
#include "client/pdq/pdq_hasher.h"
#include "client/pdq/prescale.h"
#include "client/pdq/testing/image_encoder.h"

namespace optout::pdq {
namespace {

enum Input { kJpeg1024x768 = 0, kJpeg4000x3000 = 1, kPng512x512 = 2 };

const char* InputName(int input) {
  switch (input) {
    case kJpeg1024x768: return "jpeg_1024x768";
    case kJpeg4000x3000: return "jpeg_4000x3000";
    default: return "png_512x512";
  }
}

// Encoded once per process; benchmarks only read it.
const std::string& EncodedInput(int input) {
  static std::map<int, std::string>* cache = new std::map<int, std::string>();
  auto it = cache->find(input);
  if (it != cache->end()) return it->second;
  std::string bytes;
  switch (input) {
    case kJpeg1024x768: bytes = testing::EncodeJpeg(testing::SyntheticPhoto(1024, 768, 1), 90); break;
    case kJpeg4000x3000: bytes = testing::EncodeJpeg(testing::SyntheticPhoto(4000, 3000, 2), 90); break;
    default: bytes = testing::EncodePng(testing::SyntheticPhoto(512, 512, 3)); break;
  }
  return cache->emplace(input, std::move(bytes)).first->second;
}

const Image& Prescaled512() {
  static const Image* image = new Image(Prescale(testing::SyntheticPhoto(1024, 768, 1)));
  return *image;
}

void BM_File(benchmark::State& state) {
  const std::string& bytes = EncodedInput(static_cast<int>(state.range(0)));
  state.SetLabel(InputName(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    auto hashes = HashImageBytes(bytes);
    if (!hashes.ok()) state.SkipWithError(std::string(hashes.status().message()).c_str());
    benchmark::DoNotOptimize(hashes);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_File)->Arg(kJpeg1024x768)->Arg(kJpeg4000x3000)->Arg(kPng512x512)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state) {
  const std::string& bytes = EncodedInput(static_cast<int>(state.range(0)));
  state.SetLabel(InputName(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    auto image = DecodeFull(bytes, DecodeLimits{});
    if (!image.ok()) state.SkipWithError(std::string(image.status().message()).c_str());
    benchmark::DoNotOptimize(image);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode)->Arg(kJpeg1024x768)->Arg(kJpeg4000x3000)->Arg(kPng512x512)->Unit(benchmark::kMillisecond);

void BM_DecodePrescaled(benchmark::State& state) {
  const std::string& bytes = EncodedInput(static_cast<int>(state.range(0)));
  state.SetLabel(InputName(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    auto image = DecodeForPdq(bytes, DecodeLimits{});
    if (!image.ok()) state.SkipWithError(std::string(image.status().message()).c_str());
    benchmark::DoNotOptimize(image);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodePrescaled)->Arg(kJpeg1024x768)->Arg(kJpeg4000x3000)->Arg(kPng512x512)->Unit(benchmark::kMillisecond);

void BM_Prescale(benchmark::State& state) {
  const auto decoded = DecodeFull(EncodedInput(static_cast<int>(state.range(0))), DecodeLimits{});
  state.SetLabel(InputName(static_cast<int>(state.range(0))));
  for (auto _ : state) benchmark::DoNotOptimize(Prescale(*decoded));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Prescale)->Arg(kJpeg1024x768)->Arg(kJpeg4000x3000)->Unit(benchmark::kMicrosecond);

void BM_HashPixels(benchmark::State& state) {
  const Image& image = Prescaled512();
  const bool dihedral = state.range(0) != 0;
  state.SetLabel(dihedral ? "512x512 rgb, +dihedral" : "512x512 rgb");
  for (auto _ : state) benchmark::DoNotOptimize(HashPixels(image, dihedral));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashPixels)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_StageLuma(benchmark::State& state) {
  const Image& image = Prescaled512();
  std::vector<float> luma(static_cast<size_t>(image.width) * image.height);
  for (auto _ : state) {
    ComputeLuma(image, luma.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StageLuma)->Unit(benchmark::kMicrosecond);

void BM_StageJaroszFilter(benchmark::State& state) {
  const Image& image = Prescaled512();
  std::vector<float> luma(static_cast<size_t>(image.width) * image.height);
  ComputeLuma(image, luma.data());
  float a[64 * 64];
  for (auto _ : state) {
    JaroszFilterAndDecimate(luma.data(), image.height, image.width, a);
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StageJaroszFilter)->Unit(benchmark::kMicrosecond);

void BM_StageDct(benchmark::State& state) {
  float a[64 * 64], b[16 * 16];
  for (int i = 0; i < 64 * 64; ++i) a[i] = static_cast<float>((i * 37) % 255);
  for (auto _ : state) {
    Dct64To16(a, b);
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StageDct)->Unit(benchmark::kMicrosecond);

void BM_StageQualityAndBits(benchmark::State& state) {
  float a[64 * 64], b[16 * 16];
  for (int i = 0; i < 64 * 64; ++i) a[i] = static_cast<float>((i * 37) % 255);
  Dct64To16(a, b);
  for (auto _ : state) {
    benchmark::DoNotOptimize(QualityOf64(a));
    benchmark::DoNotOptimize(BitsOf16(b));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StageQualityAndBits)->Unit(benchmark::kMicrosecond);

void BM_StageDihedralBits(benchmark::State& state) {
  float a[64 * 64], b[16 * 16];
  for (int i = 0; i < 64 * 64; ++i) a[i] = static_cast<float>((i * 37) % 255);
  Dct64To16(a, b);
  for (auto _ : state) benchmark::DoNotOptimize(DihedralBitsOf16(b));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StageDihedralBits)->Unit(benchmark::kMicrosecond);

void BM_Digests(benchmark::State& state) {
  const std::string& bytes = EncodedInput(static_cast<int>(state.range(0)));
  state.SetLabel(InputName(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    benchmark::DoNotOptimize(digest::Sha256(bytes));
    benchmark::DoNotOptimize(digest::Md5(bytes));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_Digests)->Arg(kJpeg1024x768)->Arg(kJpeg4000x3000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace optout::pdq

BENCHMARK_MAIN();
