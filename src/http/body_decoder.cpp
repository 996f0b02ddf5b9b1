#include "http/body_decoder.hpp"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace cdbemu::http {
namespace {

constexpr std::size_t kOutputBytes = 16 * 1024;

/// `text` without surrounding spaces and tabs, lower-cased.
std::string normalized(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  std::string out(text.substr(first, text.find_last_not_of(" \t") - first + 1));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// gzip (one or more members) or the zlib format.
class ZlibDecoder final : public BodyDecoder {
 public:
  explicit ZlibDecoder(bool gzip) : gzip_(gzip) {
    // 16 + 15: a gzip header; 15: a zlib header.
    if (inflateInit2(&stream_, gzip ? 16 + 15 : 15) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  }
  ~ZlibDecoder() override { inflateEnd(&stream_); }
  ZlibDecoder(const ZlibDecoder &) = delete;
  ZlibDecoder &operator=(const ZlibDecoder &) = delete;

  bool feed(const char *data, std::size_t size, const DecodedSink &sink) override {
    std::array<char, kOutputBytes> out;
    while (size > 0) {
      const auto piece = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
      stream_.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data));
      stream_.avail_in = piece;
      while (stream_.avail_in > 0) {
        if (ended_) {
          // Another gzip member may follow one (RFC 1952 section 2.2); nothing else may.
          if (!gzip_ || inflateReset(&stream_) != Z_OK) return false;
          ended_ = false;
        }
        fed_ = true;
        stream_.next_out = reinterpret_cast<Bytef *>(out.data());
        stream_.avail_out = static_cast<uInt>(out.size());
        const uInt before = stream_.avail_in;
        const int ret = inflate(&stream_, Z_NO_FLUSH);
        const std::size_t produced = out.size() - stream_.avail_out;
        if (ret != Z_OK && ret != Z_STREAM_END) return false;  // bad data, CRC or length included
        if (produced > 0 && !sink(out.data(), produced)) return false;
        if (ret == Z_STREAM_END) {
          ended_ = true;
        } else if (produced == 0 && stream_.avail_in == before) {
          return false;  // no progress: never loop for ever
        }
      }
      data += piece;
      size -= piece;
    }
    return true;
  }

  bool finished() const override { return ended_ || !fed_; }

 private:
  z_stream stream_{};
  bool gzip_;
  bool fed_ = false;
  bool ended_ = false;
};

class BrotliDecoder final : public BodyDecoder {
 public:
  BrotliDecoder() : state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {
    if (!state_) throw std::runtime_error("BrotliDecoderCreateInstance failed");
  }
  ~BrotliDecoder() override { BrotliDecoderDestroyInstance(state_); }
  BrotliDecoder(const BrotliDecoder &) = delete;
  BrotliDecoder &operator=(const BrotliDecoder &) = delete;

  bool feed(const char *data, std::size_t size, const DecodedSink &sink) override {
    if (size == 0) return true;
    if (ended_) return false;  // nothing may follow the end of the stream
    fed_ = true;
    std::size_t avail_in = size;
    const auto *next_in = reinterpret_cast<const std::uint8_t *>(data);
    std::array<std::uint8_t, kOutputBytes> out;
    for (;;) {
      std::size_t avail_out = out.size();
      std::uint8_t *next_out = out.data();
      const BrotliDecoderResult result =
          BrotliDecoderDecompressStream(state_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
      if (result == BROTLI_DECODER_RESULT_ERROR) return false;
      const std::size_t produced = out.size() - avail_out;
      if (produced > 0 && !sink(reinterpret_cast<const char *>(out.data()), produced)) return false;
      if (result == BROTLI_DECODER_RESULT_SUCCESS) {
        ended_ = true;
        return avail_in == 0;
      }
      if (result == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) return true;
      // BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: go round again.
    }
  }

  bool finished() const override { return ended_ || !fed_; }

 private:
  BrotliDecoderState *state_;
  bool fed_ = false;
  bool ended_ = false;
};

}  // namespace

bool supported_encoding(std::string_view content_encoding) {
  const std::string coding = normalized(content_encoding);
  return coding.empty() || coding == "identity" || coding == "gzip" || coding == "x-gzip" ||
         coding == "deflate" || coding == "br";
}

std::unique_ptr<BodyDecoder> make_body_decoder(std::string_view content_encoding) {
  const std::string coding = normalized(content_encoding);
  // x-gzip is gzip (RFC 9110 section 8.4.1.3).
  if (coding == "gzip" || coding == "x-gzip") return std::make_unique<ZlibDecoder>(true);
  if (coding == "deflate") return std::make_unique<ZlibDecoder>(false);
  if (coding == "br") return std::make_unique<BrotliDecoder>();
  return nullptr;
}

}  // namespace cdbemu::http
