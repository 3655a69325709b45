// In-memory ObjectCatalog for tests and tools: objects are plain byte strings
// whose ETag is their XXH3-64, like the chunk store's.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "dataplane/http/catalog.h"

namespace ep::http {

class FakeCatalog : public ObjectCatalog {
  public:
    // Returns the handle of the added object.
    uint64_t add(std::string key, std::string content, int64_t mtime = 1'700'000'000,
                 bool available = true);
    // A large object without bytes (only its size matters to the HTTP logic).
    uint64_t add_sized(std::string key, uint64_t size, uint64_t etag64, int64_t mtime);

    // Sets ObjectInfo::content_type of an added object (the store's own type).
    void set_content_type(const std::string &key, std::string type);

    std::optional<ObjectInfo> lookup(std::string_view key) const noexcept override;
    // PURGE answers purge_status (405 like the default catalog) and notes the key.
    uint16_t purge(std::string_view key) const noexcept override {
        last_purge.assign(key);
        return purge_status;
    }
    uint16_t purge_status = 405;
    mutable std::string last_purge;
    // Bytes of a handle (for checking what a response references).
    std::string_view content(uint64_t handle) const;

  private:
    struct Obj {
        ObjectInfo info;
        std::string bytes;
        std::string type;
    };
    std::map<std::string, Obj, std::less<>> objs_;
    uint64_t next_handle_ = 1;
};

}  // namespace ep::http
