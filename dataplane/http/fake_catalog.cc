#include "dataplane/http/fake_catalog.h"

#include <xxhash.h>

namespace ep::http {

uint64_t FakeCatalog::add(std::string key, std::string content, int64_t mtime, bool available) {
    const uint64_t h = next_handle_++;
    ObjectInfo info{h, content.size(), XXH3_64bits(content.data(), content.size()), mtime,
                    available};
    objs_[std::move(key)] = Obj{info, std::move(content)};
    return h;
}

uint64_t FakeCatalog::add_sized(std::string key, uint64_t size, uint64_t etag64, int64_t mtime) {
    const uint64_t h = next_handle_++;
    objs_[std::move(key)] = Obj{ObjectInfo{h, size, etag64, mtime, true}, {}};
    return h;
}

void FakeCatalog::set_content_type(const std::string &key, std::string type) {
    const auto it = objs_.find(key);
    if (it != objs_.end()) it->second.type = std::move(type);
}

std::optional<ObjectInfo> FakeCatalog::lookup(std::string_view key) const noexcept {
    const auto it = objs_.find(key);
    if (it == objs_.end()) return std::nullopt;
    ObjectInfo info = it->second.info;
    info.content_type = it->second.type;
    return info;
}

std::string_view FakeCatalog::content(uint64_t handle) const {
    for (const auto &[k, o] : objs_)
        if (o.info.handle == handle) return o.bytes;
    return {};
}

}  // namespace ep::http
