// pdq_fuzzer: arbitrary bytes through the image decode + PDQ hash entry point
// (optout::pdq::HashImageBytes), as `optout hash` feeds it untrusted files.
//
//   pdq_fuzzer CORPUS_DIR tests/testdata/pdq/images
//
// Besides sanitizer findings it checks the contract: success never carries an
// all-zero hash or a quality outside 0..100, and errors carry a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "client/pdq/image_hasher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  optout::pdq::HashOptions options;
  options.dihedral = true;
  // Smaller than the default so that each execution stays fast; the limit
  // check itself is the same code.
  options.max_pixels = 1'000'000;
  const auto hashes =
      optout::pdq::HashImageBytes(absl::string_view(reinterpret_cast<const char*>(data), size), options);
  if (hashes.ok()) {
    if (hashes->pdq.IsZero() || hashes->quality < 0 || hashes->quality > 100) std::abort();
    if (hashes->width <= 0 || hashes->height <= 0) std::abort();
  } else if (hashes.status().message().empty()) {
    std::abort();
  }
  return 0;
}
