#include "dataplane/steer_rings.h"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdio>

namespace ep {

namespace {
// Room for a few windows' worth of segments that landed on the wrong queue
// (each lcore drains its ring every loop turn); beyond it: steer_ring_full.
constexpr unsigned kRingSize = 1024;
}  // namespace

bool steer_setup(const std::vector<Lcore *> &lcores, const tcp::PortSteer &ephemeral,
                 std::vector<tcp::PortSteer> *slices, std::string *err) {
    slices->clear();
    const size_t n = lcores.size();
    if (n <= 1) return true;
    if (n > kMaxSteerLcores) {
        *err = "at most " + std::to_string(kMaxSteerLcores) + " data lcores with --origin";
        return false;
    }
    tcp::PortSteer all = ephemeral;
    all.lcores = static_cast<uint16_t>(n);
    for (size_t k = 0; k < n; ++k) {
        Lcore *lc = lcores[k];
        for (uint16_t i = 0; i < lc->nqueues; ++i) {
            char name[RTE_RING_NAMESIZE];
            std::snprintf(name, sizeof name, "steer_%zu_%u", k, unsigned{i});
            rte_ring *r = rte_ring_create(name, kRingSize,
                                          static_cast<int>(rte_lcore_to_socket_id(lc->lcore_id)),
                                          RING_F_SC_DEQ);
            if (!r) {
                *err = std::string("steering ring: ") + rte_strerror(rte_errno);
                return false;
            }
            lc->queues[i].steer_in = r;
        }
    }
    for (size_t k = 0; k < n; ++k) {
        Lcore *lc = lcores[k];
        for (uint16_t i = 0; i < lc->nqueues; ++i) {
            LcoreQueue &q = lc->queues[i];
            q.steer = all;
            q.steer_self = static_cast<uint16_t>(k);
            for (size_t j = 0; j < n; ++j) q.steer_to[j] = lcores[j]->queues[i].steer_in;
        }
        tcp::PortSteer mine = all;
        all.slice(static_cast<uint16_t>(k), &mine.lo, &mine.hi);
        slices->push_back(mine);
    }
    return true;
}

void steer_teardown(const std::vector<Lcore *> &lcores) {
    for (Lcore *lc : lcores)
        for (uint16_t i = 0; i < lc->nqueues; ++i) {
            LcoreQueue &q = lc->queues[i];
            if (!q.steer_in) continue;
            void *m;
            while (rte_ring_sc_dequeue(q.steer_in, &m) == 0)
                rte_pktmbuf_free(static_cast<rte_mbuf *>(m));
            rte_ring_free(q.steer_in);
            q.steer_in = nullptr;
            for (rte_ring *&r : q.steer_to) r = nullptr;
            q.steer.lcores = 1;
        }
}

}  // namespace ep
