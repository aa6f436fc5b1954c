#include "client/pdq/decode_jpeg.h"

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <vector>

// clang-format off: jpeglib.h needs <cstdio> first.
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include "absl/strings/str_cat.h"

namespace optout::pdq {
namespace {

// A real file rarely produces more than a handful of corrupt-data warnings;
// thousands mean garbage that libjpeg would otherwise grind through.
constexpr int kMaxWarnings = 1000;

// libjpeg reports fatal errors through error_exit, which must not return; we
// longjmp back to RunDecode. Only libjpeg's C frames lie between, so no C++
// destructor is skipped.
struct ErrorManager {
  jpeg_error_mgr pub;  // first member: libjpeg sees only this
  jpeg_progress_mgr progress;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
  int warnings;
  int max_scans;
};

ErrorManager* Manager(j_common_ptr cinfo) { return reinterpret_cast<ErrorManager*>(cinfo->err); }

[[noreturn]] void Fail(j_common_ptr cinfo) {
  ErrorManager* err = Manager(cinfo);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void OnErrorExit(j_common_ptr cinfo) { Fail(cinfo); }

void OnEmitMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace output
  ErrorManager* err = Manager(cinfo);
  // libjpeg pads a truncated file with grey and carries on; for hashing that
  // would be a silently wrong answer, so it is an error here.
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
    err->truncated = true;
    Fail(cinfo);
  }
  if (++err->warnings > kMaxWarnings) {
    std::snprintf(err->message, sizeof(err->message), "more than %d corrupt-data warnings",
                  kMaxWarnings);
    std::longjmp(err->jump, 1);
  }
}

void OnProgress(j_common_ptr cinfo) {
  ErrorManager* err = Manager(cinfo);
  auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->input_scan_number > err->max_scans) {
    std::snprintf(err->message, sizeof(err->message), "more than %d progressive scans",
                  err->max_scans);
    std::longjmp(err->jump, 1);
  }
}

void CmykToRgb(const uint8_t* cmyk, int width, uint8_t* rgb) {
  // Adobe CMYK JPEGs (nearly all of them) store inverted samples, so each
  // sample is already "amount of light": channel = sample * K / 255.
  for (int x = 0; x < width; ++x) {
    const int k = cmyk[4 * x + 3];
    for (int c = 0; c < 3; ++c) rgb[3 * x + c] = static_cast<uint8_t>((cmyk[4 * x + c] * k + 127) / 255);
  }
}

// Returns false after a libjpeg error (message in err->message). Every object
// here that outlives a libjpeg call is trivially destructible or owned by the
// caller, which is what makes the longjmp safe.
bool RunDecode(jpeg_decompress_struct* cinfo, ErrorManager* err, absl::string_view bytes,
               const DecodeLimits* limits, RowSink* sink, std::vector<uint8_t>* buffer,
               absl::Status* status) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  cinfo->progress = &err->progress;
  // Bounds libjpeg's own allocations (coefficient buffers of progressive
  // files) even if the size check below were bypassed; there is no backing
  // store, so exceeding it is an error rather than a temp file.
  const int64_t pixels = limits->max_pixels < (int64_t{1} << 40) ? limits->max_pixels : int64_t{1} << 40;
  cinfo->mem->max_memory_to_use = static_cast<long>(pixels * 8 + (int64_t{64} << 20));
  jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
    *status = absl::InvalidArgumentError("corrupt JPEG: no image in the data stream");
    return true;
  }
  *status = CheckImageSize("JPEG", cinfo->image_width, cinfo->image_height, *limits);
  if (!status->ok()) return true;

  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  if (cmyk) {
    cinfo->out_color_space = JCS_CMYK;
  } else if (cinfo->out_color_space != JCS_GRAYSCALE) {
    cinfo->out_color_space = JCS_RGB;
  }
  jpeg_start_decompress(cinfo);
  const int width = static_cast<int>(cinfo->output_width);
  const int in_channels = cinfo->output_components;
  const int out_channels = in_channels == 1 ? 1 : 3;
  if (in_channels != 1 && in_channels != 3 && in_channels != 4) {
    *status = absl::UnimplementedError(
        absl::StrCat("unsupported JPEG: ", in_channels, " output components"));
    return true;
  }
  constexpr int kMaxBatch = 4;
  const int batch = cinfo->rec_outbuf_height < kMaxBatch ? cinfo->rec_outbuf_height : kMaxBatch;
  const size_t in_row = static_cast<size_t>(width) * in_channels;
  buffer->resize(in_row * batch + (cmyk ? static_cast<size_t>(width) * 3 : 0));
  JSAMPROW rows[kMaxBatch];
  for (int i = 0; i < batch; ++i) rows[i] = buffer->data() + in_row * i;
  uint8_t* rgb = buffer->data() + in_row * batch;

  sink->Begin(width, static_cast<int>(cinfo->output_height), out_channels);
  while (cinfo->output_scanline < cinfo->output_height) {
    const int first = static_cast<int>(cinfo->output_scanline);
    const int got = static_cast<int>(jpeg_read_scanlines(cinfo, rows, batch));
    for (int i = 0; i < got; ++i) {
      if (cmyk) {
        CmykToRgb(rows[i], width, rgb);
        sink->PutRow(first + i, rgb);
      } else {
        sink->PutRow(first + i, rows[i]);
      }
    }
  }
  // Stop here: trailing data after the last scan cannot change the pixels.
  *status = absl::OkStatus();
  return true;
}

}  // namespace

absl::Status DecodeJpeg(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = OnErrorExit;
  err.pub.emit_message = OnEmitMessage;
  err.progress.progress_monitor = OnProgress;
  err.max_scans = limits.max_jpeg_scans;
  std::vector<uint8_t> buffer;
  absl::Status status;
  const bool ok = RunDecode(&cinfo, &err, bytes, &limits, &sink, &buffer, &status);
  jpeg_destroy_decompress(&cinfo);
  if (ok) return status;
  if (err.truncated) {
    return absl::InvalidArgumentError(absl::StrCat("truncated JPEG: ", err.message));
  }
  return absl::InvalidArgumentError(absl::StrCat("corrupt JPEG: ", err.message));
}

}  // namespace optout::pdq
