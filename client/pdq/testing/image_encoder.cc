#include "client/pdq/testing/image_encoder.h"

#include <png.h>
#include <webp/encode.h>

#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>

namespace optout::pdq::testing {
namespace {

void AppendData(png_structp png, png_bytep data, size_t length) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<char*>(data), length);
}
void Flush(png_structp) {}

struct JpegError {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
};
void JpegFail(j_common_ptr cinfo) { std::longjmp(reinterpret_cast<JpegError*>(cinfo->err)->jump, 1); }

// Writes rows produced by `row_of(y, buffer)`; returns "" on libpng error.
template <typename RowFn>
std::string WritePng(int width, int height, int bit_depth, int color_type, bool interlaced,
                     size_t row_bytes, const std::vector<uint8_t>* palette,
                     const std::vector<uint8_t>* trns, RowFn row_of) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  std::vector<uint8_t> all(row_bytes * height);
  std::vector<png_bytep> rows(height);
  for (int y = 0; y < height; ++y) {
    rows[y] = all.data() + row_bytes * y;
    row_of(y, rows[y]);
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return "";
  }
  png_set_write_fn(png, &out, AppendData, Flush);
  png_set_IHDR(png, info, width, height, bit_depth, color_type,
               interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (palette != nullptr) {
    std::vector<png_color> colors(palette->size() / 3);
    for (size_t i = 0; i < colors.size(); ++i) {
      colors[i] = {(*palette)[3 * i], (*palette)[3 * i + 1], (*palette)[3 * i + 2]};
    }
    png_set_PLTE(png, info, colors.data(), static_cast<int>(colors.size()));
    if (trns != nullptr && !trns->empty()) {
      png_set_tRNS(png, info, trns->data(), static_cast<int>(trns->size()), nullptr);
    }
  }
  png_set_rows(png, info, rows.data());
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace

std::string EncodePng(const Image& image, const PngOptions& options) {
  const int channels = image.channels + (options.alpha ? 1 : 0);
  const int color_type = image.channels == 1
                             ? (options.alpha ? PNG_COLOR_TYPE_GRAY_ALPHA : PNG_COLOR_TYPE_GRAY)
                             : (options.alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB);
  const int bytes = options.bit_depth / 8;
  const size_t row_bytes = static_cast<size_t>(image.width) * channels * bytes;
  return WritePng(image.width, image.height, options.bit_depth, color_type, options.interlaced,
                  row_bytes, nullptr, nullptr, [&](int y, uint8_t* row) {
                    for (int x = 0; x < image.width; ++x) {
                      for (int c = 0; c < channels; ++c) {
                        const size_t pixel = static_cast<size_t>(y) * image.width + x;
                        unsigned v;
                        if (c == image.channels) {
                          v = options.alpha_values[pixel];
                          if (bytes == 2) v *= 257;
                        } else if (bytes == 2) {
                          v = options.samples16[pixel * image.channels + c];
                        } else {
                          v = image.pixels[pixel * image.channels + c];
                        }
                        uint8_t* dst = row + (static_cast<size_t>(x) * channels + c) * bytes;
                        if (bytes == 2) {
                          dst[0] = static_cast<uint8_t>(v >> 8);
                          dst[1] = static_cast<uint8_t>(v & 0xFF);
                        } else {
                          dst[0] = static_cast<uint8_t>(v);
                        }
                      }
                    }
                  });
}

std::string EncodePalettePng(int width, int height, const std::vector<uint8_t>& indices,
                             const std::vector<uint8_t>& palette,
                             const std::vector<uint8_t>& trns) {
  return WritePng(width, height, 8, PNG_COLOR_TYPE_PALETTE, false, static_cast<size_t>(width),
                  &palette, &trns, [&](int y, uint8_t* row) {
                    std::memcpy(row, indices.data() + static_cast<size_t>(y) * width, width);
                  });
}

namespace {

// Encodes `height` rows of `width * components` bytes each, starting at
// `pixels`, in `color_space`. Empty on a libjpeg error.
std::string EncodeJpegRows(const uint8_t* pixels, int width, int height, int components,
                           J_COLOR_SPACE color_space, int quality, bool progressive) {
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = JpegFail;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    return "";
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = color_space;
  jpeg_set_defaults(&cinfo);
  if (quality > 0) jpeg_set_quality(&cinfo, quality, TRUE);
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = static_cast<size_t>(width) * components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels) + cinfo.next_scanline * stride;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string out(reinterpret_cast<char*>(buffer), size);
  std::free(buffer);
  return out;
}

}  // namespace

std::string EncodeJpeg(const Image& image, int quality, bool progressive) {
  return EncodeJpegRows(image.row(0), image.width, image.height, image.channels,
                        image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB, quality, progressive);
}

// libjpeg's default quality (75), as before.
std::string EncodeCmykJpeg(int width, int height, const std::vector<uint8_t>& cmyk) {
  return EncodeJpegRows(cmyk.data(), width, height, 4, JCS_CMYK, /*quality=*/0,
                        /*progressive=*/false);
}

std::string EncodeWebpLossless(const Image& image) {
  uint8_t* output = nullptr;
  const size_t size = WebPEncodeLosslessRGB(image.pixels.data(), image.width, image.height,
                                            image.width * 3, &output);
  std::string out(reinterpret_cast<char*>(output), size);
  WebPFree(output);
  return out;
}

Image SyntheticPhoto(int width, int height, uint32_t seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = 3;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  uint32_t state = seed * 2654435761u + 1;
  const double phase = seed * 0.7;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double u = static_cast<double>(x) / width, v = static_cast<double>(y) / height;
      const double base = 0.5 + 0.25 * std::sin(6.0 * u + 3.0 * v + phase) +
                          0.2 * std::cos(11.0 * v - 4.0 * u * v + phase);
      for (int c = 0; c < 3; ++c) {
        state = state * 1664525u + 1013904223u;
        const double noise = ((state >> 24) / 255.0 - 0.5) * 0.06;
        const double tint = 0.85 + 0.15 * std::sin(2.0 * c + 5.0 * u);
        const double value = std::fmin(1.0, std::fmax(0.0, base * tint + noise));
        image.pixels[(static_cast<size_t>(y) * width + x) * 3 + c] =
            static_cast<uint8_t>(std::lround(value * 255.0));
      }
    }
  }
  return image;
}

Image Uniform(int width, int height, int channels, uint8_t value) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.assign(static_cast<size_t>(width) * height * channels, value);
  return image;
}

}  // namespace optout::pdq::testing
