// The one question the HTTP logic asks the object store: what is at this key?
// The glue implements it over the chunk store's index; tests use a map.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ep::http {

struct ObjectInfo {
    uint64_t handle = 0;  // opaque to HTTP; echoed in every body piece
    uint64_t size = 0;    // bytes
    uint64_t etag64 = 0;  // XXH3-64 of the content → strong ETag
    int64_t mtime = 0;    // unix seconds → Last-Modified
    // false: the store knows the object but cannot serve it now (still being
    // pulled from origin, disk tier busy): 503 with Retry-After.
    bool available = true;
    // Pull on miss (dataplane/origin_fill.h): the object is being fetched
    // from its origin and its length is not known yet. The session holds
    // the request (no response yet) until the glue calls retry().
    bool pending = false;
    // Pull on miss failed: answer this status (502 or 504) instead.
    uint16_t error_status = 0;
    // Overrides the extension table when non-empty (e.g. the chunk store's
    // ObjectMeta::content_type()). Must stay valid until lookup's caller
    // returns from feed(). Cache-Control still follows the extension.
    std::string_view content_type = {};
};

class ObjectCatalog {
  public:
    virtual ~ObjectCatalog() = default;
    // `key` is the decoded path without its leading '/', e.g.
    // "bbb/manifest.mpd"; directory requests already carry the index name.
    // Must not allocate or throw: it runs on the data core per request.
    virtual std::optional<ObjectInfo> lookup(std::string_view key) const noexcept = 0;
    // The same, told where the request's single byte range starts (0
    // without one): a cold object behind an origin is fetched from that
    // chunk first. Catalogs without origins need not care.
    virtual std::optional<ObjectInfo> lookup_from(std::string_view key,
                                                  uint64_t first_byte) const noexcept {
        (void)first_byte;
        return lookup(key);
    }
    // PURGE of `key` (the decoded path without '/'; a trailing '/' means
    // everything under it): the status to answer (200, 403, 404, 405, 503).
    // Catalogs without a purge path refuse the method.
    virtual uint16_t purge(std::string_view key) const noexcept {
        (void)key;
        return 405;
    }
};

}  // namespace ep::http
