#include "client/pdq/decode_heif.h"

#include <libheif/heif.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace optout::pdq {
namespace {

struct ContextFree {
  void operator()(heif_context* c) const { heif_context_free(c); }
};
struct HandleRelease {
  void operator()(heif_image_handle* h) const { heif_image_handle_release(h); }
};
struct ImageRelease {
  void operator()(heif_image* i) const { heif_image_release(i); }
};
struct OptionsFree {
  void operator()(heif_decoding_options* o) const { heif_decoding_options_free(o); }
};

absl::Status HeifError(const heif_error& error) {
  const std::string text = absl::StrCat("HEIF: ", error.message != nullptr ? error.message : "?");
  if (error.code == heif_error_Unsupported_feature || error.code == heif_error_Unsupported_filetype) {
    return absl::UnimplementedError(absl::StrCat("unsupported ", text));
  }
  if (error.code == heif_error_Memory_allocation_error) {
    return absl::ResourceExhaustedError(text);
  }
  return absl::InvalidArgumentError(absl::StrCat("corrupt ", text));
}

}  // namespace

absl::Status DecodeHeif(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink) {
  // Loads libheif's codec plugins once per process (reference counted).
  static const bool initialized = [] {
    heif_init(nullptr);
    return true;
  }();
  (void)initialized;
  std::unique_ptr<heif_context, ContextFree> context(heif_context_alloc());
  if (context == nullptr) return absl::ResourceExhaustedError("HEIF: no memory for a context");
  heif_error error =
      heif_context_read_from_memory_without_copy(context.get(), bytes.data(), bytes.size(), nullptr);
  if (error.code != heif_error_Ok) return HeifError(error);
  heif_image_handle* raw_handle = nullptr;
  error = heif_context_get_primary_image_handle(context.get(), &raw_handle);
  if (error.code != heif_error_Ok) return HeifError(error);
  std::unique_ptr<heif_image_handle, HandleRelease> handle(raw_handle);
  absl::Status size_ok = CheckImageSize("HEIF", heif_image_handle_get_width(handle.get()),
                                        heif_image_handle_get_height(handle.get()), limits);
  if (!size_ok.ok()) return size_ok;

  std::unique_ptr<heif_decoding_options, OptionsFree> options(heif_decoding_options_alloc());
  heif_image* raw_image = nullptr;
  error = heif_decode_image(handle.get(), &raw_image, heif_colorspace_RGB,
                            heif_chroma_interleaved_RGB, options.get());
  if (error.code != heif_error_Ok) return HeifError(error);
  std::unique_ptr<heif_image, ImageRelease> image(raw_image);
  const int width = heif_image_get_width(image.get(), heif_channel_interleaved);
  const int height = heif_image_get_height(image.get(), heif_channel_interleaved);
  // The transformations may change the size (a crop); check it again.
  size_ok = CheckImageSize("HEIF", width, height, limits);
  if (!size_ok.ok()) return size_ok;
  int stride = 0;
  const uint8_t* pixels =
      heif_image_get_plane_readonly(image.get(), heif_channel_interleaved, &stride);
  if (pixels == nullptr || heif_image_get_bits_per_pixel_range(image.get(),
                                                               heif_channel_interleaved) != 8) {
    return absl::UnimplementedError("unsupported HEIF: no 8-bit RGB rendering");
  }
  sink.Begin(width, height, 3);
  for (int y = 0; y < height; ++y) sink.PutRow(y, pixels + static_cast<size_t>(stride) * y);
  return absl::OkStatus();
}

}  // namespace optout::pdq
