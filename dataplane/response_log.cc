#include "dataplane/response_log.h"

namespace ep {

size_t ResponseLog::memsize(uint32_t count) {
    const ssize_t n = rte_ring_get_memsize_elem(sizeof(ResponseRecord), count);
    return n < 0 ? 0 : static_cast<size_t>(n);
}

bool ResponseLog::init(void *mem, uint32_t count, uint32_t sample, uint8_t lcore, uint64_t *drops) {
    ring_ = static_cast<rte_ring *>(mem);
    drops_ = drops;
    set_sample(sample);
    lcore_ = lcore;
    // Caller memory, like AccessLog: no memzone name to keep unique, and unit
    // tests need no EAL. One data lcore writes, the control thread reads.
    return rte_ring_init(ring_, "ep_resp_log", count, RING_F_SP_ENQ | RING_F_SC_DEQ) == 0 &&
           rte_ring_get_capacity(ring_) > 0;
}

}  // namespace ep
