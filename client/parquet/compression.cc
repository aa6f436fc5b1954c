#include "client/parquet/compression.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/parquet/format.h"

namespace optout::parquet {
namespace {

absl::Status Unsupported(int codec) {
  return absl::UnimplementedError(
      absl::StrCat("compression codec ", CodecName(codec), " is not supported (only UNCOMPRESSED, "
                   "SNAPPY, GZIP and ZSTD)"));
}

// gzip members (windowBits 15 + 32 also accepts a zlib header). Parquet's
// GZIP pages are whole gzip streams; some writers concatenate members.
absl::Status Inflate(absl::string_view in, size_t size, std::string* out) {
  out->resize(size);
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return absl::InternalError("zlib init failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data());
  z.avail_out = static_cast<uInt>(size);
  int rc = Z_OK;
  while (rc == Z_OK) {
    rc = inflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END && z.avail_in > 0 && z.avail_out > 0) {
      rc = inflateReset(&z) == Z_OK ? Z_OK : Z_DATA_ERROR;
    }
    if (rc == Z_BUF_ERROR && z.avail_out == 0) break;
  }
  const bool ok = (rc == Z_STREAM_END || rc == Z_BUF_ERROR) && z.avail_out == 0 && z.avail_in == 0;
  inflateEnd(&z);
  if (!ok) return absl::DataLossError("gzip page does not decompress to its stated size");
  return absl::OkStatus();
}

absl::Status Deflate(absl::string_view in, std::string* out) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("zlib init failed");
  }
  out->resize(deflateBound(&z, in.size()));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data());
  z.avail_out = static_cast<uInt>(out->size());
  const int rc = deflate(&z, Z_FINISH);
  out->resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return absl::InternalError("gzip compression failed");
  return absl::OkStatus();
}

}  // namespace

bool CodecSupported(int codec) {
  switch (static_cast<Codec>(codec)) {
    case Codec::kUncompressed:
    case Codec::kSnappy:
    case Codec::kGzip:
    case Codec::kZstd:
      return true;
    default:
      return false;
  }
}

absl::Status Decompress(int codec, absl::string_view in, size_t size, std::string* out) {
  if (size > UINT_MAX) return absl::DataLossError("page larger than 4 GiB");
  switch (static_cast<Codec>(codec)) {
    case Codec::kUncompressed:
      if (in.size() != size) return absl::DataLossError("page size differs from its header");
      out->assign(in.data(), in.size());
      return absl::OkStatus();
    case Codec::kSnappy: {
      size_t length = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &length) || length != size) {
        return absl::DataLossError("snappy page does not decompress to its stated size");
      }
      out->resize(size);
      if (!snappy::RawUncompress(in.data(), in.size(), out->data())) {
        return absl::DataLossError("corrupt snappy page");
      }
      return absl::OkStatus();
    }
    case Codec::kGzip:
      return Inflate(in, size, out);
    case Codec::kZstd: {
      out->resize(size);
      const size_t n = ZSTD_decompress(out->data(), size, in.data(), in.size());
      if (ZSTD_isError(n) || n != size) {
        return absl::DataLossError("zstd page does not decompress to its stated size");
      }
      return absl::OkStatus();
    }
    default:
      return Unsupported(codec);
  }
}

absl::Status Compress(int codec, absl::string_view in, std::string* out) {
  if (static_cast<Codec>(codec) == Codec::kGzip) return Deflate(in, out);
  std::string scratch;
  absl::StatusOr<absl::string_view> packed = CompressTo(codec, in, &scratch);
  if (!packed.ok()) return packed.status();
  if (packed->data() == scratch.data()) {
    scratch.resize(packed->size());
    *out = std::move(scratch);
  } else {
    out->assign(packed->data(), packed->size());
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> CompressTo(int codec, absl::string_view in, std::string* scratch) {
  // Grown to the codec's bound when short; never shrunk.
  auto room = [scratch](size_t bound) {
    if (scratch->size() < bound) scratch->resize(bound);
    return scratch->data();
  };
  switch (static_cast<Codec>(codec)) {
    case Codec::kUncompressed:
      return in;
    case Codec::kSnappy: {
      char* out = room(snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), out, &n);
      return absl::string_view(out, n);
    }
    case Codec::kGzip: {
      // Rare in releases; zlib sizes its own output.
      std::string packed;
      if (absl::Status s = Deflate(in, &packed); !s.ok()) return s;
      if (scratch->size() < packed.size()) scratch->resize(packed.size());
      std::memcpy(scratch->data(), packed.data(), packed.size());
      return absl::string_view(scratch->data(), packed.size());
    }
    case Codec::kZstd: {
      const size_t bound = ZSTD_compressBound(in.size());
      char* out = room(bound);
      const size_t n = ZSTD_compress(out, bound, in.data(), in.size(), 3);
      if (ZSTD_isError(n)) return absl::InternalError("zstd compression failed");
      return absl::string_view(out, n);
    }
    default:
      return Unsupported(codec);
  }
}

}  // namespace optout::parquet
