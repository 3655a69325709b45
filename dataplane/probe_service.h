// The active prober on a data lcore (docs/cluster_selection.md "Active
// probes"): the control thread posts probes (dataplane/probe/messages.h)
// through one SPSC rte_ring and reads their results from another; the
// lcore's ProbeService sends them at the bounded rate (dataplane/probe/
// prober.h), resolving next hops in its own ARP table, and the packet path
// hands it what may answer a probe (echo replies, TCP segments to the
// reserved probe ports) before the echo server and the TCP stack see it.
// One instance, on the first data lcore's queue of the first port.
#pragma once

#include <rte_ring.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/probe/prober.h"
#include "dataplane/service.h"

namespace ep {

struct Lcore;
struct LcoreQueue;

// What the control thread's side needs besides the rings (set from the
// command line by the service table's row).
struct ProbeSettings {
    std::string mode = "auto";  // auto: on with the measured policy; on; off
    double interval_s = 60;     // a target is probed again after this
    double retry_s = 600;       // a target that answered nothing: tried again after this
    std::vector<uint16_t> ldns_ports{53};
    std::vector<uint16_t> client_ports{80, 443};
    uint32_t max_in_flight = 64;  // requests posted and not yet answered
};

// The two rings between the control thread (single producer of requests,
// single consumer of results) and the probing lcore.
class ProbeChannel {
  public:
    static constexpr unsigned kRingSize = 1024;
    bool init(std::string *err);
    void teardown();
    // Control thread.
    bool post(probe::Request r) { return rte_ring_sp_enqueue_elem(requests_, &r, sizeof r) == 0; }
    unsigned drain(probe::Result *out, unsigned max) {
        return rte_ring_sc_dequeue_burst_elem(results_, out, sizeof(probe::Result), max, nullptr);
    }
    rte_ring *requests() const { return requests_; }
    rte_ring *results() const { return results_; }
    ProbeSettings settings;

  private:
    rte_ring *requests_ = nullptr, *results_ = nullptr;
};

// Made by the service table's "probe" row; nullptr when probes are off.
ProbeChannel *probe_channel();
void set_probe_channel(ProbeChannel *c);

// X(name, help): the lcore glue's own counters (the prober's are below).
#define EP_PROBE_GLUE_COUNTERS(X)                                                           \
    X(requests, "probe requests taken from the control thread's ring")                      \
    X(results, "probe results handed to the control thread")                                \
    X(result_ring_full, "probe results lost: the ring to the control thread was full")      \
    X(no_mbuf, "probes not sent this turn: no mbuf (sent at a later turn)")                 \
    X(arp_requests, "ARP requests sent to resolve a probe's next hop")                      \
    X(rst_sent, "RSTs sent for SYN-ACKs to probe ports (no half-open state at the target)") \
    X(stray, "answers to probe ports or the probe ICMP identifier with no probe in flight")

struct ProbeGlueCounters {
#define EP_X(name, help) uint64_t name = 0;
    EP_PROBE_GLUE_COUNTERS(EP_X)
#undef EP_X
};

class ProbeService final : public Service {
  public:
    bool init(Lcore *lc, LcoreQueue *q, ProbeChannel *ch, const probe::Config &c);
    std::string_view name() const override { return "probe"; }
    void poll(const Clock &clk) override;
    void visit_counters(const CounterVisitor &fn) const override;

    // From the packet path: an IPv4 datagram (validated header, `len`
    // bytes from it) that may answer a probe.
    enum class Verdict : uint8_t {
        kNotOurs,   // carry on as without a prober
        kConsumed,  // an answer, taken (counted)
        kReply,     // rewritten in place into a RST to send back (Ethernet not yet swapped)
        kDropped,   // *drop says why
    };
    Verdict input(uint8_t *ip, uint32_t len, uint64_t now_ns, Drop *drop);

  private:
    void send_arp(uint32_t hop, uint64_t now_ns);
    Lcore *lc_ = nullptr;
    LcoreQueue *q_ = nullptr;
    ProbeChannel *ch_ = nullptr;
    probe::Prober prober_;
    uint64_t last_arp_ns_ = 0;
    ProbeGlueCounters c_;
};

}  // namespace ep
