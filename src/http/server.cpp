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
#include <mutex>
#include <random>
#include <set>

#include "api/action.hpp"
#include "api/dispatch.hpp"
#include "control/control_plane.hpp"
#include "domain/errors.hpp"
#include "http/auth.hpp"
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
// httplib parses multipart bodies itself when it sees their Content-Type (and refuses more than
// 1,024 parts); the pre-routing step moves the header here so our own decoder gets the bytes.
constexpr const char *kMovedContentType = "X-Emulator-Internal-Content-Type";
// A body over the limit is still read (and dropped) up to this many more bytes, so the connection
// stays usable for the client's next request; beyond it the connection is ended.
constexpr std::size_t kDrainLimit = 64 * 1024 * 1024;

/// What the logger needs about the request being served on this thread.
struct RequestState {
  std::string id;
  std::string action;
  std::chrono::steady_clock::time_point start;
};
thread_local RequestState t_request;

/// Access to the listening socket, which httplib keeps protected.
class Backlog {
 public:
  virtual ~Backlog() = default;
  /// Re-listens the bound socket with `backlog` (Linux applies the new value).
  virtual bool set_backlog(int backlog) = 0;
};

/// httplib's server (plain or TLS) with a real listen backlog.
template <class Base>
class TunedServer : public Base, public Backlog {
 public:
  using Base::Base;
  bool set_backlog(int backlog) override { return ::listen(this->svr_sock_, backlog) == 0; }
};

/// The HTTP server, or the HTTPS one when a certificate and key are configured.
std::unique_ptr<httplib::Server> make_server(const Config &config) {
  if (config.tls_cert.empty()) return std::make_unique<TunedServer<httplib::Server>>();
  auto server = std::make_unique<TunedServer<httplib::SSLServer>>(config.tls_cert.c_str(), config.tls_key.c_str());
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

bool is_chunked(const httplib::Request &req) {
  return lowercase(req.get_header_value("Transfer-Encoding")).find("chunked") != std::string::npos;
}

/// Whether the request announces a body (which must then be read or the connection ended).
bool announces_body(const httplib::Request &req) {
  return is_chunked(req) || (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

/// Why httplib refused a request on its own, as our 4000 message.
std::string library_error_detail(const httplib::Request &req, int status, const DecodeLimits &limits) {
  switch (status) {
    case 414:
      return "the request line exceeds 8192 bytes; send the parameters in a POST body instead of the query string";
    case 413:
      return "the request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes (--max-body-bytes)";
    case 415:
      return "unsupported Content-Encoding " + req.get_header_value("Content-Encoding");
    default:
      return "malformed HTTP request";
  }
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
      : config(cfg), service(svc), auth(authenticator), options(api_options), owner(make_server(cfg)), server(*owner) {
    std::random_device seed;
    id_prefix = seed();
    configure(control_plane);
  }

  const Config &config;
  domain::TaskService &service;
  const Authenticator &auth;
  const api::ApiOptions &options;
  std::unique_ptr<httplib::Server> owner;
  httplib::Server &server;
  std::atomic<std::uint32_t> next_request{1};
  std::uint32_t id_prefix = 0;
  std::atomic<bool> stop_requested{false};
  int port = 0;

  std::mutex busy_mutex;
  std::set<Peer> busy;  ///< connections with a request in progress (spared at shutdown)

  void begin_request(const httplib::Request &req, httplib::Response &res) {
    {
      std::lock_guard lock(busy_mutex);
      busy.insert(peer_of(req));
    }
    t_request.id = fmt::format("{:08x}{:08x}", id_prefix, next_request.fetch_add(1));
    t_request.action.clear();
    t_request.start = std::chrono::steady_clock::now();
    res.set_header(kRequestIdHeader, t_request.id);
  }

  void finish_request(const httplib::Request &req, int code) {
    {
      std::lock_guard lock(busy_mutex);
      busy.erase(peer_of(req));
    }
    const auto elapsed = std::chrono::steady_clock::now() - t_request.start;
    logging::log_request({t_request.id, req.method, req.path, t_request.action, code,
                          std::chrono::duration<double, std::milli>(elapsed).count()});
  }

  /// Answers without routing: `error` as the envelope with HTTP `status`. A body the request
  /// announced is left unread, so the connection ends after the answer.
  void answer_early(const httplib::Request &req, httplib::Response &res, const ApiError &error, int status) {
    begin_request(req, res);
    render_error(error, res, status);
    if (announces_body(req)) end_after_response(req);
    finish_request(req, error.code());
  }

  /// Decodes, dispatches and renders one API request; errors are thrown to the exception handler.
  void serve_api(const httplib::Request &req, httplib::Response &res, const std::string *body) {
    RawParams raw;
    decode_urlencoded(query_of(req.target), config.limits, raw);
    if (body) decode_body(req, *body, raw);
    const ParamNode params = ParamNode::build(raw, config.limits);
    t_request.action = api::action_name(params);
    const api::CommonParams common = api::check_common_params(params);
    const domain::Credential *caller = authenticate(req, res, raw, common);
    const nlohmann::ordered_json data = api::dispatch(service, options, params, common, caller);
    res.status = 200;
    res.set_content(success_body(data, config.string_code), "application/json");
    finish_request(req, 0);
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
  std::string read_body(const httplib::Request &req, httplib::Response &res, const httplib::ContentReader &reader,
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
        if (keep) throw ApiError(ErrorCode::InvalidParameter, library_error_detail(req, 413, config.limits));
        return body;
      }
    }
    bool too_large = false;
    std::size_t dropped = 0;
    const bool ok = reader([&](const char *data, std::size_t size) {
      if (!too_large && body.size() + size <= limit) {
        body.append(data, size);
        return true;
      }
      too_large = true;
      dropped += size;
      return dropped <= kDrainLimit;
    });
    if (!ok) end_after_response(req);  // the rest of the body is still on the socket
    if (!keep) return body;
    if (too_large) throw ApiError(ErrorCode::InvalidParameter, library_error_detail(req, 413, config.limits));
    if (!ok) {
      throw ApiError(ErrorCode::InvalidParameter,
                     res.status == 415 ? library_error_detail(req, 415, config.limits)
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
                                 begin_request(req, res);
                                 read_body(req, res, reader, false);
                                 const ApiError error = fail(req);
                                 render_error(error, res, status);
                                 finish_request(req, error.code());
                               }));
  }

  void configure(control::ControlPlane &control_plane) {
    server.new_task_queue = [threads = config.threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    server.set_tcp_nodelay(true);
    // Replaces httplib's default options, which include SO_REUSEPORT: two emulators must never
    // share a port and split the traffic.
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server.set_keep_alive_max_count(1000000);  // httplib caps keep-alive at 5 requests by default
    server.set_keep_alive_timeout(config.keep_alive_timeout);
    server.set_read_timeout(config.read_timeout, 0);

    server.set_pre_routing_handler([this](const httplib::Request &req, httplib::Response &res) {
      // Bytes that followed a body we could not read: never a request.
      if (drop_if_ended(req)) return httplib::Server::HandlerResponse::Handled;
      if (req.method == "HEAD" || req.method == "OPTIONS") {
        // HEAD would run the GET handler in httplib: it must never execute an action.
        answer_early(req, res, req.path == kApiPath ? method_not_supported(req) : no_endpoint(req),
                     req.path == kApiPath ? 200 : 404);
        return httplib::Server::HandlerResponse::Handled;
      }
      auto &headers = const_cast<httplib::Request &>(req).headers;
      // Without a length or chunking a request has no body; httplib would read until the client closes.
      if (!req.has_header("Content-Length") && !is_chunked(req)) headers.emplace("Content-Length", "0");
      headers.erase(kMovedContentType);
      const auto it = headers.find("Content-Type");
      if (it != headers.end()) {
        std::string value = it->second;
        headers.erase("Content-Type");
        headers.emplace(kMovedContentType, std::move(value));
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });

    server.Get(kApiPath, [this](const httplib::Request &req, httplib::Response &res) {
      begin_request(req, res);
      // httplib does not read a GET's body: it would be taken for the next request.
      if (announces_body(req)) end_after_response(req);
      serve_api(req, res, nullptr);
    });
    server.Post(kApiPath, [this](const httplib::Request &req, httplib::Response &res,
                                 const httplib::ContentReader &reader) {
      begin_request(req, res);
      const std::string body = read_body(req, res, reader);
      serve_api(req, res, &body);
    });
    control_plane.install(server);
    // Every other method and path: the envelope, never an HTML page; bodies are drained first.
    using S = httplib::Server;
    for (const auto reg : {static_cast<S &(S::*)(const std::string &, S::HandlerWithContentReader)>(&S::Put),
                           static_cast<S &(S::*)(const std::string &, S::HandlerWithContentReader)>(&S::Patch),
                           static_cast<S &(S::*)(const std::string &, S::HandlerWithContentReader)>(&S::Delete)}) {
      refuse_with_body(reg, kApiPath, &method_not_supported, 200);
      refuse_with_body(reg, kNotControl, &no_endpoint, 404);
    }
    refuse_with_body(static_cast<S &(S::*)(const std::string &, S::HandlerWithContentReader)>(&S::Post), kNotControl,
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
      if (drop_if_ended(req)) return httplib::Server::HandlerResponse::Handled;
      begin_request(req, res);
      render_error(ApiError(ErrorCode::InvalidParameter, library_error_detail(req, res.status, config.limits)), res);
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
  impl_->port = port;
  return port;
}

void Server::listen() {
  if (impl_->stop_requested) return;
  impl_->server.listen_after_bind();
}

void Server::stop() {
  impl_->stop_requested = true;
  impl_->server.stop();
  // Idle keep-alive connections would otherwise hold the shutdown for --keep-alive-timeout.
  if (impl_->port > 0) {
    std::lock_guard lock(impl_->busy_mutex);
    end_idle_connections(impl_->port, impl_->busy);
  }
}

bool Server::is_running() const { return impl_->server.is_running(); }

}  // namespace cdbemu::http
