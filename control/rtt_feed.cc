#include "control/rtt_feed.h"

#include <cstdlib>
#include <new>

namespace ep {

RttFeed::~RttFeed() {
    for (Slot &s : slots_) {
        delete s.ring;
        std::free(s.mem);
    }
}

RttRing *RttFeed::ring(uint8_t lcore, uint64_t *sent, uint64_t *full) {
    for (const Slot &s : slots_)
        if (s.lcore == lcore) return s.ring;
    // Plain heap memory (rte_ring_init takes any): the feed may outlive
    // the EAL's heap at exit, and the ring is touched by one lcore and the
    // control thread only.
    const size_t bytes = (RttRing::memsize(kRingSize) + 63) / 64 * 64;
    void *mem = bytes ? std::aligned_alloc(64, bytes) : nullptr;
    auto *r = mem ? new (std::nothrow) RttRing() : nullptr;
    if (!r || !r->init(mem, kRingSize, lcore, sent, full)) {
        delete r;
        std::free(mem);
        return nullptr;
    }
    slots_.push_back({lcore, mem, r});
    return r;
}

void RttFeed::drain(int32_t self_cluster, cluster::Measurements &m, double now_s) {
    RttRecord batch[64];
    for (Slot &s : slots_) {
        // Bounded: a ring holds kRingSize records, so this loop ends even
        // while the lcore keeps producing.
        for (uint32_t taken = 0; taken < kRingSize;) {
            const unsigned n = s.ring->drain(batch, 64);
            if (n == 0) break;
            taken += n;
            for (unsigned k = 0; k < n; ++k)
                cluster::ingest_record(batch[k], self_cluster, m, now_s, &ctr_);
        }
    }
}

}  // namespace ep
