#include <doctest/doctest.h>
#include <zlib.h>

#include <string>

#include "http/body_decoder.hpp"

using cdbemu::http::make_body_decoder;
using cdbemu::http::supported_encoding;

namespace {

/// `text` compressed by zlib: window_bits 31 is gzip, 15 the zlib format.
std::string compressed(const std::string &text, int window_bits) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef *>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

struct Decoded {
  bool fed = false;
  bool finished = false;
  std::string text;
};

/// Decodes `data` fed in pieces of `piece` bytes.
Decoded decode(const std::string &encoding, const std::string &data, std::size_t piece = 7) {
  auto decoder = make_body_decoder(encoding);
  REQUIRE(decoder);
  Decoded out;
  out.fed = true;
  for (std::size_t at = 0; at < data.size() && out.fed; at += piece) {
    out.fed = decoder->feed(data.data() + at, std::min(piece, data.size() - at),
                            [&](const char *bytes, std::size_t n) {
                              out.text.append(bytes, n);
                              return true;
                            });
  }
  out.finished = decoder->finished();
  return out;
}

const std::string kText = "Action=GetCdbDataSyncTaskList&Region=gz&Timestamp=1700000000&Nonce=1";

}  // namespace

TEST_CASE("the codings decoded are gzip, x-gzip, deflate and br, one at a time") {
  for (const char *coding : {"", "identity", "gzip", "GZIP", " x-gzip ", "deflate", "br"}) {
    CAPTURE(coding);
    CHECK(supported_encoding(coding));
  }
  for (const char *coding : {"compress", "gzip, gzip", "gzip,br", "zstd", "x-compress", "chunked"}) {
    CAPTURE(coding);
    CHECK_FALSE(supported_encoding(coding));
  }
  CHECK(make_body_decoder("identity") == nullptr);
  CHECK(make_body_decoder("") == nullptr);
}

TEST_CASE("gzip decodes whole streams and several members, and knows a stream cut short") {
  const std::string gzip = compressed(kText, 31);
  const Decoded whole = decode("gzip", gzip);
  CHECK(whole.fed);
  CHECK(whole.finished);
  CHECK(whole.text == kText);

  const Decoded two = decode("x-gzip", compressed("Action=A&", 31) + compressed("Region=gz", 31));
  CHECK(two.fed);
  CHECK(two.finished);
  CHECK(two.text == "Action=A&Region=gz");

  // Without its trailer the data all comes out, but the stream has not ended.
  const Decoded cut = decode("gzip", gzip.substr(0, gzip.size() - 8));
  CHECK(cut.fed);
  CHECK_FALSE(cut.finished);

  std::string bad_crc = gzip;
  bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 1);
  CHECK_FALSE(decode("gzip", bad_crc).fed);
  CHECK_FALSE(decode("gzip", gzip + "GARBAGE").fed);
  CHECK_FALSE(decode("gzip", kText).fed);
  CHECK_FALSE(decode("gzip", compressed(kText, 15)).fed);  // the zlib format is deflate's
}

TEST_CASE("deflate is the zlib format, and nothing may follow it") {
  const std::string zlib = compressed(kText, 15);
  const Decoded whole = decode("deflate", zlib, 1);
  CHECK(whole.fed);
  CHECK(whole.finished);
  CHECK(whole.text == kText);
  CHECK_FALSE(decode("deflate", zlib + zlib).fed);
  CHECK_FALSE(decode("deflate", zlib.substr(2)).fed);  // raw deflate data
  CHECK_FALSE(decode("deflate", zlib.substr(0, zlib.size() - 4)).finished);
}

TEST_CASE("brotli refuses what is no brotli stream, and an empty body is whole") {
  CHECK_FALSE(decode("br", kText).fed);
  CHECK(make_body_decoder("br")->finished());
  CHECK(make_body_decoder("gzip")->finished());
}

TEST_CASE("a sink that says stop stops the decoding") {
  auto decoder = make_body_decoder("gzip");
  const std::string gzip = compressed(std::string(1 << 20, 'a'), 31);
  std::size_t seen = 0;
  CHECK_FALSE(decoder->feed(gzip.data(), gzip.size(), [&](const char *, std::size_t n) {
    seen += n;
    return seen < 100000;
  }));
  CHECK(seen < 200000);
}
