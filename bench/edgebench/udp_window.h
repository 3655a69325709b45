// The send loop of the DPDK UDP loads (udp_load.h): keep a window of
// datagrams in flight over a DPDK client port (what is in flight is sent
// minus settled; a lost datagram shrinks the window for good and the
// report says so), for a duration or a count, then wait up to 200 ms for
// the answers still in flight.
#pragma once

#include <rte_mbuf.h>

#include <csignal>
#include <cstdint>

#include "bench/loadgen/dpdk_client.h"

namespace ep::bench {

struct WindowRun {
    uint64_t start_ns = 0, stop_ns = 0;  // the measured window (drain excluded)
    uint64_t sent = 0, alloc_failed = 0, tx_refused = 0;
    double seconds() const { return static_cast<double>(stop_ns - start_ns) / 1e9; }
};

// build(seq) -> rte_mbuf* (nullptr: pool empty); settled() -> answers seen
// (good or bad). dc.rx() feeds whatever sink counts them.
template <class Build, class Settled>
WindowRun run_window(loadgen::DpdkClient &dc, const volatile std::sig_atomic_t &stop,
                     double duration_s, uint64_t max, uint32_t window, Build build,
                     Settled settled) {
    WindowRun w;
    w.start_ns = dc.now_ns();
    const uint64_t end = w.start_ns + static_cast<uint64_t>(duration_s * 1e9);
    while (!stop && dc.now_ns() < end && (max == 0 || w.sent < max)) {
        rte_mbuf *burst[32];
        uint16_t n = 0;
        // a burst ends at the count too: -n N sends N, not up to 31 more
        while (n < 32 && w.sent + n - settled() < window && (max == 0 || w.sent + n < max)) {
            rte_mbuf *m = build(w.sent + n);
            if (!m) {
                ++w.alloc_failed;
                break;
            }
            burst[n++] = m;
        }
        const uint16_t ok = n ? dc.tx_raw(burst, n) : 0;
        for (uint16_t i = ok; i < n; ++i) rte_pktmbuf_free(burst[i]);
        w.tx_refused += n - ok;
        w.sent += ok;
        dc.rx();
    }
    w.stop_ns = dc.now_ns();
    const uint64_t drain_end = w.stop_ns + 200'000'000;  // answers in flight
    while (settled() < w.sent && dc.now_ns() < drain_end) dc.rx();
    return w;
}

}  // namespace ep::bench
