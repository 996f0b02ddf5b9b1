#pragma once
// The TCP connections behind httplib's requests, which httplib does not expose. Used to end a
// connection whose byte stream can no longer be trusted (a body left unread would otherwise be
// parsed as the next request), and to end idle keep-alive connections at shutdown instead of
// waiting out their timeout.

#include <set>
#include <string>
#include <utility>

namespace httplib {
struct Request;
}

namespace cdbemu::http {

/// A connection's peer: address and port.
using Peer = std::pair<std::string, int>;

/// The peer of the connection `req` came on.
Peer peer_of(const httplib::Request &req);

/// Answers `req` with `Connection: close` and ends its connection after that answer: anything
/// httplib later reads from it is dropped unanswered (see drop_if_ended).
void end_after_response(const httplib::Request &req);

/// Whether `req` came on a connection ended by end_after_response; if so, the connection is cut
/// and the caller must not act on the request.
bool drop_if_ended(const httplib::Request &req);

/// Ends every accepted connection on local port `port` whose peer is not in `busy` (shutdown:
/// idle keep-alive connections end at once; requests in progress still get their answers).
void end_idle_connections(int port, const std::set<Peer> &busy);

}  // namespace cdbemu::http
