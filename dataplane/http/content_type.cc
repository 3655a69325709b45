#include "dataplane/http/content_type.h"

#include "dataplane/http/chars.h"

namespace ep::http {
namespace {

struct Entry {
    std::string_view ext;
    ContentType type;
};

// RFC 9110 §8.3. The DASH types are the IANA registrations named by
// ISO/IEC 23009-1 (application/dash+xml, video/iso.segment); Debian's
// mime.types lacks both, which is why the table lives here.
constexpr Entry kTable[] = {
    {"mpd", {"application/dash+xml", ContentClass::kManifest}},
    {"m4s", {"video/iso.segment", ContentClass::kMedia}},
    {"mp4", {"video/mp4", ContentClass::kMedia}},
    {"m4v", {"video/mp4", ContentClass::kMedia}},
    {"m4a", {"audio/mp4", ContentClass::kMedia}},
    {"torrent", {"application/x-bittorrent", ContentClass::kOther}},
    {"html", {"text/html; charset=utf-8", ContentClass::kOther}},
    {"htm", {"text/html; charset=utf-8", ContentClass::kOther}},
    {"js", {"text/javascript", ContentClass::kOther}},
    {"css", {"text/css", ContentClass::kOther}},
    {"json", {"application/json", ContentClass::kOther}},
    {"txt", {"text/plain; charset=utf-8", ContentClass::kOther}},
};

}  // namespace

ContentType content_type_for(std::string_view key) {
    const std::size_t slash = key.rfind('/');
    const std::size_t dot = key.rfind('.');
    if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
        const std::string_view ext = key.substr(dot + 1);
        for (const Entry &e : kTable) {
            if (e.ext.size() != ext.size()) continue;
            bool eq = true;
            for (std::size_t i = 0; i < ext.size() && eq; ++i)
                eq = to_lower(static_cast<uint8_t>(ext[i])) == static_cast<uint8_t>(e.ext[i]);
            if (eq) return e.type;
        }
    }
    return {"application/octet-stream", ContentClass::kOther};
}

}  // namespace ep::http
