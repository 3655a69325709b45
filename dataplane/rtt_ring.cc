#include "dataplane/rtt_ring.h"

#include <cstring>

namespace ep {

size_t RttRing::memsize(uint32_t count) {
    const ssize_t n = rte_ring_get_memsize_elem(sizeof(RttRecord), count);
    return n < 0 ? 0 : static_cast<size_t>(n);
}

bool RttRing::init(void *mem, uint32_t count, uint8_t lcore, uint64_t *sent, uint64_t *full) {
    ring_ = static_cast<rte_ring *>(mem);
    sent_ = sent;
    full_ = full;
    lcore_ = lcore;
    // Caller memory like ResponseLog: no memzone name to keep unique. One
    // data lcore writes, the control thread reads.
    return rte_ring_init(ring_, "ep_rtt", count, RING_F_SP_ENQ | RING_F_SC_DEQ) == 0 &&
           rte_ring_get_capacity(ring_) > 0;
}

void RttRing::push(const tcp::ConnSample &s) {
    RttRecord r;
    std::memcpy(r.addr, s.remote.b, sizeof r.addr);
    const uint64_t us = s.srtt_ns / 1000;
    r.srtt_us = us > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(us);
    r.segs_out = s.segs_out;
    r.segs_retrans = s.segs_retrans;
    r.lcore = lcore_;
    r.final = s.final ? 1 : 0;
    if (rte_ring_sp_enqueue_elem(ring_, &r, sizeof r) != 0)
        ++*full_;
    else
        ++*sent_;
}

}  // namespace ep
