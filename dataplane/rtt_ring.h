// The passive measurement feed's data-plane half (issue 16): each data
// lcore's TCP stack hands every connection's RTT and retransmissions
// (tcp::Stack::set_conn_sampler) to push(), which enqueues one fixed-size
// RttRecord into this lcore's single-producer/single-consumer rte_ring; the
// control thread drains every ring each tick (ClusterControl) into
// Measurements for this appliance's cluster. The pattern of
// dataplane/response_log.h.
//
// Fast path: no allocation (caller memory), one rte_ring call per record; a
// full ring drops the record and counts it (rtt_ring_full), a core never
// waits for the control thread. Only connections with an RTT sample are
// recorded (the stack checks). Long-lived connections send a record every
// kSampleEveryNs while they live, then a final one.
#pragma once

#include <rte_ring.h>

#include <cstddef>
#include <cstdint>

#include "dataplane/net/tcp/stack.h"
#include "dataplane/rtt_record.h"

namespace ep {

class RttRing {
  public:
    static constexpr uint64_t kSampleEveryNs = 5'000'000'000ull;
    // `mem` must hold memsize(count) bytes (count: a power of two).
    // sent/full: the lcore's counters.
    static size_t memsize(uint32_t count);
    bool init(void *mem, uint32_t count, uint8_t lcore, uint64_t *sent, uint64_t *full);
    // Lcore: makes this ring the stack's sampler.
    void attach(tcp::Stack &st) { st.set_conn_sampler(&RttRing::on_sample, this, kSampleEveryNs); }
    void push(const tcp::ConnSample &s);
    // Control thread: up to max records into out.
    unsigned drain(RttRecord *out, unsigned max) {
        return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(RttRecord), max, nullptr);
    }

  private:
    static void on_sample(void *ctx, const tcp::ConnSample &s) {
        static_cast<RttRing *>(ctx)->push(s);
    }
    rte_ring *ring_ = nullptr;
    uint64_t *sent_ = nullptr, *full_ = nullptr;
    uint8_t lcore_ = 0;
};

}  // namespace ep
