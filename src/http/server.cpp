#include "http/server.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "api/action.hpp"
#include "api/dispatch.hpp"
#include "control/control_plane.hpp"
#include "domain/errors.hpp"
#include "domain/task_changes.hpp"
#include "domain/task_service.hpp"
#include "domain/text.hpp"
#include "http/auth.hpp"
#include "http/body_decoder.hpp"
#include "http/connection.hpp"
#include "http/params.hpp"
#include "http/render.hpp"
#include "logging.hpp"

namespace cdbemu::http {
namespace {

using domain::ApiError;
using domain::ErrorCode;

constexpr const char *kApiPath = "/v2/index.php";
// httplib tries body-reading routes before the others: the catch-alls must leave the control plane alone.
constexpr const char *kNotControl = "^(?!/_emulator/).*";
constexpr const char *kRequestIdHeader = "X-Emulator-Request-Id";
constexpr const char *kStringToSignHeader = "X-Emulator-String-To-Sign";
constexpr std::size_t kStringToSignHeaderLimit = 4096;
// Headers the pre-routing step sets for our own handlers (a client's copies are dropped first).
constexpr const char *kInternalHeaderPrefix = "X-Emulator-Internal-";
// httplib parses multipart bodies itself when it sees their Content-Type (and refuses more than
// 1,024 parts); the pre-routing step moves the header here so our own decoder gets the bytes.
constexpr const char *kMovedContentType = "X-Emulator-Internal-Content-Type";
// A body over the limit is still read (and dropped) up to this many more bytes, so the connection
// stays usable for the client's next request; beyond it the connection is ended.
constexpr std::size_t kDrainLimit = 64 * 1024 * 1024;
/// The most bytes of a control-plane body other than a state import's.
constexpr std::size_t kControlBodyLimit = 1024 * 1024;

/// What the logger and the journal need about the request being served on this thread.
struct RequestState {
  std::string id;
  std::string action;
  std::chrono::steady_clock::time_point start;
  std::string params;  ///< for the journal: decoded, redacted, as a JSON object
  std::string job_id;  ///< for the journal: the jobId parameter as sent
  std::string fault_id;
  std::string transport;  ///< a transport fault's kind
  std::vector<domain::TaskChange> changes;
};
thread_local RequestState t_request;

/// Access to the listening socket, which httplib keeps protected.
class Backlog {
 public:
  virtual ~Backlog() = default;
  /// Re-listens the bound socket with `backlog` (Linux applies the new value).
  virtual bool set_backlog(int backlog) = 0;
};

/// httplib's server (plain or TLS) with a real listen backlog, its connections served by our loop.
template <class Base>
class TunedServer : public Base, public Backlog {
 public:
  template <class... Args>
  explicit TunedServer(ConnectionLoop &loop, Args &&...args) : Base(std::forward<Args>(args)...), loop_(loop) {}
  bool set_backlog(int backlog) override { return ::listen(this->svr_sock_, backlog) == 0; }

 private:
  bool process_and_close_socket(socket_t sock) override {
    SSL_CTX *tls = nullptr;
    if constexpr (std::is_same_v<Base, httplib::SSLServer>) tls = this->ssl_context();
    loop_.serve(sock, tls, [this](httplib::Stream &stream, bool close_connection, bool &connection_closed) {
      return this->process_request(stream, close_connection, connection_closed, nullptr);
    });
    return true;
  }

  ConnectionLoop &loop_;
};

/// The limits of our connection loop.
ConnectionLimits connection_limits(const Config &config) {
  ConnectionLimits limits;
  limits.read_timeout = std::chrono::milliseconds(static_cast<long long>(config.read_timeout * 1000));
  limits.keep_alive_timeout = std::chrono::seconds(config.keep_alive_timeout);
  return limits;
}

/// The HTTP server, or the HTTPS one when a certificate and key are configured.
std::unique_ptr<httplib::Server> make_server(const Config &config, ConnectionLoop &loop) {
  if (config.tls_cert.empty()) return std::make_unique<TunedServer<httplib::Server>>(loop);
  auto server =
      std::make_unique<TunedServer<httplib::SSLServer>>(loop, config.tls_cert.c_str(), config.tls_key.c_str());
  if (!server->is_valid()) {
    throw std::runtime_error("cannot use the TLS certificate " + config.tls_cert + " with the key " + config.tls_key);
  }
  return server;
}

std::string_view query_of(std::string_view target) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  const std::size_t hash = query.find('#');
  return hash == std::string_view::npos ? query : query.substr(0, hash);
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

/// Where the pre-routing step moves Transfer-Encoding: chunked, so that httplib reads the body
/// through our own chunked decoder (see decode_chunked_body) instead of its lenient one.
constexpr const char *kMovedTransferEncoding = "X-Emulator-Internal-Transfer-Encoding";
/// Where the pre-routing step moves Content-Encoding for the bodies read_body decodes itself.
constexpr const char *kMovedContentEncoding = "X-Emulator-Internal-Content-Encoding";

bool is_chunked(const httplib::Request &req) {
  // Only "chunked" passes the pre-routing step (framing_error), whatever its case.
  return req.has_header(kMovedTransferEncoding) || req.has_header("Transfer-Encoding");
}

/// Why the body of `req` cannot be delimited without ambiguity (RFC 9112 section 6.3), or nullopt.
/// Such a request is refused before any of its body is read, and its connection ends: the bytes
/// after its headers cannot be told apart from the next request.
std::optional<std::string> framing_error(const httplib::Request &req) {
  std::optional<std::string> length;
  for (auto [it, end] = req.headers.equal_range("Content-Length"); it != end; ++it) {
    if (length && *length != it->second) return "conflicting Content-Length headers";
    length = it->second;
  }
  if (!req.has_header("Transfer-Encoding")) return std::nullopt;
  std::string codings;
  for (auto [it, end] = req.headers.equal_range("Transfer-Encoding"); it != end; ++it) {
    codings += (codings.empty() ? "" : ", ") + it->second;
  }
  // Other codings (gzip, chunked), chunked twice, or the retired "identity": httplib would read
  // such a body until the connection closes and then run it.
  if (lowercase(codings) != "chunked") {
    return "unsupported Transfer-Encoding " + domain::quote_for_message(codings) + " (only chunked is accepted)";
  }
  if (length) return "a request with both Transfer-Encoding and Content-Length is ambiguous; send one of them";
  return std::nullopt;
}

/// Whether a Content-Length value (digits: the head checks say so) is above `limit`.
bool exceeds(const std::string &length, std::size_t limit) {
  const std::size_t first = length.find_first_not_of('0');
  if (first == std::string::npos) return false;  // zero
  return length.size() - first > 18 || std::stoull(length.substr(first)) > limit;
}

/// Whether the request announces a body (which must then be read or the connection ended).
bool announces_body(const httplib::Request &req) {
  return is_chunked(req) || (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

/// The 4000 message for a request whose head has `problem`.
std::string head_problem_detail(HeadProblem problem) {
  switch (problem) {
    case HeadProblem::BareLf:
      return "a line of the request line or headers ends in LF without CR; end every line with CRLF";
    case HeadProblem::Folded:
      return "a header line begins with a space or tab (obsolete line folding); send each header on one line";
    case HeadProblem::NoColon:
      return "a header line has no colon";
    case HeadProblem::SpaceBeforeColon:
      return "a header name is followed by a space or tab before its colon";
    case HeadProblem::BareCr:
      return "a line of the request line or headers has a CR without LF";
    case HeadProblem::BadNameByte:
      return "a header name has a byte a header name may not have";
    case HeadProblem::EmptyFramingValue:
      return "a Content-Length or Transfer-Encoding header has no value";
    case HeadProblem::BadContentLength:
      return "malformed Content-Length header";
    case HeadProblem::BadTransferEncoding:
      return "malformed Transfer-Encoding header";
    case HeadProblem::None:
      break;
  }
  return {};
}

/// The 4000 message for a request that did not arrive in time.
std::string read_timeout_detail(const Config &config) {
  return fmt::format("the request did not arrive within {:g} second{} of its first byte (--read-timeout)",
                     config.read_timeout, config.read_timeout == 1 ? "" : "s");
}

/// Why httplib refused a request on its own, as our 4000 message.
std::string library_error_detail(const httplib::Request &req, int status, const Config &config) {
  if (request_timed_out()) return read_timeout_detail(config);
  switch (request_head_limit()) {
    case HeadLimit::RequestLine:
      status = 414;
      break;
    case HeadLimit::HeaderLine:
      return "a header line exceeds " + std::to_string(kMaxLineBytes) + " bytes";
    case HeadLimit::Head:
      return "the request line and headers exceed " + std::to_string(kMaxHeadBytes) + " bytes";
    case HeadLimit::None:
      break;
  }
  if (request_head_problem() != HeadProblem::None) return head_problem_detail(request_head_problem());
  if (chunked_body_over_limit()) status = 413;
  const DecodeLimits &limits = config.limits;
  switch (status) {
    case 414:
      return "the request line exceeds " + std::to_string(kMaxLineBytes) + " bytes; send the parameters in a POST body instead of the query string";
    case 413:
      return "the request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes (--max-body-bytes)";
    case 415:
      return "unsupported Content-Encoding " + domain::quote_for_message(req.get_header_value(kMovedContentEncoding)) +
             " (gzip, deflate and br are accepted)";
    default:
      return "malformed HTTP request";
  }
}

/// X-Emulator-* request headers without the control token (answered 401).
struct ControlHeaderRefused {};

/// Whether the request carries any X-Emulator-* header.
bool has_emulator_header(const httplib::Request &req) {
  for (const auto &[name, value] : req.headers) {
    if (name.size() > 11 && lowercase(name.substr(0, 11)) == "x-emulator-" && name.rfind(kInternalHeaderPrefix, 0) != 0) {
      return true;
    }
  }
  return false;
}

ApiError method_not_supported(const httplib::Request &req) {
  return ApiError(ErrorCode::InvalidParameter, "method " + req.method + " is not supported; use GET or POST");
}

ApiError no_endpoint(const httplib::Request &) {
  return ApiError(ErrorCode::InvalidParameter, "no endpoint at this path; the API is served at /v2/index.php");
}

}  // namespace

struct Server::Impl {
  Impl(const Config &cfg, domain::TaskService &svc, const Authenticator &authenticator,
       const api::ApiOptions &api_options, control::ControlPlane &control_plane)
      : config(cfg),
        service(svc),
        auth(authenticator),
        options(api_options),
        control(control_plane),
        loop(connection_limits(cfg)),
        owner(make_server(cfg, loop)),
        server(*owner) {
    std::random_device seed;
    id_prefix = seed();
    configure();
  }

  const Config &config;
  domain::TaskService &service;
  const Authenticator &auth;
  const api::ApiOptions &options;
  control::ControlPlane &control;
  ConnectionLoop loop;
  std::unique_ptr<httplib::Server> owner;
  httplib::Server &server;
  std::atomic<std::uint32_t> next_request{1};
  std::uint32_t id_prefix = 0;
  std::atomic<bool> stop_requested{false};

  void begin_request(httplib::Response &res) {
    t_request.id = fmt::format("{:08x}{:08x}", id_prefix, next_request.fetch_add(1));
    t_request.action.clear();
    t_request.params = "{}";
    t_request.job_id.clear();
    t_request.fault_id.clear();
    t_request.transport.clear();
    t_request.changes.clear();
    domain::collect_task_changes(&t_request.changes);
    t_request.start = std::chrono::steady_clock::now();
    res.set_header(kRequestIdHeader, t_request.id);
  }

  void finish_request(const httplib::Request &req, int code) {
    domain::collect_task_changes(nullptr);
    const double latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_request.start).count();
    logging::log_request({t_request.id, req.method, req.path, t_request.action, code, latency_ms});
    if (req.path == kApiPath) control.metrics().observe_request(t_request.action, code, latency_ms);
    if (req.path == kApiPath && control.options().enabled) {
      control::JournalEntry entry;
      entry.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      entry.request_id = t_request.id;
      entry.method = req.method;
      entry.action = t_request.action;
      entry.params = std::move(t_request.params);
      entry.job_id = std::move(t_request.job_id);
      entry.code = code;
      entry.latency_ms = latency_ms;
      entry.fault_id = t_request.fault_id;
      entry.transport = t_request.transport;
      entry.changes = std::move(t_request.changes);
      control.journal().record(std::move(entry));
    }
  }

  /// Answers without routing: `error` as the envelope with HTTP `status`. A body the request
  /// announced is left unread, so the connection ends after the answer (always with `end`).
  void answer_early(const httplib::Request &req, httplib::Response &res, const ApiError &error, int status,
                    bool end = false) {
    begin_request(res);
    render_error(error, res, status);
    if (end || announces_body(req)) end_after_response(req);
    finish_request(req, error.code());
  }

  /// Decodes, dispatches and renders one API request; errors are thrown to the exception handler.
  void serve_api(const httplib::Request &req, httplib::Response &res, const std::string *body) {
    RawParams raw;
    if (control.options().enabled && !control.authorized(req) && has_emulator_header(req)) {
      throw ControlHeaderRefused{};
    }
    decode_urlencoded(query_of(req.target), config.limits, raw);
    if (body) decode_body(req, *body, raw);
    t_request.params = journal_params(raw);
    for (const auto &param : raw) {
      if (param.name == "jobId") t_request.job_id = param.value;
    }
    const ParamNode params = ParamNode::build(raw, config.limits);
    t_request.action = api::action_name(params);
    const api::CommonParams common = api::check_common_params(params);
    const domain::Credential *caller = authenticate(req, res, raw, common);
    if (const auto fault = pick_fault(req, params, common)) {
      if (apply_fault(*fault, req, res, common)) return;
    }
    const std::string data = api::dispatch(service, options, params, common, caller);
    res.status = 200;
    res.set_content(success_body(data, config.string_code), "application/json");
    finish_request(req, 0);
  }

  /// The parameters as the journal keeps them, rendered as a JSON object: Signature and Token
  /// redacted, long names and values and large sets cut; a name sent twice shows its last value.
  static std::string journal_params(const RawParams &raw) {
    constexpr std::size_t kMaxParams = 200;
    constexpr std::size_t kMaxValue = 256;
    std::vector<const RawParam *> kept;  // first occurrence of each name, in order
    std::vector<const std::string *> values;
    kept.reserve(std::min(raw.size(), kMaxParams));
    bool cut = false;
    for (const auto &param : raw) {
      if (kept.size() == kMaxParams) {
        cut = true;
        break;
      }
      // Names are compared as they are cut: one huge name must not push every other entry out.
      const std::string_view name = std::string_view(param.name).substr(0, kMaxValue);
      const auto same = std::find_if(kept.begin(), kept.end(), [&](const RawParam *k) {
        return std::string_view(k->name).substr(0, kMaxValue) == name;
      });
      if (same != kept.end()) {
        values[static_cast<std::size_t>(same - kept.begin())] = &param.value;
      } else {
        kept.push_back(&param);
        values.push_back(&param.value);
      }
    }
    std::string out = "{";
    for (std::size_t i = 0; i < kept.size(); ++i) {
      const std::string &name = kept[i]->name;
      if (i) out += ',';
      domain::append_json_string(out, name, kMaxValue);
      out += ':';
      if (name == "Signature" || name == "Token" || name == "SecretKey") {
        out += "\"(redacted)\"";
      } else {
        domain::append_json_string(out, *values[i], kMaxValue);
      }
    }
    if (cut) out += ",\"...\":\"" + std::to_string(raw.size() - kMaxParams) + " more parameters not kept\"";
    out += '}';
    return out;
  }

  /// The fault for this request: the X-Emulator-Fault / X-Emulator-Delay-Ms headers first, then
  /// the oldest matching rule; at most one.
  std::optional<control::FiredFault> pick_fault(const httplib::Request &req, const ParamNode &params,
                                                const api::CommonParams &common) {
    if (!control.options().enabled) return std::nullopt;
    const std::string header_fault = req.get_header_value("X-Emulator-Fault");
    const std::string header_delay = req.get_header_value("X-Emulator-Delay-Ms");
    if (!header_fault.empty() || !header_delay.empty()) {
      control::FaultEffect effect;
      try {
        effect = control::FaultRules::from_headers(header_fault, header_delay, control.options().max_delay_ms);
      } catch (const control::FaultRuleError &) {
        auth.forget_nonce(common);  // refused: the request does not count
        throw;
      }
      control::FiredFault fired{"header", effect};
      control.faults().count_header_firing();
      return fired;
    }
    control::FaultSubject subject;
    subject.action = common.action;
    const auto value = [&](std::string_view name) -> const std::string * {
      const ParamNode *node = params.find(name);
      return node && node->is_value() ? &node->value() : nullptr;
    };
    if (const std::string *job_id = value("jobId");
        job_id && !job_id->empty() && job_id->size() <= 18 &&
        job_id->find_first_not_of("0123456789") == std::string::npos) {
      subject.job_id = std::stoll(*job_id);
      if (const auto task = service.peek_task(*subject.job_id)) {
        subject.instance_ids = {task->src_instance_id, task->dst_instance_id};
        subject.job_name = task->job_name;
      }
    }
    if (const std::string *job_name = value("jobName")) subject.job_name = *job_name;
    for (const char *side : {"srcInfo", "dstInfo"}) {
      const ParamNode *list = params.find(side);
      if (!list || !list->is_list() || list->items().empty()) continue;
      const ParamNode *id = list->items().front().find("cdbUInstanceId");
      if (id && id->is_value()) subject.instance_ids.insert(id->value());
    }
    return control.faults().fire(subject);
  }

  /// Applies a fault: its delay, then its error or broken transport. True when the answer is made.
  /// A fault that answers changes no state: the nonce the request recorded is forgotten.
  bool apply_fault(const control::FiredFault &fault, const httplib::Request &req, httplib::Response &res,
                   const api::CommonParams &common) {
    t_request.fault_id = fault.id;
    const control::FaultEffect &effect = fault.effect;
    if (effect.delay_ms > 0) {
      // Sleeping holds a worker thread: only a bounded number of requests may do it at once.
      if (control.try_sleep_slot()) {
        control.pause(std::chrono::milliseconds(effect.delay_ms));  // wakes early on shutdown
        control.release_sleep_slot();
      } else {
        logging::log(logging::Level::Warn, "request " + t_request.id + ": too many delayed requests; delay skipped");
      }
    }
    if (effect.code || effect.http_status || effect.empty_body || effect.truncated_body) auth.forget_nonce(common);
    if (effect.code) {
      throw effect.message.empty() ? ApiError(*effect.code) : ApiError::with_message(*effect.code, effect.message);
    }
    if (effect.http_status) {
      t_request.transport = "http" + std::to_string(effect.http_status);
      res.status = effect.http_status;
      res.set_content("", "text/plain");
    } else if (effect.empty_body) {
      t_request.transport = "emptyBody";
      res.status = 200;
      res.set_content("", "application/json");
    } else if (effect.truncated_body) {
      t_request.transport = "truncatedBody";
      // Announce a whole envelope, send half of it, then end the connection.
      const std::string whole = success_body("[]", config.string_code);
      res.status = 200;
      res.set_content_provider(whole.size(), "application/json",
                               [half = whole.substr(0, whole.size() / 2)](std::size_t offset, std::size_t,
                                                                          httplib::DataSink &sink) {
                                 if (offset == 0) sink.write(half.data(), half.size());
                                 return false;
                               });
    } else {
      return false;  // a delay alone: now process normally
    }
    // The journal's code for a broken transport: the HTTP status, or -1 for a body without one.
    finish_request(req, effect.http_status ? effect.http_status : -1);
    return true;
  }

  /// The caller's key; on a bad signature, tells the developer what was signed (never in the body).
  const domain::Credential *authenticate(const httplib::Request &req, httplib::Response &res, const RawParams &raw,
                                         const api::CommonParams &common) {
    std::string expected;
    try {
      return auth.authenticate({req.method, req.get_header_value("Host"), req.path, raw, common}, expected);
    } catch (const ApiError &) {
      if (!expected.empty()) {
        res.set_header(kStringToSignHeader, header_safe(expected, kStringToSignHeaderLimit));
        logging::log(logging::Level::Info, "request " + t_request.id + ": signature mismatch; the emulator signed \"" +
                                               expected + "\" (or the same with host cdb.api.qcloud.com)");
      }
      throw;
    }
  }

  void decode_body(const httplib::Request &req, const std::string &body, RawParams &raw) {
    std::string boundary;
    switch (sniff_body(body, req.get_header_value(kMovedContentType), boundary)) {
      case BodyKind::Empty:
        return;
      case BodyKind::UrlEncoded:
        decode_urlencoded(body, config.limits, raw);
        return;
      case BodyKind::Multipart:
        decode_multipart(body, boundary, config.limits, raw);
        return;
      case BodyKind::Json:
        throw ApiError(ErrorCode::InvalidParameter,
                       "the body is JSON; API 2.0 takes application/x-www-form-urlencoded or multipart/form-data");
    }
  }

  /// Reads a request body through our own receiver so the limit applies to decoded bytes. With
  /// `keep` false the body is only drained, to keep the connection in step with its requests.
  std::string read_body(const httplib::Request &req, const httplib::ContentReader &reader,
                        bool keep = true) {
    std::string body;
    const std::size_t limit = keep ? config.limits.max_body_bytes : 0;
    if (!is_chunked(req)) {
      const std::string declared = req.get_header_value("Content-Length");
      if (declared.empty() || declared.size() > 18 || declared.find_first_not_of("0123456789") != std::string::npos) {
        end_after_response(req);
        throw ApiError(ErrorCode::InvalidParameter, "malformed Content-Length header");
      }
      if (std::stoull(declared) > limit + kDrainLimit) {
        end_after_response(req);
        if (keep) throw ApiError(ErrorCode::InvalidParameter, library_error_detail(req, 413, config));
        return body;
      }
    }
    const std::string encoding = req.get_header_value(kMovedContentEncoding);
    if (keep && !supported_encoding(encoding)) {
      end_after_response(req);  // the body is left unread
      throw ApiError(ErrorCode::InvalidParameter, library_error_detail(req, 415, config));
    }
    // A body that is only drained need not be decoded.
    const std::unique_ptr<BodyDecoder> decoder = keep ? make_body_decoder(encoding) : nullptr;
    bool too_large = false;
    std::size_t dropped = 0;
    const DecodedSink sink = [&](const char *data, std::size_t size) {
      if (!too_large && body.size() + size <= limit) {
        body.append(data, size);
        return true;
      }
      too_large = true;
      dropped += size;
      return dropped <= kDrainLimit;
    };
    bool bad_data = false;
    const bool ok = reader([&](const char *data, std::size_t size) {
      if (!decoder) return sink(data, size);
      if (decoder->feed(data, size, sink)) return true;
      bad_data = dropped <= kDrainLimit;  // else the sink stopped it
      return false;
    });
    // A gzip or brotli stream cut short ends without an error: only finished() tells.
    if (ok && decoder && !decoder->finished()) bad_data = true;
    // The rest of the body is still on the socket, or a body that cannot be read had its say.
    if (!ok || bad_data) end_after_response(req);
    if (!keep) return body;
    if (too_large || chunked_body_over_limit()) {
      throw ApiError(ErrorCode::InvalidParameter, library_error_detail(req, 413, config));
    }
    if (!ok || bad_data) {
      throw ApiError(ErrorCode::InvalidParameter,
                     request_timed_out() ? read_timeout_detail(config)
                                         : "the request body could not be read (truncated body, bad chunked encoding "
                                           "or bad Content-Encoding data)");
    }
    return body;
  }

  /// Routes `method` with a body to `fail`: the body is drained, then `fail` is thrown.
  template <class Register>
  void refuse_with_body(Register reg, const char *pattern, ApiError (*fail)(const httplib::Request &), int status) {
    (server.*reg)(pattern, httplib::Server::HandlerWithContentReader(
                               [this, fail, status](const httplib::Request &req, httplib::Response &res,
                                                    const httplib::ContentReader &reader) {
                                 begin_request(res);
                                 read_body(req, reader, false);
                                 const ApiError error = fail(req);
                                 render_error(error, res, status);
                                 finish_request(req, error.code());
                               }));
  }

  /// The most bytes of a control-plane body, which is parsed whole as JSON (up to ~36 bytes of
  /// memory per byte): a state import may be large (an export of 50,000 tasks is ~70 MB); no
  /// other body needs 1 MiB.
  std::size_t control_body_limit(const httplib::Request &req) const {
    return req.path == "/_emulator/state" ? config.limits.max_body_bytes + kDrainLimit : kControlBodyLimit;
  }
  std::string control_body_limit_detail(const httplib::Request &req) const {
    return req.path == "/_emulator/state"
               ? "the body exceeds " + std::to_string(config.limits.max_body_bytes + kDrainLimit) +
                     " bytes (--max-body-bytes + 64 MiB)"
               : "the body exceeds " + std::to_string(kControlBodyLimit) + " bytes (only /_emulator/state takes more)";
  }

  /// Answers a control-plane request with `{"error": why}` before its body is read; a connection
  /// whose request announced a body then ends.
  void refuse_control_request(const httplib::Request &req, httplib::Response &res, int status, const std::string &why) {
    res.status = status;
    res.set_content(nlohmann::ordered_json({{"error", why}}).dump(), "application/json");
    if (announces_body(req)) end_after_response(req);
  }

  /// Whether `req` goes to the control plane (which reads its bodies through httplib).
  bool is_control_path(const httplib::Request &req) const {
    return control.options().enabled && req.path.rfind("/_emulator/", 0) == 0;
  }

  void configure() {
    server.new_task_queue = [threads = config.threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    server.set_tcp_nodelay(true);
    // Only for the Keep-Alive header httplib writes ("timeout=5, max=5" otherwise): our connection
    // loop enforces both.
    const ConnectionLimits limits = connection_limits(config);
    server.set_keep_alive_timeout(config.keep_alive_timeout);
    server.set_keep_alive_max_count(limits.keep_alive_max);
    // Replaces httplib's default options, which include SO_REUSEPORT: two emulators must never
    // share a port and split the traffic.
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    // Bodies httplib reads itself (the control plane's) stop here, before any handler or token check.
    server.set_payload_max_length(config.limits.max_body_bytes + kDrainLimit);

    server.set_pre_routing_handler([this](const httplib::Request &req, httplib::Response &res) {
      auto &request = const_cast<httplib::Request &>(req);
      // Our internal headers are set below only: a client's copies go.
      for (const char *internal : {kMovedContentType, kMovedTransferEncoding, kMovedContentEncoding}) {
        request.headers.erase(internal);
      }
      // No byte ranges of an answer: httplib would send a fragment of the JSON (or an empty 416).
      request.ranges.clear();
      if (const HeadProblem problem = request_head_problem(); problem != HeadProblem::None) {
        // httplib skipped or misread a header line: it may have framed the request otherwise than sent.
        answer_early(req, res, ApiError(ErrorCode::InvalidParameter, head_problem_detail(problem)), 200, true);
        return httplib::Server::HandlerResponse::Handled;
      }
      if (const auto framing = framing_error(req)) {
        answer_early(req, res, ApiError(ErrorCode::InvalidParameter, *framing), 200, true);
        return httplib::Server::HandlerResponse::Handled;
      }
      // httplib never reads a GET's body: it would be taken for the next request.
      if (req.method == "GET" && announces_body(req)) end_after_response(req);
      if (is_control_path(req) && req.has_header("Content-Encoding") &&
          lowercase(req.get_header_value("Content-Encoding")) != "identity") {
        // httplib would inflate the whole body in memory before any limit applies.
        refuse_control_request(req, res, 415, "the control plane takes uncompressed bodies only (no Content-Encoding)");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (is_control_path(req) && req.has_header("Content-Length") &&
          exceeds(req.get_header_value("Content-Length"), control_body_limit(req))) {
        refuse_control_request(req, res, 413, control_body_limit_detail(req));
        return httplib::Server::HandlerResponse::Handled;
      }
      if (is_control_path(req) && req.method != "GET" && req.method != "POST" && req.method != "DELETE" &&
          req.method != "PUT" && req.method != "PATCH") {
        refuse_control_request(req, res, 405, "method " + req.method + " is not supported here");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.method != "GET" && req.method != "POST" && req.method != "PUT" && req.method != "PATCH" &&
          req.method != "DELETE") {
        // HEAD would run the GET handler in httplib: it must never execute an action. OPTIONS,
        // TRACE, CONNECT and PRI have no route and would be "malformed".
        answer_early(req, res, req.path == kApiPath ? method_not_supported(req) : no_endpoint(req),
                     req.path == kApiPath ? 200 : 404);
        return httplib::Server::HandlerResponse::Handled;
      }
      auto &headers = request.headers;
      if (req.has_header("Transfer-Encoding")) {
        // httplib's chunked reader takes a chunk with too much data for the end of the body and
        // runs what follows as the next request; ours refuses it. httplib then reads the decoded
        // body as one without a length, up to the end our decoder reports.
        headers.erase("Transfer-Encoding");
        headers.emplace(kMovedTransferEncoding, "chunked");
        decode_chunked_body(is_control_path(req) ? control_body_limit(req) : config.limits.max_body_bytes + kDrainLimit);
        // httplib reads a DELETE's body only when it has a Content-Length: this one would stay on
        // the socket and be read as the next request.
        if (req.method == "DELETE") end_after_response(req);
      }
      // Without a length or chunking a request has no body; httplib would read until the client closes.
      if (!req.has_header("Content-Length") && !is_chunked(req)) headers.emplace("Content-Length", "0");
      const auto it = headers.find("Content-Type");
      if (it != headers.end()) {
        std::string value = it->second;
        headers.erase("Content-Type");
        headers.emplace(kMovedContentType, std::move(value));
      }
      // Bodies read_body reads (all but the control plane's) are decoded by our own decoder.
      if (!is_control_path(req) && req.has_header("Content-Encoding")) {
        std::string codings;
        for (auto [at, end] = headers.equal_range("Content-Encoding"); at != end; ++at) {
          codings += (codings.empty() ? "" : ", ") + at->second;
        }
        headers.erase("Content-Encoding");
        headers.emplace(kMovedContentEncoding, std::move(codings));
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });

    server.Get(kApiPath, [this](const httplib::Request &req, httplib::Response &res) {
      const auto in_progress = service.request_in_progress();
      begin_request(res);
      serve_api(req, res, nullptr);
    });
    server.Post(kApiPath, [this](const httplib::Request &req, httplib::Response &res,
                                 const httplib::ContentReader &reader) {
      const auto in_progress = service.request_in_progress();
      begin_request(res);
      const std::string body = read_body(req, reader);
      serve_api(req, res, &body);
    });
    control.install(server);
    // Every other method and path: the envelope, never an HTML page; bodies are drained first.
    const char *not_control = control.options().enabled ? kNotControl : ".*";
    using S = httplib::Server;
    for (const auto reg : {static_cast<S &(S::*)(const std::string &, S::HandlerWithContentReader)>(&S::Put),
                           static_cast<S &(S::*)(const std::string &, S::HandlerWithContentReader)>(&S::Patch),
                           static_cast<S &(S::*)(const std::string &, S::HandlerWithContentReader)>(&S::Delete)}) {
      refuse_with_body(reg, kApiPath, &method_not_supported, 200);
      refuse_with_body(reg, not_control, &no_endpoint, 404);
    }
    refuse_with_body(static_cast<S &(S::*)(const std::string &, S::HandlerWithContentReader)>(&S::Post), not_control,
                     &no_endpoint, 404);
    server.Get(".*", [this](const httplib::Request &req, httplib::Response &res) {
      answer_early(req, res, no_endpoint(req), 404);
    });

    server.set_exception_handler([this](const httplib::Request &req, httplib::Response &res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const ApiError &error) {
        render_error(error, res);
        finish_request(req, error.code());
      } catch (const ControlHeaderRefused &) {
        res.status = 401;
        res.set_content(
            nlohmann::ordered_json(
                {{"error", "X-Emulator-* headers require \"Authorization: Bearer <token>\" (--control-token)"}})
                .dump(),
            "application/json");
        finish_request(req, 401);
      } catch (const control::FaultRuleError &e) {
        res.status = 400;
        // The message may quote a request header: never let invalid UTF-8 make dump() throw here.
        res.set_content(nlohmann::ordered_json({{"error", e.message}}).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        "application/json");
        finish_request(req, 400);
      } catch (const std::exception &e) {
        logging::log(logging::Level::Error, "request " + t_request.id + " failed: " + e.what());
        render_error(ApiError(ErrorCode::InternalError, "request id " + t_request.id), res);
        finish_request(req, static_cast<int>(ErrorCode::InternalError));
      } catch (...) {
        logging::log(logging::Level::Error, "request " + t_request.id + " failed with a non-standard exception");
        render_error(ApiError(ErrorCode::InternalError, "request id " + t_request.id), res);
        finish_request(req, static_cast<int>(ErrorCode::InternalError));
      }
    });

    // Refusals httplib makes on its own (bad request line or headers, 414) land here.
    server.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request &req,
                                                                         httplib::Response &res) {
      // Answers our own handlers made (API errors, control-plane 4xx) are already complete.
      if (res.has_header(kRequestIdHeader) || !res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      if (is_control_path(req) && chunked_body_over_limit()) {
        refuse_control_request(req, res, 413, control_body_limit_detail(req));
        return httplib::Server::HandlerResponse::Handled;
      }
      begin_request(res);
      render_error(ApiError(ErrorCode::InvalidParameter, library_error_detail(req, res.status, config)), res);
      // The stream is out of step with request boundaries: end the connection after answering.
      end_after_response(req);
      finish_request(req, static_cast<int>(ErrorCode::InvalidParameter));
      return httplib::Server::HandlerResponse::Handled;
    }));
  }
};

Server::Server(const Config &config, domain::TaskService &service, const Authenticator &auth,
               const api::ApiOptions &options, control::ControlPlane &control)
    : impl_(std::make_unique<Impl>(config, service, auth, options, control)) {}

Server::~Server() = default;

int Server::bind() {
  const Config &cfg = impl_->config;
  int port = cfg.port;
  if (port == 0) {
    port = impl_->server.bind_to_any_port(cfg.host);
  } else if (!impl_->server.bind_to_port(cfg.host, port)) {
    port = -1;
  }
  if (port < 0) {
    // Ask the kernel ourselves why, so the message can say "already in use".
    std::string reason = "cannot bind";
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *result = nullptr;
    if (getaddrinfo(cfg.host.c_str(), std::to_string(cfg.port).c_str(), &hints, &result) != 0 || !result) {
      reason = "cannot resolve the host";
    } else {
      const int sock = socket(result->ai_family, result->ai_socktype, result->ai_protocol);
      if (sock >= 0) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        if (::bind(sock, result->ai_addr, result->ai_addrlen) != 0) reason = std::strerror(errno);
        ::close(sock);
      }
      freeaddrinfo(result);
    }
    throw std::runtime_error("cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) + ": " + reason);
  }
  dynamic_cast<Backlog &>(impl_->server).set_backlog(static_cast<int>(cfg.listen_backlog));
  return port;
}

void Server::listen() {
  if (impl_->stop_requested) return;
  impl_->server.listen_after_bind();
}

void Server::stop() {
  impl_->stop_requested = true;
  impl_->control.shutdown();
  impl_->server.stop();
  impl_->loop.stop();
}

bool Server::is_running() const { return impl_->server.is_running(); }

}  // namespace cdbemu::http
