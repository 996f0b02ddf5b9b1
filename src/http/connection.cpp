#include "http/connection.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cstdlib>

namespace cdbemu::http {
namespace {

/// httplib serves a connection on one thread from its first request to its last, so the
/// connection this thread ended is remembered here (local port and peer).
struct EndedConnection {
  int local_port = -1;
  Peer peer;
};
thread_local EndedConnection t_ended;

/// The address and port of a socket address, as httplib reports them.
bool address_of(const sockaddr_storage &addr, Peer &out) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto &in = reinterpret_cast<const sockaddr_in &>(addr);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    out = {text, ntohs(in.sin_port)};
    return true;
  }
  if (addr.ss_family == AF_INET6) {
    const auto &in6 = reinterpret_cast<const sockaddr_in6 &>(addr);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    out = {text, ntohs(in6.sin6_port)};
    return true;
  }
  return false;
}

/// Calls fn(fd, peer) for every connected socket of this process whose local port is `port`.
template <class Fn>
void for_each_connection(int port, Fn fn) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return;
  while (const dirent *entry = readdir(dir)) {
    char *end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || fd < 0) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof(local);
    Peer local_address;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr *>(&local), &length) != 0 ||
        !address_of(local, local_address) || local_address.second != port) {
      continue;
    }
    sockaddr_storage remote{};
    length = sizeof(remote);
    Peer peer;
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr *>(&remote), &length) != 0 ||
        !address_of(remote, peer)) {
      continue;
    }
    fn(static_cast<int>(fd), peer);
  }
  closedir(dir);
}

/// Shuts the connection of `req` down both ways.
void cut(const httplib::Request &req) {
  if (req.ssl) {
    ::shutdown(SSL_get_fd(req.ssl), SHUT_RDWR);
    return;
  }
  const Peer peer = peer_of(req);
  for_each_connection(req.local_port, [&](int fd, const Peer &p) {
    if (p == peer) ::shutdown(fd, SHUT_RDWR);
  });
}

}  // namespace

Peer peer_of(const httplib::Request &req) { return {req.remote_addr, req.remote_port}; }

void end_after_response(const httplib::Request &req) {
  // httplib answers "Connection: close" when the request asked for it.
  const_cast<httplib::Request &>(req).set_header("Connection", "close");
  t_ended = {req.local_port, peer_of(req)};
}

bool drop_if_ended(const httplib::Request &req) {
  if (t_ended.local_port < 0) return false;
  // httplib fills in the peer only for requests it could parse; a malformed one on this thread
  // is taken to come from the ended connection (at worst a new connection's garbage goes unanswered).
  const bool peer_known = req.remote_port >= 0;
  if (peer_known && (t_ended.local_port != req.local_port || t_ended.peer != peer_of(req))) {
    t_ended = {};  // this thread serves another connection now
    return false;
  }
  if (peer_known) {
    cut(req);
  } else {
    for_each_connection(t_ended.local_port, [&](int fd, const Peer &p) {
      if (p == t_ended.peer) ::shutdown(fd, SHUT_RDWR);
    });
  }
  return true;
}

void end_idle_connections(int port, const std::set<Peer> &busy) {
  // Shutting the reading side makes httplib's keep-alive wait see end-of-stream and close.
  for_each_connection(port, [&](int fd, const Peer &peer) {
    if (!busy.count(peer)) ::shutdown(fd, SHUT_RD);
  });
}

}  // namespace cdbemu::http
