#include "client/pdq/decode_gif.h"

#include <gif_lib.h>

#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace optout::pdq {
namespace {

struct MemoryReader {
  absl::string_view bytes;
  size_t offset = 0;
};

int ReadFromMemory(GifFileType* gif, GifByteType* out, int wanted) {
  auto* reader = static_cast<MemoryReader*>(gif->UserData);
  const size_t left = reader->bytes.size() - reader->offset;
  const size_t n = std::min(left, static_cast<size_t>(wanted));
  std::memcpy(out, reader->bytes.data() + reader->offset, n);
  reader->offset += n;
  return static_cast<int>(n);
}

struct GifCloser {
  void operator()(GifFileType* gif) const {
    int error = 0;
    DGifCloseFile(gif, &error);
  }
};

absl::Status GifError(int code) {
  const char* text = GifErrorString(code);
  return absl::InvalidArgumentError(absl::StrCat("corrupt GIF: ", text != nullptr ? text : "?"));
}

}  // namespace

absl::Status DecodeGif(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink) {
  MemoryReader reader{bytes};
  int error = 0;
  std::unique_ptr<GifFileType, GifCloser> gif(DGifOpen(&reader, ReadFromMemory, &error));
  if (gif == nullptr) return GifError(error);

  // Skip extensions up to the first image descriptor; never read further, so
  // a long animation costs no more than its first frame.
  for (;;) {
    GifRecordType record;
    if (DGifGetRecordType(gif.get(), &record) == GIF_ERROR) return GifError(gif->Error);
    if (record == TERMINATE_RECORD_TYPE) {
      return absl::InvalidArgumentError("corrupt GIF: no image in the file");
    }
    if (record == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* block = nullptr;
      if (DGifGetExtension(gif.get(), &code, &block) == GIF_ERROR) return GifError(gif->Error);
      while (block != nullptr) {
        if (DGifGetExtensionNext(gif.get(), &block) == GIF_ERROR) return GifError(gif->Error);
      }
      continue;
    }
    if (record == IMAGE_DESC_RECORD_TYPE) break;
  }
  if (DGifGetImageDesc(gif.get()) == GIF_ERROR) return GifError(gif->Error);
  const GifImageDesc& desc = gif->Image;
  const int width = desc.Width, height = desc.Height;
  absl::Status size_ok = CheckImageSize("GIF", width, height, limits);
  if (!size_ok.ok()) return size_ok;
  const ColorMapObject* colors = desc.ColorMap != nullptr ? desc.ColorMap : gif->SColorMap;
  if (colors == nullptr) return absl::InvalidArgumentError("corrupt GIF: no colour table");

  std::vector<GifByteType> indexes(static_cast<size_t>(width) * height);
  if (desc.Interlace) {
    // The four interlace passes: rows 0, 4, 2, 1 onward, every 8, 8, 4, 2.
    constexpr int kStart[] = {0, 4, 2, 1};
    constexpr int kStep[] = {8, 8, 4, 2};
    for (int pass = 0; pass < 4; ++pass) {
      for (int y = kStart[pass]; y < height; y += kStep[pass]) {
        if (DGifGetLine(gif.get(), indexes.data() + static_cast<size_t>(y) * width, width) ==
            GIF_ERROR) {
          return GifError(gif->Error);
        }
      }
    }
  } else {
    for (int y = 0; y < height; ++y) {
      if (DGifGetLine(gif.get(), indexes.data() + static_cast<size_t>(y) * width, width) ==
          GIF_ERROR) {
        return GifError(gif->Error);
      }
    }
  }

  sink.Begin(width, height, 3);
  std::vector<uint8_t> row(static_cast<size_t>(width) * 3);
  for (int y = 0; y < height; ++y) {
    const GifByteType* in = indexes.data() + static_cast<size_t>(y) * width;
    for (int x = 0; x < width; ++x) {
      // An index past the table is corrupt data; giflib lets it through.
      const GifColorType c =
          in[x] < colors->ColorCount ? colors->Colors[in[x]] : GifColorType{0, 0, 0};
      row[3 * x] = c.Red;
      row[3 * x + 1] = c.Green;
      row[3 * x + 2] = c.Blue;
    }
    sink.PutRow(y, row.data());
  }
  return absl::OkStatus();
}

}  // namespace optout::pdq
