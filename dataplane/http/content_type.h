// Content-Type and cache class by file extension of the object key.
#pragma once

#include <cstdint>
#include <string_view>

namespace ep::http {

enum class ContentClass : uint8_t {
    kManifest,  // .mpd: rewritten as a live stream advances; short max-age
    kMedia,     // .m4s/.mp4/.m4a: immutable once written; long max-age
    kOther,     // pages, scripts, torrents, anything else
};

struct ContentType {
    std::string_view mime;
    ContentClass cls;
};

// Extension match is case-insensitive; unknown → application/octet-stream.
ContentType content_type_for(std::string_view key);

}  // namespace ep::http
