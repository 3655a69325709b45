// Which data lcore owns a local TCP port: the steering stage for active
// opens (the origin client, docs/origin.md "More than one data lcore").
//
// A passive connection needs no steering: the port's RSS (or the TAP's flow
// table) sends a flow's later segments where its SYN arrived, and the lcore
// answers from there. An active open is chosen by us, not by the port: the
// answers come back on whatever queue the port's hash picks, which on a NIC
// with Toeplitz RSS we could predict (rte_softrss) but on net_tap (the
// kernel's own flow hash), net_memif or net_ring we cannot. So every lcore
// connects from its own disjoint slice of the ephemeral range, and the
// receive path hands a segment for a port of another lcore's slice to that
// lcore over a ring: it works on every port, at the price of one ring hop for
// the (rare) segments that land on the wrong queue.
#pragma once

#include <cstdint>

namespace ep::tcp {

struct PortSteer {
    static constexpr uint16_t kNone = UINT16_MAX;
    uint16_t lo = 32768, hi = 60999;  // the whole ephemeral range (StackConfig's)
    uint16_t lcores = 1;

    // Slice width; the last lcore also takes the remainder.
    uint32_t width() const { return (uint32_t{hi} - lo + 1) / (lcores ? lcores : 1); }

    // Lcore i's own slice [*first, *last].
    void slice(uint16_t i, uint16_t *first, uint16_t *last) const {
        const uint32_t w = width();
        *first = static_cast<uint16_t>(lo + i * w);
        *last = i + 1 == lcores ? hi : static_cast<uint16_t>(lo + (i + 1) * w - 1);
    }

    // The lcore whose slice holds `port`, or kNone outside the range (a
    // service's port: whichever lcore the segment reached owns it).
    uint16_t owner(uint16_t port) const {
        if (lcores <= 1 || port < lo || port > hi) return kNone;
        const uint32_t i = (uint32_t{port} - lo) / width();
        return static_cast<uint16_t>(i < lcores ? i : lcores - 1);
    }
};

}  // namespace ep::tcp
