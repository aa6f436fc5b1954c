#include "client/dataset/compressed_io.h"

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace optout::dataset {
namespace {

constexpr size_t kInBytes = 1 << 18;

class File {
 public:
  explicit File(std::FILE* f) : f_(f) {}
  ~File() {
    if (f_ != nullptr) std::fclose(f_);
  }
  std::FILE* get() const { return f_; }
  std::FILE* release() {
    std::FILE* f = f_;
    f_ = nullptr;
    return f;
  }

 private:
  std::FILE* f_;
};

class PlainReader final : public ByteReader {
 public:
  explicit PlainReader(std::FILE* f) : file_(f) {}
  absl::StatusOr<size_t> Read(char* buffer, size_t n) override {
    const size_t got = std::fread(buffer, 1, n, file_.get());
    if (got == 0 && std::ferror(file_.get())) return absl::UnavailableError("read error");
    consumed_ += static_cast<int64_t>(got);
    return got;
  }
  int64_t file_bytes_read() const override { return consumed_; }

 private:
  File file_;
  int64_t consumed_ = 0;
};

// Shared by the two decompressors: refills `in_` from the file.
class CompressedReader : public ByteReader {
 public:
  explicit CompressedReader(std::FILE* f) : file_(f), in_(kInBytes, '\0') {}
  int64_t file_bytes_read() const override { return consumed_; }

 protected:
  // False at the end of the file.
  absl::StatusOr<bool> Refill() {
    if (pos_ < size_) return true;
    size_ = std::fread(in_.data(), 1, in_.size(), file_.get());
    pos_ = 0;
    if (size_ == 0 && std::ferror(file_.get())) return absl::UnavailableError("read error");
    return size_ > 0;
  }
  absl::Status Corrupt(const char* what) const {
    return absl::DataLossError(absl::StrCat(what, " (compressed byte ", consumed_, ")"));
  }

  File file_;
  std::string in_;
  size_t pos_ = 0, size_ = 0;
  int64_t consumed_ = 0;
};

class GzipReader final : public CompressedReader {
 public:
  explicit GzipReader(std::FILE* f) : CompressedReader(f) { inflateInit2(&z_, 15 + 16); }
  ~GzipReader() override { inflateEnd(&z_); }

  absl::StatusOr<size_t> Read(char* buffer, size_t n) override {
    z_.next_out = reinterpret_cast<Bytef*>(buffer);
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out == n) {
      auto more = Refill();
      if (!more.ok()) return more.status();
      if (!*more) {
        if (in_member_) return Corrupt("gzip stream ends in the middle");
        break;
      }
      z_.next_in = reinterpret_cast<Bytef*>(in_.data() + pos_);
      z_.avail_in = static_cast<uInt>(size_ - pos_);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      const size_t used = (size_ - pos_) - z_.avail_in;
      pos_ += used;
      consumed_ += static_cast<int64_t>(used);
      in_member_ = true;
      if (rc == Z_STREAM_END) {
        // Another member may follow (concatenated .gz files).
        in_member_ = false;
        inflateReset(&z_);
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Corrupt("corrupt gzip data");
      }
    }
    return n - z_.avail_out;
  }

 private:
  z_stream z_{};
  bool in_member_ = false;
};

class ZstdReader final : public CompressedReader {
 public:
  explicit ZstdReader(std::FILE* f) : CompressedReader(f), z_(ZSTD_createDStream()) {}
  ~ZstdReader() override { ZSTD_freeDStream(z_); }

  absl::StatusOr<size_t> Read(char* buffer, size_t n) override {
    ZSTD_outBuffer out{buffer, n, 0};
    while (out.pos == 0) {
      auto more = Refill();
      if (!more.ok()) return more.status();
      if (!*more) {
        if (in_frame_) return Corrupt("zstd stream ends in the middle");
        break;
      }
      ZSTD_inBuffer in{in_.data() + pos_, size_ - pos_, 0};
      const size_t rc = ZSTD_decompressStream(z_, &out, &in);
      pos_ += in.pos;
      consumed_ += static_cast<int64_t>(in.pos);
      if (ZSTD_isError(rc)) return Corrupt("corrupt zstd data");
      in_frame_ = rc != 0;
    }
    return out.pos;
  }

 private:
  ZSTD_DStream* z_;
  bool in_frame_ = false;
};

absl::Status WriteError(const std::string& path) {
  return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
}

class FileWriter : public ByteWriter {
 public:
  FileWriter(std::string path, std::FILE* f) : path_(std::move(path)), file_(f) {}
  absl::Status Write(absl::string_view bytes) override { return Put(bytes); }
  absl::Status Close() override {
    std::FILE* f = file_.release();
    const bool ok = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
    if (std::fclose(f) != 0 || !ok) return WriteError(path_);
    return absl::OkStatus();
  }

 protected:
  absl::Status Put(absl::string_view bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size()) return WriteError(path_);
    return absl::OkStatus();
  }
  const std::string path_;
  File file_;
};

class GzipWriter final : public FileWriter {
 public:
  GzipWriter(std::string path, std::FILE* f) : FileWriter(std::move(path), f), out_(kInBytes, '\0') {
    deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  }
  ~GzipWriter() override { deflateEnd(&z_); }
  absl::Status Write(absl::string_view bytes) override { return Deflate(bytes, Z_NO_FLUSH); }
  absl::Status Close() override {
    absl::Status s = Deflate("", Z_FINISH);
    if (!s.ok()) return s;
    return FileWriter::Close();
  }

 private:
  absl::Status Deflate(absl::string_view bytes, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z_.avail_in = static_cast<uInt>(bytes.size());
    int rc;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      rc = deflate(&z_, flush);
      absl::Status s = Put(absl::string_view(out_.data(), out_.size() - z_.avail_out));
      if (!s.ok()) return s;
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return absl::OkStatus();
  }
  z_stream z_{};
  std::string out_;
};

class ZstdWriter final : public FileWriter {
 public:
  ZstdWriter(std::string path, std::FILE* f)
      : FileWriter(std::move(path), f), z_(ZSTD_createCCtx()), out_(ZSTD_CStreamOutSize(), '\0') {}
  ~ZstdWriter() override { ZSTD_freeCCtx(z_); }
  absl::Status Write(absl::string_view bytes) override { return Compress(bytes, ZSTD_e_continue); }
  absl::Status Close() override {
    absl::Status s = Compress("", ZSTD_e_end);
    if (!s.ok()) return s;
    return FileWriter::Close();
  }

 private:
  absl::Status Compress(absl::string_view bytes, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const size_t left = ZSTD_compressStream2(z_, &out, &in, mode);
      if (ZSTD_isError(left)) return absl::InternalError("zstd compression failed");
      absl::Status s = Put(absl::string_view(out_.data(), out.pos));
      if (!s.ok()) return s;
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return absl::OkStatus();
    }
  }
  ZSTD_CCtx* z_;
  std::string out_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ByteReader>> OpenByteReader(const std::string& path,
                                                           Compression compression) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  switch (compression) {
    case Compression::kGzip: return std::unique_ptr<ByteReader>(std::make_unique<GzipReader>(f));
    case Compression::kZstd: return std::unique_ptr<ByteReader>(std::make_unique<ZstdReader>(f));
    case Compression::kNone: break;
  }
  return std::unique_ptr<ByteReader>(std::make_unique<PlainReader>(f));
}

absl::StatusOr<std::unique_ptr<ByteWriter>> OpenByteWriter(const std::string& path,
                                                           Compression compression) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return WriteError(path);
  switch (compression) {
    case Compression::kGzip: return std::unique_ptr<ByteWriter>(std::make_unique<GzipWriter>(path, f));
    case Compression::kZstd: return std::unique_ptr<ByteWriter>(std::make_unique<ZstdWriter>(path, f));
    case Compression::kNone: break;
  }
  return std::unique_ptr<ByteWriter>(std::make_unique<FileWriter>(path, f));
}

}  // namespace optout::dataset
