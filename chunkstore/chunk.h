// A RAM-resident chunk and the data-core operations on it: pin, unpin,
// zero-copy mbuf slices, Internet-checksum partial sums.
//
// Reference counting has one source of truth: shinfo.refcnt, the counter
// DPDK itself decrements when an external-buffer mbuf is freed.
//   - the index holds 1 reference while the chunk is linked (dropped by the
//     control thread only after an RCU grace period following the unlink);
//   - every pin() and every attached mbuf holds 1 more.
// When it reaches 0 (free_cb), the slot goes back to the control thread
// through a ring. A chunk found by lookup() must be pinned before the
// reader's next quiescent(); after that it lives as long as it is pinned.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "chunkstore/inet_csum.h"
#include "chunkstore/record.h"
#include "chunkstore/types.h"

namespace ep::chunkstore {

struct alignas(64) Chunk {
    rte_mbuf_ext_shared_info shinfo;  // refcnt: see above; free_cb returns the slot
    uint8_t *data;                    // kChunkSize bytes of slab (hugepage) memory
    rte_iova_t iova;                  // IOVA of data[0]; a slot is IOVA-contiguous
    ChunkKey key;
    ObjectId oid;
    uint64_t generation;
    uint64_t xxh3;  // of data[0, len)
    uint32_t len;
    uint32_t index;  // chunk index within its object
    uint32_t slot;   // slab slot (also this descriptor's index)
    uint32_t reuse;  // bumped each time the slot is recycled (debugging aid)
    rte_ring *release_ring;
    uint16_t csum_prefix[kCsumBlocks + 1];
};

// Pin: keeps the chunk's memory from being reused or freed. Safe on a chunk
// returned by lookup() before quiescent(), or on one already pinned.
inline void pin(Chunk *c) {
    __atomic_fetch_add(&c->shinfo.refcnt, 1, __ATOMIC_RELAXED);
}

// Drop one reference, the same way rte_pktmbuf_free drops an mbuf's.
inline void unpin(Chunk *c) {
    if (rte_mbuf_ext_refcnt_update(&c->shinfo, -1) == 0) c->shinfo.free_cb(c->data, c);
}

// Current references (index + pins + mbufs). Racy by nature; for eviction
// decisions, tests and stats.
inline uint16_t refs(const Chunk *c) {
    return __atomic_load_n(&c->shinfo.refcnt, __ATOMIC_ACQUIRE);
}

// An mbuf from indirect_pool (data room may be 0) whose data is
// chunk[offset, offset+len), no copy; it holds one reference on the chunk
// until freed. len <= kMaxSlice (buf_len is 16 bits). nullptr if the pool
// is empty or the range is invalid.
inline rte_mbuf *attach_slice(Chunk *c, uint32_t offset, uint32_t len, rte_mempool *indirect_pool) {
    if (len == 0 || len > kMaxSlice || offset > c->len || len > c->len - offset) return nullptr;
    rte_mbuf *m = rte_pktmbuf_alloc(indirect_pool);
    if (!m) return nullptr;
    // DPDK 22.11's rte_pktmbuf_attach_extbuf does not touch the refcnt; the
    // reference this mbuf will drop on free is taken here.
    pin(c);
    rte_pktmbuf_attach_extbuf(m, c->data + offset, c->iova + offset, static_cast<uint16_t>(len),
                              &c->shinfo);
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = len;
    return m;
}

// Ones-complement sum of chunk bytes [offset, offset+len), words aligned to
// offset; unfolded (add to a pseudo-header sum, then fold).
inline uint32_t payload_partial_sum(const Chunk *c, uint32_t offset, uint32_t len) {
    return csum_range(c->data, c->csum_prefix, offset, len);
}
inline uint16_t payload_partial_sum16(const Chunk *c, uint32_t offset, uint32_t len) {
    return csum_fold(payload_partial_sum(c, offset, len));
}

// The free callback installed in every chunk's shinfo.
void chunk_release_cb(void *addr, void *opaque);

// Per-object metadata the HTTP server needs. Immutable once published;
// replaced (never modified) when an object is re-ingested.
struct ObjectMeta {
    ObjectId id;
    uint64_t size;
    uint32_t chunk_count;
    uint64_t generation;
    uint64_t etag;  // XXH3 over the chunk checksums, seeded with the size
    int64_t mtime_ns;
    uint16_t name_len;
    uint16_t ctype_len;
    char ctype[kMaxContentType];
    char name[kMaxName];

    // Chunks whose only record failed its checksum: bit i set = chunk i is
    // lost. The rest of the object stays servable (ranges that avoid a lost
    // chunk succeed; a response that needs one is reset). Null when whole.
    // Written once by the control thread before the meta is published.
    std::shared_ptr<uint64_t[]> lost;
    uint32_t lost_count = 0;
    // Pulled from an origin (Store::begin_fill): its chunks appear one by
    // one, and one that is missing is fetched again, not promoted. `etag`
    // is then XXH3 of the origin's entity-tag seeded with the size, what a
    // later chunk's answer is checked against (versions never mix).
    bool filled = false;
    // Filled objects: fresh until this Unix second (0: no max-age, fresh
    // until evicted or purged), and the origin's entity-tag as sent, for
    // revalidation (If-None-Match).
    int64_t expires_unix_s = 0;
    // Negative caching (Store::put_negative): no object, the origin said
    // this status (404/410) for it; until expires_unix_s the data lcores
    // answer 404 without asking the origin. No chunks (chunk_count 0).
    uint16_t negative_status = 0;
    // The origin said no-store or private (RFC 9111 5.2.2.5, 5.2.2.7): this
    // copy exists only to stream the response that fetched it; every later
    // request fetches anew (it is always stale and never revalidated).
    bool no_store = false;
    uint8_t origin_etag_len = 0;
    char origin_etag[96] = {};
    std::string_view origin_etag_view() const { return {origin_etag, origin_etag_len}; }
    // Filled objects in a store with a disk tier: bit i set = chunk i of this
    // version has a disk record, so a RAM miss promotes it (with its checksum
    // checked) instead of asking the origin. Shared by every copy of the meta
    // of one generation; set by the control thread when a record write
    // completes or at open, cleared when the record goes (relaxed: a reader
    // that misses a fresh bit fetches the chunk once more, nothing worse).
    std::shared_ptr<std::atomic<uint64_t>[]> on_disk;
    bool chunk_on_disk(uint32_t i) const {
        return on_disk && ((on_disk[i / 64].load(std::memory_order_relaxed) >> (i % 64)) & 1);
    }

    bool chunk_lost(uint32_t i) const { return lost && ((lost[i / 64] >> (i % 64)) & 1); }
    std::string_view name_view() const { return {name, name_len}; }
    std::string_view content_type() const { return {ctype, ctype_len}; }
    // Strong ETag as HTTP wants it: "\"<16 hex digits>\"" (18 chars + NUL).
    void etag_string(char out[19]) const;
    uint32_t chunk_len(uint32_t i) const {
        uint64_t rest = size - uint64_t{i} * kChunkSize;
        return rest < kChunkSize ? static_cast<uint32_t>(rest) : kChunkSize;
    }
};

}  // namespace ep::chunkstore
