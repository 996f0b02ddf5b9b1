#pragma once
// Request bodies with a Content-Encoding, decoded by our own code rather than httplib's, which
// takes a gzip stream cut before its trailer for a whole one (no CRC or length check), reads
// unknown codings as plain text, and refuses a second gzip member.

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

namespace cdbemu::http {

/// Receives decoded bytes; false stops the decoding.
using DecodedSink = std::function<bool(const char *data, std::size_t size)>;

/// A streaming decoder of one Content-Encoding.
class BodyDecoder {
 public:
  virtual ~BodyDecoder() = default;
  /// Decodes `size` more bytes into `sink`; false when they are not valid data of this coding
  /// (trailing bytes after the end included) or when `sink` asked to stop.
  virtual bool feed(const char *data, std::size_t size, const DecodedSink &sink) = 0;
  /// Whether what was fed is whole: the coded data ended (or nothing was fed: an empty body).
  virtual bool finished() const = 0;
};

/// Whether the server decodes `content_encoding`: none, identity, gzip, x-gzip, deflate or br
/// (one coding, any case).
bool supported_encoding(std::string_view content_encoding);

/// The decoder of a supported `content_encoding`, or nullptr for a body that is not encoded.
/// gzip and x-gzip take one or more gzip members (RFC 1952); deflate takes the zlib format
/// (RFC 1950); br takes brotli (RFC 7932).
std::unique_ptr<BodyDecoder> make_body_decoder(std::string_view content_encoding);

}  // namespace cdbemu::http
