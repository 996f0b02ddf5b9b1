#include "http/connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <malloc.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace cdbemu::http {
namespace {

using Clock = std::chrono::steady_clock;

/// A request of this many bytes or more gives its memory back to the system once answered.
constexpr std::size_t kTrimAfterBytes = 1024 * 1024;

/// Waits until `fd` is ready for `events` or `deadline` passes; false on the deadline or an error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (n > 0) return true;  // ready, or an error/hangup the next call reports
    if (n < 0 && errno != EINTR) return false;
  }
}

/// The address and port of a socket address, as httplib reports them.
void address_of(const sockaddr_storage &addr, std::string &ip, int &port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto &in = reinterpret_cast<const sockaddr_in &>(addr);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    port = ntohs(in.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto &in6 = reinterpret_cast<const sockaddr_in6 &>(addr);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    port = ntohs(in6.sin6_port);
  }
  ip = text;
}

/// One connection's byte stream, buffered, on a non-blocking socket (plain or TLS). Reads wait
/// at most until the current request's deadline; once it has passed, every read is end-of-stream,
/// so httplib stops parsing and our error handler answers.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, SSL *ssl, const ConnectionLimits &limits) : fd_(fd), ssl_(ssl), limits_(limits) {}

  /// Starts the clock of a request whose first byte is here.
  void begin_request() {
    deadline_ = Clock::now() + limits_.read_timeout;
    timed_out_ = false;
    chunked_ = Chunked::Off;
    chunk_over_limit_ = false;
    in_head_ = true;
    received_ = 0;
    head_bytes_ = 0;
    line_bytes_ = 0;
    previous_ = 0;
    colon_ = name_space_ = false;
    value_ = Value::Empty;
    name_.clear();
    head_problem_ = HeadProblem::None;
    head_limit_ = HeadLimit::None;
  }

  /// The rest of this request is a chunked body, decoded by read() (see decode_chunked_body).
  void begin_chunked_body(std::uint64_t limit) {
    chunked_ = Chunked::SizeLine;
    chunk_limit_ = limit;
    chunk_total_ = 0;
    chunk_left_ = 0;
  }
  bool chunk_over_limit() const { return chunk_over_limit_; }
  HeadLimit head_limit() const { return head_limit_; }
  HeadProblem head_problem() const { return head_problem_; }
  bool timed_out() const { return timed_out_; }
  /// Bytes received from the client since the current request began.
  std::size_t received() const { return received_; }
  bool buffered() const { return offset_ < size_ || (ssl_ && SSL_pending(ssl_) > 0); }
  void end_after_response() { ended_ = true; }
  bool ended() const { return ended_; }

  bool is_readable() const override { return buffered() || wait_for(fd_, POLLIN, deadline_); }
  bool is_writable() const override { return wait_for(fd_, POLLOUT, Clock::now() + limits_.write_timeout); }

  ssize_t read(char *ptr, std::size_t size) override {
    if (chunked_ != Chunked::Off) return read_chunked(ptr, size);
    if (head_limit_ != HeadLimit::None) return 0;
    if (offset_ == size_) {
      const ssize_t n = fill();
      if (n <= 0) return n;
    }
    std::size_t n = std::min(size, size_ - offset_);
    if (in_head_) n = count_head(buffer_.data() + offset_, n);
    std::memcpy(ptr, buffer_.data() + offset_, n);
    offset_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char *ptr, std::size_t size) override {
    const auto deadline = Clock::now() + limits_.write_timeout;
    for (;;) {
      if (ssl_) {
        const int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
        if (n > 0) return n;
        const int error = SSL_get_error(ssl_, n);
        if (!wait_tls(error, deadline)) return -1;
      } else {
        const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_for(fd_, POLLOUT, deadline)) return -1;
      }
    }
  }

  void get_remote_ip_and_port(std::string &ip, int &port) const override {
    sockaddr_storage addr{};
    socklen_t length = sizeof(addr);
    if (getpeername(fd_, reinterpret_cast<sockaddr *>(&addr), &length) == 0) address_of(addr, ip, port);
  }
  void get_local_ip_and_port(std::string &ip, int &port) const override {
    sockaddr_storage addr{};
    socklen_t length = sizeof(addr);
    if (getsockname(fd_, reinterpret_cast<sockaddr *>(&addr), &length) == 0) address_of(addr, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  /// Where the chunked decoder is: off, before a chunk size, in a chunk's data, or done.
  enum class Chunked { Off, SizeLine, Data, Done, Failed };
  /// Most bytes of a chunk-size line (extensions included) and of the whole trailer section.
  static constexpr std::size_t kMaxChunkLine = 4096;
  static constexpr std::size_t kMaxTrailerBytes = 16 * 1024;

  /// Of `n` bytes about to be read while the request line and headers are, how many may be: those
  /// up to the empty line that ends the headers, and none past a line of more than kMaxLineBytes
  /// or a head of more than kMaxHeadBytes (the stream then ends for httplib, which fails the
  /// request, and head_limit() says why). httplib holds a whole line before it checks its length.
  std::size_t count_head(const char *data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (head_bytes_ == kMaxHeadBytes || line_bytes_ == kMaxLineBytes) {
        head_limit_ = line_bytes_ < kMaxLineBytes ? HeadLimit::Head
                      : head_bytes_ == line_bytes_ ? HeadLimit::RequestLine
                                                   : HeadLimit::HeaderLine;
        return i;
      }
      ++head_bytes_;
      ++line_bytes_;
      if (data[i] == '\n' && previous_ == '\r' && line_bytes_ == 2 && head_bytes_ > 2) {
        in_head_ = false;  // the empty line: httplib reads the body next
        return i + 1;
      }
      check_head_byte(data[i]);
    }
    return n;
  }

  /// Looks for head lines httplib would misread without a word (it skips them, keeps them under
  /// another name, or percent-decodes their value), which could change how the request is framed.
  /// The first one found is head_problem().
  void check_head_byte(char byte) {
    const bool request_line = head_bytes_ == line_bytes_;
    if (previous_ == '\r' && byte != '\n') note(HeadProblem::BareCr);
    if (byte == '\n') {
      if (previous_ != '\r') {
        note(HeadProblem::BareLf);
      } else if (!request_line && !colon_) {
        note(HeadProblem::NoColon);
      } else if (!request_line && value_ == Value::Empty && (name_ == "content-length" || name_ == "transfer-encoding")) {
        note(HeadProblem::EmptyFramingValue);
      }
      line_bytes_ = 0;
      colon_ = name_space_ = false;
      value_ = Value::Empty;
      name_.clear();
    } else if (!request_line && byte != '\r') {
      const bool blank = byte == ' ' || byte == '\t';
      if (line_bytes_ == 1 && blank) note(HeadProblem::Folded);
      if (colon_) {
        check_value_byte(byte, blank);
      } else if (byte == ':') {
        colon_ = true;
        if (name_space_) note(HeadProblem::SpaceBeforeColon);
      } else if (blank) {
        name_space_ = true;
      } else if (!is_token_byte(byte)) {
        note(HeadProblem::BadNameByte);
      } else if (name_.size() < 32) {
        name_ += static_cast<char>(std::tolower(static_cast<unsigned char>(byte)));
      }
    }
    previous_ = byte;
  }

  /// A byte of a header value: a Content-Length must be one run of digits (httplib would read
  /// "+2", "2 62" or "%36%32" as a length); a Transfer-Encoding must not be percent-encoded.
  void check_value_byte(char byte, bool blank) {
    const bool digit = byte >= '0' && byte <= '9';
    if (name_ == "content-length") {
      if ((!digit && !blank) || (digit && value_ == Value::AfterDigits)) note(HeadProblem::BadContentLength);
      if (digit) value_ = Value::Digits;
      if (blank && value_ == Value::Digits) value_ = Value::AfterDigits;
      return;
    }
    if (name_ == "transfer-encoding" && byte == '%') note(HeadProblem::BadTransferEncoding);
    if (!blank) value_ = Value::Digits;  // something other than blanks
  }

  /// RFC 9110 tchar: the bytes a header name may have.
  static bool is_token_byte(char byte) {
    const auto c = static_cast<unsigned char>(byte);
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c < 0x80 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0);
  }

  void note(HeadProblem problem) {
    if (head_problem_ == HeadProblem::None) head_problem_ = problem;
  }

  /// The next raw byte, or -1 at the end of the stream, past the deadline or on an error.
  int next_byte() {
    if (offset_ == size_ && fill() <= 0) return -1;
    return static_cast<unsigned char>(buffer_[offset_++]);
  }

  /// Reads a line ending in CRLF (a bare LF is refused) of at most `max` bytes into `line`,
  /// without its CRLF.
  bool read_crlf_line(std::string &line, std::size_t max) {
    line.clear();
    for (;;) {
      const int c = next_byte();
      if (c == '\r') return next_byte() == '\n';
      if (c < 0 || c == '\n' || line.size() >= max) return false;
      line += static_cast<char>(c);
    }
  }

  /// Reads a chunk-size line; false unless it is hex digits (at most 16 after leading zeros), then
  /// optional whitespace and `;extensions`.
  bool read_chunk_size(std::uint64_t &chunk) {
    std::string line;
    if (!read_crlf_line(line, kMaxChunkLine)) return false;
    std::size_t i = 0;
    int significant = 0;
    chunk = 0;
    for (; i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])); ++i) {
      if (chunk == 0 && line[i] == '0') continue;
      if (++significant > 16) return false;
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i])));
      chunk = chunk * 16 + static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    if (i == 0) return false;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    return i == line.size() || line[i] == ';';
  }

  ssize_t fail_chunked() {
    chunked_ = Chunked::Failed;
    return -1;
  }

  /// read() of a chunked body: its data, then 0 once the last chunk and trailers are read.
  ssize_t read_chunked(char *ptr, std::size_t size) {
    for (;;) {
      switch (chunked_) {
        case Chunked::Off:
        case Chunked::Done:
          return 0;
        case Chunked::Failed:
          return -1;
        case Chunked::SizeLine: {
          std::uint64_t chunk = 0;
          if (!read_chunk_size(chunk)) return fail_chunked();
          if (chunk == 0) {
            // The trailer section: field lines up to an empty line, dropped.
            std::string line;
            std::size_t trailers = 0;
            do {
              if (!read_crlf_line(line, kMaxTrailerBytes - std::min(trailers, kMaxTrailerBytes))) return fail_chunked();
              trailers += line.size() + 2;
            } while (!line.empty());
            chunked_ = Chunked::Done;
            return 0;
          }
          if (chunk > chunk_limit_ - chunk_total_) {
            chunk_over_limit_ = true;
            return fail_chunked();
          }
          chunk_total_ += chunk;
          chunk_left_ = chunk;
          chunked_ = Chunked::Data;
          break;
        }
        case Chunked::Data: {
          if (chunk_left_ == 0) {
            if (next_byte() != '\r' || next_byte() != '\n') return fail_chunked();
            chunked_ = Chunked::SizeLine;
            break;
          }
          if (size == 0) return 0;
          if (offset_ == size_ && fill() <= 0) return fail_chunked();
          const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({size, chunk_left_, size_ - offset_}));
          std::memcpy(ptr, buffer_.data() + offset_, n);
          offset_ += n;
          chunk_left_ -= n;
          return static_cast<ssize_t>(n);
        }
      }
    }
  }

  /// Refills the buffer: bytes read, 0 at end of stream or past the deadline, -1 on an error.
  ssize_t fill() {
    if (timed_out_) return 0;
    offset_ = size_ = 0;
    for (;;) {
      if (ssl_) {
        const int n = SSL_read(ssl_, buffer_.data(), static_cast<int>(buffer_.size()));
        if (n > 0) {
          size_ = static_cast<std::size_t>(n);
          received_ += size_;
          return n;
        }
        const int error = SSL_get_error(ssl_, n);
        if (error == SSL_ERROR_ZERO_RETURN) return 0;
        if (!wait_tls(error, deadline_)) return give_up(error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE);
      } else {
        const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
        if (n > 0) {
          size_ = static_cast<std::size_t>(n);
          received_ += size_;
          return n;
        }
        if (n == 0) return 0;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        if (!wait_for(fd_, POLLIN, deadline_)) return give_up(true);
      }
    }
  }

  /// After a wait that failed: past the deadline is end-of-stream (and remembered), else an error.
  ssize_t give_up(bool waited) {
    if (waited && Clock::now() >= deadline_) {
      timed_out_ = true;
      return 0;
    }
    return -1;
  }

  /// Waits for what a TLS call that failed with `error` needs; false when it cannot go on.
  bool wait_tls(int error, Clock::time_point deadline) const {
    if (error == SSL_ERROR_WANT_READ) return wait_for(fd_, POLLIN, deadline);
    if (error == SSL_ERROR_WANT_WRITE) return wait_for(fd_, POLLOUT, deadline);
    ERR_clear_error();
    return false;
  }

  int fd_;
  SSL *ssl_;
  const ConnectionLimits &limits_;
  Clock::time_point deadline_ = Clock::now();
  bool timed_out_ = false;
  bool ended_ = false;
  std::array<char, 16 * 1024> buffer_{};
  std::size_t offset_ = 0;
  std::size_t size_ = 0;
  Chunked chunked_ = Chunked::Off;
  std::uint64_t chunk_limit_ = 0;  ///< most data bytes of the chunked body
  std::uint64_t chunk_total_ = 0;  ///< data bytes announced so far
  std::uint64_t chunk_left_ = 0;   ///< data bytes left in the current chunk
  bool chunk_over_limit_ = false;
  std::size_t received_ = 0;          ///< bytes received since the request began
  bool in_head_ = true;               ///< the request line and headers are being read
  std::size_t head_bytes_ = 0;        ///< bytes of them read so far
  std::size_t line_bytes_ = 0;        ///< bytes of the current line read so far
  char previous_ = 0;                 ///< the byte before
  /// What the current header line's value has had so far (digits: for a Content-Length; else
  /// anything other than blanks).
  enum class Value { Empty, Digits, AfterDigits };
  bool colon_ = false;                ///< the current header line has had its colon
  Value value_ = Value::Empty;        ///< ... and this after it
  bool name_space_ = false;           ///< ... and a blank before it
  std::string name_;                  ///< ... and this name (lowercase, at most 32 bytes kept)
  HeadProblem head_problem_ = HeadProblem::None;
  HeadLimit head_limit_ = HeadLimit::None;
};

/// The stream this thread is serving (httplib serves a connection on one thread throughout).
thread_local ConnectionStream *t_stream = nullptr;

/// The TLS handshake, within `deadline`.
bool accept_tls(SSL *ssl, int fd, Clock::time_point deadline) {
  for (;;) {
    const int n = SSL_accept(ssl);
    if (n == 1) return true;
    const int error = SSL_get_error(ssl, n);
    const bool ready = error == SSL_ERROR_WANT_READ    ? wait_for(fd, POLLIN, deadline)
                       : error == SSL_ERROR_WANT_WRITE ? wait_for(fd, POLLOUT, deadline)
                                                       : false;
    if (!ready) {
      ERR_clear_error();
      return false;
    }
  }
}

}  // namespace

ConnectionLoop::ConnectionLoop(ConnectionLimits limits) : limits_(limits), stop_fd_(::eventfd(0, EFD_CLOEXEC)) {
  if (stop_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

ConnectionLoop::~ConnectionLoop() { ::close(stop_fd_); }

void ConnectionLoop::serve(int fd, SSL_CTX *tls, const ServeRequest &serve_request) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  SSL *ssl = nullptr;
  bool usable = true;
  if (tls) {
    ssl = SSL_new(tls);
    usable = ssl && SSL_set_fd(ssl, fd) == 1 && accept_tls(ssl, fd, Clock::now() + limits_.read_timeout);
  }
  ConnectionStream stream(fd, ssl, limits_);
  t_stream = &stream;
  bool answered = false;
  std::size_t requests = 0;
  while (usable && !stopping_) {
    if (!stream.buffered()) {
      // Idle: wait for the next request's first byte, the keep-alive timeout or stop().
      pollfd waits[2] = {{fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      int n;
      do {
        n = ::poll(waits, 2, static_cast<int>(limits_.keep_alive_timeout.count()));
      } while (n < 0 && errno == EINTR);
      if (n <= 0 || waits[1].revents != 0) break;
    }
    stream.begin_request();
    bool closed = false;
    const bool last = stopping_ || ++requests >= limits_.keep_alive_max;
    answered = serve_request(stream, last, closed);
    // malloc keeps what a large request freed for reuse: one 16 MiB body, its parameters and
    // their tree (~100 MB at the limits) would otherwise stay resident for good.
    if (stream.received() >= kTrimAfterBytes) malloc_trim(0);
    if (!answered || closed || last || stream.ended() || stream.timed_out()) break;
  }
  t_stream = nullptr;
  if (ssl) {
    if (answered) SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

void ConnectionLoop::stop() {
  stopping_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(stop_fd_, &one, sizeof(one));
}

void end_after_response(const httplib::Request &req) {
  // httplib answers "Connection: close" when the request asked for it.
  const_cast<httplib::Request &>(req).set_header("Connection", "close");
  if (t_stream) t_stream->end_after_response();
}

bool request_timed_out() { return t_stream && t_stream->timed_out(); }

void decode_chunked_body(std::uint64_t limit) {
  if (t_stream) t_stream->begin_chunked_body(limit);
}

bool chunked_body_over_limit() { return t_stream && t_stream->chunk_over_limit(); }

HeadLimit request_head_limit() { return t_stream ? t_stream->head_limit() : HeadLimit::None; }

HeadProblem request_head_problem() { return t_stream ? t_stream->head_problem() : HeadProblem::None; }

}  // namespace cdbemu::http
