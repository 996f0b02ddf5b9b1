#pragma once
// The connection loop, which replaces httplib's own for HTTP and HTTPS alike. httplib times each
// read on its own (a client trickling a byte at a time holds a worker thread for ever), polls idle
// connections every 10 ms, and cannot be told to end a connection. Here:
// - a request (line, headers and body) must arrive within --read-timeout of its first byte;
// - a handler can end its connection after the answer (end_after_response);
// - idle keep-alive connections wait in poll() and end at once when the server stops.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

using SSL_CTX = struct ssl_ctx_st;

namespace httplib {
struct Request;
class Stream;
}  // namespace httplib

namespace cdbemu::http {

struct ConnectionLimits {
  std::chrono::milliseconds read_timeout{5000};  ///< from a request's first byte to its last
  std::chrono::milliseconds keep_alive_timeout{5000};  ///< idle time between requests
  std::chrono::milliseconds write_timeout{5000};  ///< for each write of an answer
  std::size_t keep_alive_max = 10000;  ///< most requests on one connection; the last is answered `Connection: close`
};

/// Reads one request from the stream and answers it: httplib::Server::process_request. False
/// when the connection is unusable; `connection_closed` when the answer said `Connection: close`.
using ServeRequest = std::function<bool(httplib::Stream &, bool close_connection, bool &connection_closed)>;

class ConnectionLoop {
 public:
  explicit ConnectionLoop(ConnectionLimits limits);
  ~ConnectionLoop();
  ConnectionLoop(const ConnectionLoop &) = delete;
  ConnectionLoop &operator=(const ConnectionLoop &) = delete;

  /// Serves the accepted socket `fd` (after a TLS handshake when `tls` is set) until the client
  /// closes it, it idles past the keep-alive timeout, a request runs past the read timeout, a
  /// handler ends it, or stop() runs; then closes it.
  void serve(int fd, SSL_CTX *tls, const ServeRequest &serve_request);

  /// Idle connections end now; a connection with a request in progress ends after its answer.
  void stop();

 private:
  ConnectionLimits limits_;
  int stop_fd_ = -1;  ///< an eventfd that becomes readable, for good, when stop() runs
  std::atomic<bool> stopping_{false};
};

/// Answers `req` with `Connection: close` and ends its connection after that answer.
void end_after_response(const httplib::Request &req);

/// Whether the request being read on this thread ran past the read timeout.
bool request_timed_out();

/// Most bytes of one line of a request's head (the request line or a header line, CRLF included),
/// as httplib's compiled-in limits have it, and of the whole head (request line, headers and the
/// blank line), which httplib does not bound at all.
constexpr std::size_t kMaxLineBytes = 8192;
constexpr std::size_t kMaxHeadBytes = 64 * 1024;

/// Which bound a request's head went over; the stream then ended for httplib (which fails the
/// request), and the connection ends after the answer.
enum class HeadLimit { None, RequestLine, HeaderLine, Head };

/// The bound the request being read on this thread went over.
HeadLimit request_head_limit();

/// A line of a request's head that httplib would skip or misread without a word: a line ending
/// in LF without CR, a CR without LF, a folded header line, a header line without a colon or with
/// blanks before it, a byte a header name may not have, an empty Content-Length or
/// Transfer-Encoding, a Content-Length that is not one run of digits, a percent-encoded
/// Transfer-Encoding. Any of them could change how the request is framed, so such a request is
/// refused and its connection ended.
enum class HeadProblem {
  None,
  BareLf,
  BareCr,
  Folded,
  NoColon,
  SpaceBeforeColon,
  BadNameByte,
  EmptyFramingValue,
  BadContentLength,
  BadTransferEncoding
};

/// The first such problem in the head of the request being read on this thread.
HeadProblem request_head_problem();

/// Makes the rest of the current request a chunked body (RFC 9112 section 7.1) that this thread's
/// connection decodes itself: reads return its data, then end-of-stream after the last chunk and
/// the trailer section (extensions and trailer fields are dropped). Anything that is not strictly
/// chunked coding (a bad or overlong size line, a chunk with more or less data than its size, bare
/// LF line ends), an end of stream before the last chunk, or more than `limit` bytes of data, is a
/// read error: the connection is then out of step and ends after the answer.
void decode_chunked_body(std::uint64_t limit);

/// Whether the chunked body being read on this thread went over its limit.
bool chunked_body_over_limit();

}  // namespace cdbemu::http
