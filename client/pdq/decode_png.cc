#include "client/pdq/decode_png.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace optout::pdq {
namespace {

struct PngContext {
  absl::string_view bytes;
  size_t offset = 0;
  bool truncated = false;
  bool short_image_data = false;
  char message[256] = {};
};

PngContext* Context(png_structp png) { return static_cast<PngContext*>(png_get_error_ptr(png)); }

void OnError(png_structp png, png_const_charp message) {
  PngContext* ctx = Context(png);
  std::snprintf(ctx->message, sizeof(ctx->message), "%s", message);
  png_longjmp(png, 1);
}

void OnWarning(png_structp png, png_const_charp message) {
  // libpng only warns when the compressed image data ends early and fills
  // the missing rows with zeros; hashing those would be silently wrong.
  if (std::strstr(message, "Not enough image data") != nullptr) Context(png)->short_image_data = true;
}

void ReadData(png_structp png, png_bytep out, size_t length) {
  PngContext* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (ctx->bytes.size() - ctx->offset < length) {
    ctx->truncated = true;
    png_error(png, "unexpected end of file");
  }
  std::memcpy(out, ctx->bytes.data() + ctx->offset, length);
  ctx->offset += length;
}

// Converts one row as libpng delivers it (channels 1..4, depth 8 or 16) to
// 8-bit grey or RGB without alpha.
void ToOutputRow(const uint8_t* in, int width, int in_channels, int depth, int out_channels,
                 uint8_t* out) {
  const int bytes_per_sample = depth / 8;
  for (int x = 0; x < width; ++x) {
    for (int c = 0; c < out_channels; ++c) {
      const uint8_t* s = in + (static_cast<size_t>(x) * in_channels + c) * bytes_per_sample;
      if (depth == 16) {
        // floor(v / 257): what ImageMagick 6.9.11's "-depth 8" produces (checked
        // on every sample of dx05_png16_genuine), and thus how the reference
        // values of genuine 16-bit files were made. Exact for v = 257 * k.
        const unsigned v = (static_cast<unsigned>(s[0]) << 8) | s[1];
        out[static_cast<size_t>(x) * out_channels + c] = static_cast<uint8_t>(v / 257);
      } else {
        out[static_cast<size_t>(x) * out_channels + c] = s[0];
      }
    }
  }
}

// Returns false after a libpng error. Objects alive across libpng calls are
// owned by the caller, so the longjmp skips no destructor.
bool RunDecode(png_structp png, png_infop info, const DecodeLimits* limits, RowSink* sink,
               std::vector<uint8_t>* raw, std::vector<uint8_t>* out_row,
               std::vector<png_bytep>* row_pointers, absl::Status* status) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  *status = CheckImageSize("PNG", width, height, *limits);
  if (!status->ok()) return true;
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  png_set_strip_alpha(png);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const int in_channels = png_get_channels(png, info);
  const int depth = png_get_bit_depth(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  // Alpha, if libpng still delivers it, is dropped in ToOutputRow.
  const int out_channels = in_channels <= 2 ? 1 : 3;
  if ((depth != 8 && depth != 16) ||
      row_bytes != static_cast<size_t>(width) * in_channels * (depth / 8)) {
    *status = absl::InternalError(absl::StrCat("unexpected PNG row layout: ", in_channels,
                                               " channels of ", depth, " bits"));
    return true;
  }
  out_row->resize(static_cast<size_t>(width) * out_channels);
  sink->Begin(static_cast<int>(width), static_cast<int>(height), out_channels);
  if (passes == 1) {
    raw->resize(row_bytes);
    for (png_uint_32 y = 0; y < height; ++y) {
      png_read_row(png, raw->data(), nullptr);
      ToOutputRow(raw->data(), static_cast<int>(width), in_channels, depth, out_channels,
                  out_row->data());
      sink->PutRow(static_cast<int>(y), out_row->data());
    }
  } else {
    // Adam7 rows are complete only after the last pass.
    raw->resize(row_bytes * height);
    row_pointers->resize(height);
    for (png_uint_32 y = 0; y < height; ++y) (*row_pointers)[y] = raw->data() + row_bytes * y;
    png_read_image(png, row_pointers->data());
    for (png_uint_32 y = 0; y < height; ++y) {
      ToOutputRow((*row_pointers)[y], static_cast<int>(width), in_channels, depth, out_channels,
                  out_row->data());
      sink->PutRow(static_cast<int>(y), out_row->data());
    }
  }
  *status = absl::OkStatus();
  return true;
}

}  // namespace

absl::Status DecodePng(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink) {
  PngContext ctx;
  ctx.bytes = bytes;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, OnError, OnWarning);
  if (png == nullptr) return absl::ResourceExhaustedError("PNG: cannot allocate decoder");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return absl::ResourceExhaustedError("PNG: cannot allocate decoder");
  }
  png_set_read_fn(png, &ctx, ReadData);
  std::vector<uint8_t> raw, out_row;
  std::vector<png_bytep> row_pointers;
  absl::Status status;
  const bool ok = RunDecode(png, info, &limits, &sink, &raw, &out_row, &row_pointers, &status);
  png_destroy_read_struct(&png, &info, nullptr);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(ctx.truncated ? "truncated PNG: " : "corrupt PNG: ", ctx.message));
  }
  if (status.ok() && ctx.short_image_data) {
    return absl::InvalidArgumentError("truncated PNG: not enough image data");
  }
  return status;
}

}  // namespace optout::pdq
