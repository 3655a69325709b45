// A data lcore: owns one RX/TX queue on each port, its neighbour tables and
// its counters, and runs the run-to-completion loop until told to stop.
#pragma once

#include <rte_mbuf.h>

#include <atomic>
#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/idle_backoff.h"
#include "dataplane/net/arp_table.h"
#include "dataplane/net/icmp_rate_limit.h"
#include "dataplane/net/tcp/port_steer.h"
#include "dataplane/net/udp/handler.h"
#include "dataplane/port.h"

namespace ep::chunkstore {
class Store;
}

struct rte_ring;

namespace ep {

inline constexpr uint16_t kBurst = 32;
inline constexpr uint16_t kMaxPorts = 4;
// Data lcores the steering stage can hand segments between (--origin).
inline constexpr uint16_t kMaxSteerLcores = 16;

class TcpIo;
class Service;
class FaultStage;
class ProbeService;

inline constexpr uint16_t kMaxServices = 8;

struct LcoreQueue {
    Port *port = nullptr;
    uint16_t queue = 0;
    net::ArpTable arp;
    TcpIo *tcp = nullptr;  // the TCP engine on this queue; nullptr: TCP is dropped
    net::udp::Bindings udp;  // local UDP port -> service on this queue
    Service *services[kMaxServices] = {};  // polled in order every loop iteration
    uint16_t nservices = 0;
    FaultStage *fault = nullptr;  // --fault: drop/dup/reorder/delay/corrupt at the port
    // The active prober (dataplane/probe_service.h), on one queue only: it sees
    // echo replies and segments to its reserved ports before the echo server
    // and the TCP stack do.
    ProbeService *probe = nullptr;
    // Steering of active opens (tcp/port_steer.h), on when more than one data
    // lcore opens connections (--origin): a TCP segment for a local port of
    // another lcore's slice goes to that lcore's queue of the same port over
    // steer_to[owner] (multi-producer, single-consumer), an ARP reply is
    // copied to every other lcore (each has its own neighbour table and may
    // be the one that asked). This queue drains steer_in.
    rte_ring *steer_in = nullptr;
    rte_ring *steer_to[kMaxSteerLcores] = {};
    tcp::PortSteer steer;   // steer.lcores > 1: on
    uint16_t steer_self = 0;  // this lcore's index in the slices
};

struct alignas(64) Lcore {
    unsigned lcore_id = 0;
    uint16_t nqueues = 0;
    LcoreQueue queues[kMaxPorts];
    rte_mempool *pool = nullptr;
    const std::atomic<bool> *stop = nullptr;
    bool announce = false;  // send a gratuitous ARP on each port at start
    IdleBackoffConfig idle;  // --idle-backoff: pause, then sleep when there is no work
    chunkstore::Store *store = nullptr;  // read lock-free; RCU reader `reader_id`
    uint32_t reader_id = 0;
    uint64_t ns_per_tsc_q32 = 0;  // nanoseconds per TSC cycle, 32.32 fixed point
    uint64_t tsc_start = 0;
    int64_t unix_start_ns = 0;  // wall clock at tsc_start, for HTTP Date
    net::IcmpRateLimit icmp_errors;  // ICMP errors this lcore may still send (RFC 1812 4.3.2.8)

    // Drain (edgectl drain, SIGTERM): the control thread fills drain_ports
    // (the services' TCP ports), then sets drain; the lcore stops listening
    // on them once, on its own stacks, and sets drained. Connections already
    // open carry on; a new SYN is answered with RST (no listener).
    uint16_t drain_ports[kMaxServices] = {};
    uint16_t ndrain_ports = 0;
    std::atomic<bool> drain{false};
    std::atomic<bool> drained{false};
    // At the drain's deadline: reset every connection still open (clients
    // learn at once instead of timing out), then reset_done.
    std::atomic<bool> reset{false};
    std::atomic<bool> reset_done{false};

    uint64_t tsc_to_ns(uint64_t tsc) const {
        return static_cast<uint64_t>((static_cast<unsigned __int128>(tsc - tsc_start) * ns_per_tsc_q32) >> 32);
    }
    LcoreCounters counters;
};

// Transmits pkts[0..n) on q (through the fault stage when configured); what
// the TX ring refuses is freed and counted. `cap` is pkts' capacity.
void queue_transmit(Lcore &lc, LcoreQueue &q, rte_mbuf **pkts, uint16_t n, uint16_t cap);
// tx_burst until the ring refuses; returns how many went. The caller keeps the rest.
uint16_t port_send(Lcore &lc, LcoreQueue &q, rte_mbuf **pkts, uint16_t n);

// rte_eal_remote_launch entry point; arg is an Lcore*. Runs
// lcore_iteration() until stop.
int lcore_main(void *arg);

// What one loop iteration carries over to the next.
struct LoopState {
    // Room beyond one burst for what the fault stage duplicates or releases.
    static constexpr uint16_t kRxCap = 4 * kBurst;
    uint64_t last = 0;  // TSC at the end of the previous iteration
    bool draining = false;
    rte_mbuf *rx[kRxCap];
    rte_mbuf *tx[kRxCap];
};
// One iteration of the data lcore's loop: every queue's RX burst through
// process_burst() and out, the TCP timers, the services' poll(), the store's
// quiescent state, busy/idle cycles. True when there was work. Exposed so a
// benchmark runs the loop exactly as lcore_main does (bench/dns_path_bench.cc).
bool lcore_iteration(Lcore &lc, LoopState &s);

// Handles one received burst on one queue: every mbuf is either transmitted
// (rewritten in place), or freed with its drop reason counted. Exposed so
// benchmarks and tests can drive the packet path without a port.
// Returns the number of mbufs placed in tx[] (caller transmits them).
// `steered`: pkts came from another lcore's steering stage (q.steer_in).
uint16_t process_burst(Lcore &lc, LcoreQueue &q, rte_mbuf **pkts, uint16_t n, rte_mbuf **tx,
                       uint64_t now, bool steered = false);

}  // namespace ep
