#include "client/pdq/decode_tiff.h"

#include <tiffio.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace optout::pdq {
namespace {

// libtiff reads through these callbacks from the caller's buffer.
struct MemoryFile {
  absl::string_view bytes;
  toff_t offset = 0;
};

tmsize_t Read(thandle_t h, void* out, tmsize_t n) {
  auto* f = static_cast<MemoryFile*>(h);
  if (n <= 0 || f->offset >= f->bytes.size()) return 0;
  const size_t take = std::min<size_t>(static_cast<size_t>(n), f->bytes.size() - f->offset);
  std::memcpy(out, f->bytes.data() + f->offset, take);
  f->offset += take;
  return static_cast<tmsize_t>(take);
}
tmsize_t Write(thandle_t, void*, tmsize_t) { return 0; }
toff_t Seek(thandle_t h, toff_t off, int whence) {
  auto* f = static_cast<MemoryFile*>(h);
  toff_t base = 0;
  if (whence == SEEK_CUR) base = f->offset;
  if (whence == SEEK_END) base = f->bytes.size();
  f->offset = base + off;
  return f->offset;
}
int Close(thandle_t) { return 0; }
toff_t Size(thandle_t h) { return static_cast<MemoryFile*>(h)->bytes.size(); }
int Map(thandle_t, void**, toff_t*) { return 0; }
void Unmap(thandle_t, void*, toff_t) {}

// libtiff's default handlers print to stderr from any thread; errors are
// reported through return values instead.
void Silence(const char*, const char*, va_list) {}

struct TiffCloser {
  void operator()(TIFF* tif) const { TIFFClose(tif); }
};

}  // namespace

absl::Status DecodeTiff(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink) {
  static const bool silenced = [] {
    TIFFSetWarningHandler(Silence);
    TIFFSetErrorHandler(Silence);
    return true;
  }();
  (void)silenced;
  MemoryFile file{bytes};
  // "rm": read, never memory-map (the data already is in memory).
  std::unique_ptr<TIFF, TiffCloser> tif(
      TIFFClientOpen("image", "rm", &file, Read, Write, Seek, Close, Size, Map, Unmap));
  if (tif == nullptr) return absl::InvalidArgumentError("corrupt TIFF: unreadable header");
  uint32_t width = 0, height = 0;
  if (!TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width) ||
      !TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height)) {
    return absl::InvalidArgumentError("corrupt TIFF: no image size");
  }
  absl::Status size_ok = CheckImageSize("TIFF", width, height, limits);
  if (!size_ok.ok()) return size_ok;
  char why[1024] = "";
  if (!TIFFRGBAImageOK(tif.get(), why)) {
    return absl::UnimplementedError(absl::StrCat("unsupported TIFF: ", why));
  }
  std::vector<uint32_t> raster(static_cast<size_t>(width) * height);
  if (!TIFFReadRGBAImageOriented(tif.get(), width, height, raster.data(), ORIENTATION_TOPLEFT,
                                 /*stop_on_error=*/1)) {
    return absl::InvalidArgumentError("corrupt or truncated TIFF");
  }
  sink.Begin(static_cast<int>(width), static_cast<int>(height), 3);
  std::vector<uint8_t> row(static_cast<size_t>(width) * 3);
  for (uint32_t y = 0; y < height; ++y) {
    const uint32_t* in = raster.data() + static_cast<size_t>(y) * width;
    for (uint32_t x = 0; x < width; ++x) {
      row[3 * x] = static_cast<uint8_t>(TIFFGetR(in[x]));
      row[3 * x + 1] = static_cast<uint8_t>(TIFFGetG(in[x]));
      row[3 * x + 2] = static_cast<uint8_t>(TIFFGetB(in[x]));
    }
    sink.PutRow(static_cast<int>(y), row.data());
  }
  return absl::OkStatus();
}

}  // namespace optout::pdq
