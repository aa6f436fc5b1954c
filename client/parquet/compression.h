// File: client/parquet/compression.h
//
// Page compression: UNCOMPRESSED, SNAPPY (libsnappy), GZIP (zlib) and ZSTD
// (libzstd). Other codecs are Unimplemented, naming the codec. A page that
// does not decompress to exactly the size its header states is DataLoss.
// Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_PARQUET_COMPRESSION_H_
#define OPTOUT_CLIENT_PARQUET_COMPRESSION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::parquet {

// True for the codecs this library reads and writes.
bool CodecSupported(int codec);

// Decompresses `in` into *out, which must come to exactly `size` bytes.
absl::Status Decompress(int codec, absl::string_view in, size_t size, std::string* out);

// Replaces *out with `in` compressed by `codec`.
absl::Status Compress(int codec, absl::string_view in, std::string* out);

// `in` compressed by `codec`, written at the start of *scratch and returned
// as a view of it (of `in` itself when UNCOMPRESSED). *scratch only ever
// grows, so a writer that compresses page after page through one buffer
// neither allocates nor zero-fills a page-sized string per page (those
// were most of what compressing a rewritten row group cost beyond the
// compression itself). The view is valid until *scratch is next changed.
absl::StatusOr<absl::string_view> CompressTo(int codec, absl::string_view in, std::string* scratch);

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_COMPRESSION_H_
