// Answers made per request by another service that shares the HTTP port
// (the BitTorrent tracker's /announce and /scrape, dataplane/swarm/
// http_tracker.h): the responder asks it before the object catalog. The
// glue implements it (it knows the connection's address); HTTP only frames
// the body it gets back.
#pragma once

#include <cstddef>
#include <string_view>

namespace ep::http {

class Generator {
  public:
    virtual ~Generator() = default;
    // True when `path` (decoded, with its leading '/') is one of its routes;
    // such a path never reaches the object catalog.
    virtual bool owns(std::string_view path) const noexcept = 0;
    // Writes the body for GET `path` with query string `query` (as sent,
    // still percent-encoded) into out[0..room) and returns its length
    // (<= room); *content_type must stay valid until feed() returns. Runs
    // on the data core inside HttpSession::feed: no allocation, no throw.
    virtual std::size_t generate(std::string_view path, std::string_view query, char *out,
                                 std::size_t room, std::string_view *content_type) noexcept = 0;
};

}  // namespace ep::http
