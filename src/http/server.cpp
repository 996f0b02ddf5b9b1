#include "http/server.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "api/dispatch.hpp"
#include "http/auth.hpp"
#include "domain/errors.hpp"
#include "http/params.hpp"
#include "http/render.hpp"
#include "logging.hpp"

namespace cdbemu::http {
namespace {

using domain::ApiError;
using domain::ErrorCode;

constexpr const char *kApiPath = "/v2/index.php";
constexpr const char *kRequestIdHeader = "X-Emulator-Request-Id";
constexpr const char *kStringToSignHeader = "X-Emulator-String-To-Sign";
constexpr std::size_t kStringToSignHeaderLimit = 4096;
// httplib parses multipart bodies itself when it sees their Content-Type (and refuses more than
// 1,024 parts); the pre-routing step moves the header here so our own decoder gets the bytes.
constexpr const char *kMovedContentType = "X-Emulator-Internal-Content-Type";

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

/// Why httplib refused a request on its own, as our 4000 message.
std::string library_error_detail(const httplib::Request &req, int status, const DecodeLimits &limits) {
  switch (status) {
    case 414:
      return "the request line exceeds 8192 bytes; send the parameters in a POST body instead of the query string";
    case 413:
      return "the request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes (--max-body-bytes)";
    case 415:
      return "unsupported Content-Encoding " + req.get_header_value("Content-Encoding");
    case 404:
    case 405:
      return "method " + req.method + " is not supported; use GET or POST";
    default:
      return "malformed HTTP request";
  }
}

}  // namespace

struct Server::Impl {
  Impl(const Config &cfg, domain::TaskService &svc, const Authenticator &authenticator)
      : config(cfg), service(svc), auth(authenticator), owner(make_server(cfg)), server(*owner) {
    std::random_device seed;
    id_prefix = (static_cast<std::uint64_t>(seed()) << 32 | seed()) & 0xffffffffffULL;
    configure();
  }

  const Config &config;
  domain::TaskService &service;
  const Authenticator &auth;
  std::unique_ptr<httplib::Server> owner;
  httplib::Server &server;
  std::atomic<std::uint64_t> next_request{1};
  std::uint64_t id_prefix = 0;
  std::atomic<bool> stop_requested{false};

  void begin_request(httplib::Response &res) {
    t_request.id = fmt::format("{:010x}{:06x}", id_prefix, next_request.fetch_add(1) & 0xffffff);
    t_request.action.clear();
    t_request.start = std::chrono::steady_clock::now();
    res.set_header(kRequestIdHeader, t_request.id);
  }

  void finish_request(const httplib::Request &req, int code) {
    const auto elapsed = std::chrono::steady_clock::now() - t_request.start;
    logging::log_request({t_request.id, req.method, req.path, t_request.action, code,
                          std::chrono::duration<double, std::milli>(elapsed).count()});
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
    const nlohmann::ordered_json data = api::dispatch(service, params, common, caller);
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

  /// Reads a POST body through our own receiver so the limit applies to decoded bytes.
  std::string read_body(const httplib::Request &req, httplib::Response &res, const httplib::ContentReader &reader) {
    std::string body;
    const bool has_body = req.has_header("Content-Length") ||
                          req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
    if (!has_body) return body;  // a POST without a body; reading would wait for the client to close
    bool too_large = false;
    const bool ok = reader([&](const char *data, std::size_t size) {
      if (body.size() + size > config.limits.max_body_bytes) {
        too_large = true;
        return false;
      }
      body.append(data, size);
      return true;
    });
    if (!ok) {
      // The rest of the body is still on the socket: the client must not reuse this connection.
      const_cast<httplib::Request &>(req).set_header("Connection", "close");
      const int status = too_large ? 413 : res.status;
      throw ApiError(ErrorCode::InvalidParameter,
                     status == 413 || status == 415 ? library_error_detail(req, status, config.limits)
                                                    : "the request body could not be read (truncated body, bad "
                                                      "chunked encoding or bad Content-Encoding data)");
    }
    return body;
  }

  void configure() {
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
    server.set_payload_max_length(config.limits.max_body_bytes);

    server.set_pre_routing_handler([this](const httplib::Request &req, httplib::Response &res) {
      if (req.method == "HEAD") {
        begin_request(res);
        // HEAD runs the GET handler in httplib; it must never execute an action.
        render_error(ApiError(ErrorCode::InvalidParameter, "HEAD requests do not run actions; use GET or POST"), res);
        finish_request(req, static_cast<int>(ErrorCode::InvalidParameter));
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.method == "POST" && req.path == kApiPath) {
        auto &headers = const_cast<httplib::Request &>(req).headers;
        headers.erase(kMovedContentType);
        const auto it = headers.find("Content-Type");
        if (it != headers.end()) {
          std::string value = it->second;
          headers.erase("Content-Type");
          headers.emplace(kMovedContentType, std::move(value));
        }
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });

    server.Get(kApiPath, [this](const httplib::Request &req, httplib::Response &res) {
      begin_request(res);
      serve_api(req, res, nullptr);
    });
    server.Post(kApiPath, [this](const httplib::Request &req, httplib::Response &res,
                                 const httplib::ContentReader &reader) {
      begin_request(res);
      const std::string body = read_body(req, res, reader);
      serve_api(req, res, &body);
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

    // Refusals httplib makes on its own (bad request line, 404, 413, 414, 415) land here.
    server.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request &req,
                                                                         httplib::Response &res) {
      if (res.has_header(kRequestIdHeader)) return httplib::Server::HandlerResponse::Unhandled;
      begin_request(res);
      const bool api_path = req.path.empty() || req.path == kApiPath;
      if (!api_path && res.status == 404) {
        render_error(ApiError(ErrorCode::InvalidParameter,
                              "no endpoint at this path; the API is served at /v2/index.php"),
                     res, 404);
      } else {
        render_error(ApiError(ErrorCode::InvalidParameter, library_error_detail(req, res.status, config.limits)), res);
      }
      finish_request(req, static_cast<int>(ErrorCode::InvalidParameter));
      return httplib::Server::HandlerResponse::Handled;
    }));
  }
};

Server::Server(const Config &config, domain::TaskService &service, const Authenticator &auth)
    : impl_(std::make_unique<Impl>(config, service, auth)) {}

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
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      if (sock >= 0 && ::bind(sock, result->ai_addr, result->ai_addrlen) != 0) reason = std::strerror(errno);
      if (sock >= 0) ::close(sock);
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
  impl_->server.stop();
}

bool Server::is_running() const { return impl_->server.is_running(); }

}  // namespace cdbemu::http
