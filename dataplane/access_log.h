// Each data lcore's record of what it served, for the cache policy on the
// control thread: one single-producer/single-consumer rte_ring per lcore.
// Recording never blocks: when the ring is full the record is dropped and
// counted (access_ring_drops), and the policy just sees a little less.
#pragma once

#include <rte_ring.h>

#include <cstdint>

#include "dataplane/chunk_stream.h"

namespace ep {

struct AccessRec {
    uint64_t key;
    uint32_t bytes;
    uint32_t hit;  // 1: served from RAM; 0: had to be brought in; 2: object absent (key = object id)
};
static_assert(sizeof(AccessRec) % 4 == 0, "rte_ring elements are multiples of 4 bytes");

class AccessLog final : public AccessSink {
public:
    // `mem` must hold AccessLog::memsize(count) bytes (count: power of two).
    static size_t memsize(uint32_t count);
    bool init(void *mem, uint32_t count, uint64_t *drop_counter);
    rte_ring *ring() const { return ring_; }

    void record(uint64_t key, uint32_t bytes, bool hit) override {
        AccessRec r{key, bytes, hit ? 1u : 0u};
        if (rte_ring_sp_enqueue_elem(ring_, &r, sizeof r) != 0) ++*drops_;
    }
    void record_absent(uint64_t oid) override {
        AccessRec r{oid, 0, 2u};
        if (rte_ring_sp_enqueue_elem(ring_, &r, sizeof r) != 0) ++*drops_;
    }
    // Control thread: up to max records into out.
    unsigned drain(AccessRec *out, unsigned max) {
        return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(AccessRec), max, nullptr);
    }

private:
    rte_ring *ring_ = nullptr;
    uint64_t *drops_ = nullptr;
};

}  // namespace ep
