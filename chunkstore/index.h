// A 64-bit key -> pointer table read lock-free by data cores while one
// control thread writes: rte_hash with RW_CONCURRENCY_LF. Deleted key slots
// are not recycled by the hash itself (LF implies NO_FREE_ON_DEL); the owner
// frees a position with free_position() after an RCU grace period.
#pragma once

#include <cstdint>
#include <string>

#include <rte_hash.h>

namespace ep::chunkstore {

class KeyIndex {
  public:
    KeyIndex() = default;
    ~KeyIndex();
    KeyIndex(const KeyIndex &) = delete;
    KeyIndex &operator=(const KeyIndex &) = delete;

    bool create(const std::string &name, uint32_t entries, int socket_id, std::string *err);

    // Any thread. nullptr when absent.
    void *lookup(uint64_t key) const {
        void *data = nullptr;
        return rte_hash_lookup_data(h_, &key, &data) >= 0 ? data : nullptr;
    }
    // Any thread; n <= RTE_HASH_LOOKUP_BULK_MAX. Misses come back as nullptr.
    void lookup_bulk(const uint64_t *keys, unsigned n, void **out) const;

    // Control thread only. Adds or replaces; replaced data is returned in
    // *old (nullptr if the key was new). Returns false when the table is full.
    bool upsert(uint64_t key, void *data, void **old);
    // Control thread only. Unlinks key; returns its position (for
    // free_position after a grace period) or -1 if absent.
    int32_t unlink(uint64_t key);
    void free_position(int32_t pos) { rte_hash_free_key_with_position(h_, pos); }

    uint32_t count() const { return static_cast<uint32_t>(rte_hash_count(h_)); }
    // Control thread only: iterate (key, data); `next` starts at 0.
    bool iterate(uint32_t *next, uint64_t *key, void **data) const;

  private:
    rte_hash *h_ = nullptr;
};

}  // namespace ep::chunkstore
