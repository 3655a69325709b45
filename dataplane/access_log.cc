#include "dataplane/access_log.h"

namespace ep {

size_t AccessLog::memsize(uint32_t count) {
    const ssize_t n = rte_ring_get_memsize_elem(sizeof(AccessRec), count);
    return n < 0 ? 0 : static_cast<size_t>(n);
}

bool AccessLog::init(void *mem, uint32_t count, uint64_t *drop_counter) {
    ring_ = static_cast<rte_ring *>(mem);
    drops_ = drop_counter;
    // rte_ring_init on caller memory: no memzone, so it also works in unit
    // tests without EAL. SP/SC: one data lcore writes, the control thread reads.
    return rte_ring_init(ring_, "ep_access", count, RING_F_SP_ENQ | RING_F_SC_DEQ) == 0 &&
           rte_ring_get_capacity(ring_) > 0;
}

}  // namespace ep
