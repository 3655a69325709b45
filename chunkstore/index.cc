#include "chunkstore/index.h"

#include <rte_errno.h>

#include <cstring>

namespace ep::chunkstore {

// Keys are already XXH3 outputs: fold them instead of hashing again.
static uint32_t key_fold(const void *key, uint32_t, uint32_t) {
    uint64_t k;
    std::memcpy(&k, key, sizeof(k));
    return static_cast<uint32_t>(k ^ (k >> 32));
}

KeyIndex::~KeyIndex() {
    if (h_) rte_hash_free(h_);
}

bool KeyIndex::create(const std::string &name, uint32_t entries, int socket_id, std::string *err) {
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = entries < 64 ? 64 : entries;
    p.key_len = sizeof(uint64_t);
    p.hash_func = key_fold;
    p.socket_id = socket_id;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
    h_ = rte_hash_create(&p);
    if (!h_) {
        *err = "rte_hash_create(" + name + "): " + rte_strerror(rte_errno);
        return false;
    }
    return true;
}

void KeyIndex::lookup_bulk(const uint64_t *keys, unsigned n, void **out) const {
    const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
    for (unsigned i = 0; i < n; ++i) kp[i] = &keys[i];
    uint64_t hits = 0;
    rte_hash_lookup_bulk_data(h_, kp, n, &hits, out);
    for (unsigned i = 0; i < n; ++i)
        if (!(hits & (1ull << i))) out[i] = nullptr;
}

bool KeyIndex::upsert(uint64_t key, void *data, void **old) {
    void *prev = nullptr;
    *old = rte_hash_lookup_data(h_, &key, &prev) >= 0 ? prev : nullptr;
    return rte_hash_add_key_data(h_, &key, data) == 0;
}

int32_t KeyIndex::unlink(uint64_t key) {
    int32_t pos = rte_hash_del_key(h_, &key);
    return pos >= 0 ? pos : -1;
}

bool KeyIndex::iterate(uint32_t *next, uint64_t *key, void **data) const {
    const void *k = nullptr;
    if (rte_hash_iterate(h_, &k, data, next) < 0) return false;
    std::memcpy(key, k, sizeof(*key));
    return true;
}

}  // namespace ep::chunkstore
