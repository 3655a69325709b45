#include "dataplane/lcore.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "chunkstore/store.h"
#include "dataplane/fault_stage.h"
#include "dataplane/net/arp.h"
#include "dataplane/service.h"
#include "dataplane/tcp_io.h"

namespace ep {

uint16_t port_send(Lcore &lc, LcoreQueue &q, rte_mbuf **tx, uint16_t n) {
    uint16_t sent = 0;
    while (sent < n) {
        const uint16_t k =
            rte_eth_tx_burst(q.port->id, q.queue, tx + sent, static_cast<uint16_t>(n - sent));
        if (k == 0) break;
        sent = static_cast<uint16_t>(sent + k);
    }
    for (uint16_t i = 0; i < sent; ++i) lc.counters.tx_bytes += tx[i]->pkt_len;
    lc.counters.tx_packets += sent;
    return sent;
}

// Sends what it can; whatever the queue refuses is freed and counted, never retried:
// these are replies (ARP, ICMP) whose senders retry by themselves.
void queue_transmit(Lcore &lc, LcoreQueue &q, rte_mbuf **tx, uint16_t n, uint16_t cap) {
    if (q.fault && (q.fault->tx_enabled() || q.fault->holding(true)))
        n = q.fault->apply(true, lc, tx, n, cap, lc.tsc_to_ns(rte_rdtsc()));
    const uint16_t sent = port_send(lc, q, tx, n);
    for (uint16_t i = sent; i < n; ++i) {
        lc.counters.drop(Drop::tx_queue_full);
        rte_pktmbuf_free(tx[i]);
    }
}

namespace {

void transmit(Lcore &lc, LcoreQueue &q, rte_mbuf **tx, uint16_t n) {
    if (n > 0) queue_transmit(lc, q, tx, n, kBurst);
}

// RFC 5227 §3 announcement: tells neighbours (and switches) where we are.
void announce(Lcore &lc, LcoreQueue &q) {
    rte_mbuf *m = rte_pktmbuf_alloc(lc.pool);
    if (!m) {
        lc.counters.drop(Drop::arp_mbuf_exhausted);
        return;
    }
    uint8_t *buf = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, net::kArpFrameLen));
    net::build_arp_request(buf, q.port->addr, q.port->addr.ip);
    ++lc.counters.arp_requests_sent;
    transmit(lc, q, &m, 1);
}

// Once, when the control thread asks: no new connections on this lcore.
void stop_listening(Lcore &lc) {
    for (uint16_t i = 0; i < lc.nqueues; ++i)
        if (lc.queues[i].tcp)
            for (uint16_t k = 0; k < lc.ndrain_ports; ++k)
                lc.queues[i].tcp->stack().unlisten(lc.drain_ports[k]);
    lc.drained.store(true, std::memory_order_release);
}

// Once, at the drain's deadline: RST what is left, on the wire before done.
void reset_connections(Lcore &lc) {
    for (uint16_t i = 0; i < lc.nqueues; ++i)
        if (TcpIo *io = lc.queues[i].tcp) {
            lc.counters.drain_resets += io->stack().reset_all();
            io->flush();
        }
    lc.reset_done.store(true, std::memory_order_release);
}

}  // namespace

bool lcore_iteration(Lcore &lc, LoopState &s) {
    if (!s.draining && lc.drain.load(std::memory_order_acquire)) [[unlikely]] {
        stop_listening(lc);
        s.draining = true;
    }
    if (s.draining && !lc.reset_done.load(std::memory_order_relaxed) &&
        lc.reset.load(std::memory_order_acquire)) [[unlikely]]
        reset_connections(lc);
    rte_mbuf **rx = s.rx, **tx = s.tx;
    bool worked = false;
    Clock clk;  // read once per iteration, when the first queue's services need it
    bool have_clk = false;
    for (uint16_t i = 0; i < lc.nqueues; ++i) {
        LcoreQueue &q = lc.queues[i];
        uint16_t n = rte_eth_rx_burst(q.port->id, q.queue, rx, kBurst);
        if (q.fault) {
            q.fault->refresh();  // a reloaded --fault spec
            if (q.fault->rx_enabled() || q.fault->holding(false)) {
                const uint64_t now_ns = lc.tsc_to_ns(rte_rdtsc());
                n = q.fault->apply(false, lc, rx, n, LoopState::kRxCap, now_ns);
            }
            if (q.fault->holding(true))
                queue_transmit(lc, q, tx, 0, LoopState::kRxCap);  // due delayed TX
        }
        if (n > 0) {
            worked = true;
            ++lc.counters.rx_bursts;
            const uint16_t ntx = process_burst(lc, q, rx, n, tx, s.last);
            if (ntx > 0) queue_transmit(lc, q, tx, ntx, LoopState::kRxCap);
        }
        // Segments of our origin connections that reached another lcore's
        // queue (tcp/port_steer.h), before the timers and services run.
        if (q.steer_in) {
            const uint16_t ns = static_cast<uint16_t>(rte_ring_sc_dequeue_burst(
                q.steer_in, reinterpret_cast<void **>(rx), kBurst, nullptr));
            if (ns > 0) {
                worked = true;
                const uint16_t ntx = process_burst(lc, q, rx, ns, tx, s.last, true);
                if (ntx > 0) queue_transmit(lc, q, tx, ntx, LoopState::kRxCap);
            }
        }
        if (!q.tcp && q.nservices == 0) continue;
        if (!have_clk) {
            clk.now_ns = lc.tsc_to_ns(rte_rdtsc());
            clk.unix_s = (lc.unix_start_ns + static_cast<int64_t>(clk.now_ns)) / 1'000'000'000;
            have_clk = true;
        }
        // Timers (retransmission, delayed ACK, TIME-WAIT), the services'
        // waiting work, then the segments all of that produced.
        if (q.tcp) q.tcp->stack().poll(clk.now_ns);
        for (uint16_t k = 0; k < q.nservices; ++k) q.services[k]->poll(clk);
        // Sending from timers or waiting connections is work too:
        // busy_cycles must cover everything the server did.
        if (q.tcp && q.tcp->flush() > 0) worked = true;
    }
    // Nothing from the store is held across iterations: tell RCU so the
    // control thread may reclaim what it unlinked.
    if (lc.store) lc.store->quiescent(lc.reader_id);
    const uint64_t now = rte_rdtsc();
    (worked ? lc.counters.busy_cycles : lc.counters.idle_cycles) += now - s.last;
    s.last = now;
    return worked;
}

int lcore_main(void *arg) {
    Lcore &lc = *static_cast<Lcore *>(arg);
    if (lc.announce)
        for (uint16_t i = 0; i < lc.nqueues; ++i) announce(lc, lc.queues[i]);
    LoopState s;
    s.last = rte_rdtsc();
    IdleBackoff backoff(lc.idle);  // dataplane/idle_backoff.h
    while (!lc.stop->load(std::memory_order_relaxed)) {
        const bool worked = lcore_iteration(lc, s);
        uint32_t us = 0;
        switch (backoff.after_turn(worked, &us)) {
            case IdleBackoff::Action::kNone:
                break;
            case IdleBackoff::Action::kPause:
                rte_pause();
                ++lc.counters.idle_pauses;
                break;
            case IdleBackoff::Action::kSleep: {
                // A syscall on a data lcore, allowed only here: the last
                // sleep_after turns found nothing to receive, send or time
                // out (idle_backoff.h says what it costs).
                rte_delay_us_sleep(us);
                const uint64_t now = rte_rdtsc();
                ++lc.counters.idle_sleeps;
                lc.counters.idle_sleep_cycles += now - s.last;
                lc.counters.idle_cycles += now - s.last;  // slept: idle, not the next turn's
                s.last = now;
                break;
            }
        }
    }
    return 0;
}

}  // namespace ep
