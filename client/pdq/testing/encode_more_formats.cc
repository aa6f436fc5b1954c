// GIF, TIFF and HEIF/AVIF encoders for tests: made at test time with the
// same Debian libraries the decoders use, so no binary test files are needed.
#include <gif_lib.h>
#include <libheif/heif.h>
#include <tiffio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "client/pdq/testing/image_encoder.h"

namespace optout::pdq::testing {
namespace {

int AppendToString(GifFileType* gif, const GifByteType* data, int n) {
  static_cast<std::string*>(gif->UserData)->append(reinterpret_cast<const char*>(data), n);
  return n;
}

Image Inverted(const Image& image) {
  Image out = image;
  for (uint8_t& v : out.pixels) v = static_cast<uint8_t>(255 - v);
  return out;
}

// 6 x 7 x 6 levels of R, G, B (252 colours) with Floyd-Steinberg error
// diffusion, as GIF converters do by default: the error is pushed into high
// frequencies, which PDQ filters out, so the hash moves little.
constexpr int kLevels[3] = {6, 7, 6};

int Nearest(int value, int levels) {
  const int step = std::clamp((value * (levels - 1) + 127) / 255, 0, levels - 1);
  return step;
}

bool Quantize(const Image& image, std::vector<GifByteType>* indexes, ColorMapObject** map) {
  *map = GifMakeMapObject(256, nullptr);
  if (*map == nullptr) return false;
  for (int i = 0; i < 256; ++i) (*map)->Colors[i] = GifColorType{0, 0, 0};
  for (int r = 0; r < kLevels[0]; ++r) {
    for (int g = 0; g < kLevels[1]; ++g) {
      for (int b = 0; b < kLevels[2]; ++b) {
        GifColorType& c = (*map)->Colors[(r * kLevels[1] + g) * kLevels[2] + b];
        c.Red = static_cast<GifByteType>(r * 255 / (kLevels[0] - 1));
        c.Green = static_cast<GifByteType>(g * 255 / (kLevels[1] - 1));
        c.Blue = static_cast<GifByteType>(b * 255 / (kLevels[2] - 1));
      }
    }
  }
  const int w = image.width, h = image.height;
  std::vector<float> work(image.pixels.begin(), image.pixels.end());
  indexes->assign(static_cast<size_t>(w) * h, 0);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      int level[3];
      for (int c = 0; c < 3; ++c) {
        float& v = work[(static_cast<size_t>(y) * w + x) * 3 + c];
        const int value = static_cast<int>(std::clamp(v, 0.0f, 255.0f) + 0.5f);
        level[c] = Nearest(value, kLevels[c]);
        const float error = v - static_cast<float>(level[c] * 255 / (kLevels[c] - 1));
        auto spread = [&](int dx, int dy, float weight) {
          if (x + dx < 0 || x + dx >= w || y + dy >= h) return;
          work[(static_cast<size_t>(y + dy) * w + x + dx) * 3 + c] += error * weight;
        };
        spread(1, 0, 7 / 16.0f);
        spread(-1, 1, 3 / 16.0f);
        spread(0, 1, 5 / 16.0f);
        spread(1, 1, 1 / 16.0f);
      }
      (*indexes)[static_cast<size_t>(y) * w + x] =
          static_cast<GifByteType>((level[0] * kLevels[1] + level[1]) * kLevels[2] + level[2]);
    }
  }
  return true;
}

}  // namespace

std::string EncodeGif(const Image& image, int frames) {
  if (image.channels != 3) return "";
  std::string out;
  int error = 0;
  GifFileType* gif = EGifOpen(&out, AppendToString, &error);
  if (gif == nullptr) return "";
  bool ok = EGifPutScreenDesc(gif, image.width, image.height, 8, 0, nullptr) != GIF_ERROR;
  for (int f = 0; ok && f < frames; ++f) {
    std::vector<GifByteType> indexes;
    ColorMapObject* map = nullptr;
    if (!Quantize(f == 0 ? image : Inverted(image), &indexes, &map)) {
      ok = false;
      break;
    }
    ok = EGifPutImageDesc(gif, 0, 0, image.width, image.height, false, map) != GIF_ERROR;
    for (int y = 0; ok && y < image.height; ++y) {
      ok = EGifPutLine(gif, indexes.data() + static_cast<size_t>(y) * image.width,
                       image.width) != GIF_ERROR;
    }
    GifFreeMapObject(map);
  }
  if (EGifCloseFile(gif, &error) == GIF_ERROR) ok = false;
  return ok ? out : "";
}

std::string EncodeTiff(const Image& image, int pages) {
  if (image.channels != 3) return "";
  // libtiff reads back earlier directories when it adds a page, so it
  // writes to a real (temporary) file rather than to a stream.
  char path[] = "/tmp/optout-test-tiff-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return "";
  TIFF* tif = TIFFFdOpen(fd, path, "w");
  if (tif == nullptr) {
    ::close(fd);
    ::unlink(path);
    return "";
  }
  bool ok = true;
  for (int p = 0; ok && p < pages; ++p) {
    const Image page = p == 0 ? image : Inverted(image);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(image.width));
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(image.height));
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(image.height));
    for (int y = 0; ok && y < image.height; ++y) {
      ok = TIFFWriteScanline(tif, const_cast<uint8_t*>(page.row(y)), y, 0) == 1;
    }
    ok = ok && TIFFWriteDirectory(tif) == 1;
  }
  TIFFClose(tif);  // closes fd
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  ::unlink(path);
  return ok ? bytes.str() : "";
}

namespace {

heif_error WriteToString(heif_context*, const void* data, size_t size, void* user) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(data), size);
  return heif_error{heif_error_Ok, heif_suberror_Unspecified, "ok"};
}

}  // namespace

std::string EncodeHeif(const Image& image, HeifCodec codec, int quality) {
  if (image.channels != 3) return "";
  heif_init(nullptr);
  const heif_compression_format format =
      codec == HeifCodec::kHevc ? heif_compression_HEVC : heif_compression_AV1;
  std::string out;
  heif_context* context = heif_context_alloc();
  heif_encoder* encoder = nullptr;
  heif_image* picture = nullptr;
  bool ok = heif_context_get_encoder_for_format(context, format, &encoder).code == heif_error_Ok &&
            heif_image_create(image.width, image.height, heif_colorspace_RGB,
                              heif_chroma_interleaved_RGB, &picture)
                    .code == heif_error_Ok &&
            heif_image_add_plane(picture, heif_channel_interleaved, image.width, image.height, 8)
                    .code == heif_error_Ok;
  if (ok) {
    int stride = 0;
    uint8_t* plane = heif_image_get_plane(picture, heif_channel_interleaved, &stride);
    for (int y = 0; y < image.height; ++y) {
      std::memcpy(plane + static_cast<size_t>(stride) * y, image.row(y), image.row_bytes());
    }
    heif_encoder_set_lossy_quality(encoder, quality);
    ok = heif_context_encode_image(context, picture, encoder, nullptr, nullptr).code ==
         heif_error_Ok;
  }
  if (ok) {
    heif_writer writer{1, WriteToString};
    ok = heif_context_write(context, &writer, &out).code == heif_error_Ok;
  }
  if (picture != nullptr) heif_image_release(picture);
  if (encoder != nullptr) heif_encoder_release(encoder);
  heif_context_free(context);
  heif_deinit();
  return ok ? out : "";
}

}  // namespace optout::pdq::testing
