#include "dataplane/probe_service.h"

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/lcore.h"
#include "dataplane/net/arp.h"

namespace ep {

namespace {
ProbeChannel *g_channel = nullptr;
// A next hop that does not answer is asked again this often (TcpIo's pace).
constexpr uint64_t kArpRetryNs = 200'000'000;
}  // namespace

ProbeChannel *probe_channel() {
    return g_channel;
}
void set_probe_channel(ProbeChannel *c) {
    g_channel = c;
}

bool ProbeChannel::init(std::string *err) {
    // SP/SC: the control thread produces requests and consumes results;
    // the one probing lcore does the opposite.
    requests_ = rte_ring_create_elem("probe_req", sizeof(probe::Request), kRingSize, SOCKET_ID_ANY,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
    results_ = rte_ring_create_elem("probe_res", sizeof(probe::Result), kRingSize, SOCKET_ID_ANY,
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!requests_ || !results_) {
        *err = std::string("probe rings: ") + rte_strerror(rte_errno);
        teardown();
        return false;
    }
    return true;
}

void ProbeChannel::teardown() {
    rte_ring_free(requests_);
    rte_ring_free(results_);
    requests_ = results_ = nullptr;
}

bool ProbeService::init(Lcore *lc, LcoreQueue *q, ProbeChannel *ch, const probe::Config &c) {
    lc_ = lc;
    q_ = q;
    ch_ = ch;
    probe::Config cfg = c;
    cfg.local_ip = q->port->addr.ip;
    prober_.configure(cfg);
    return true;
}

void ProbeService::send_arp(uint32_t hop, uint64_t now_ns) {
    if (hop == 0 || (last_arp_ns_ && now_ns - last_arp_ns_ < kArpRetryNs)) return;
    last_arp_ns_ = now_ns;
    rte_mbuf *m = rte_pktmbuf_alloc(lc_->pool);
    if (!m) {
        lc_->counters.drop(Drop::arp_mbuf_exhausted);  // asked again after kArpRetryNs
        return;
    }
    auto *buf = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, net::kArpFrameLen));
    net::build_arp_request(buf, q_->port->addr, hop);
    ++c_.arp_requests;
    ++lc_->counters.arp_requests_sent;
    queue_transmit(*lc_, *q_, &m, 1, 1);
}

void ProbeService::poll(const Clock &clk) {
    const uint64_t now = clk.now_ns;
    // New requests, as many as the prober has room for.
    probe::Request reqs[kBurst];
    const uint32_t room = probe::Prober::kQueue - prober_.waiting();
    const unsigned n = rte_ring_sc_dequeue_burst_elem(ch_->requests(), reqs, sizeof reqs[0],
                                                      room < kBurst ? room : kBurst, nullptr);
    for (unsigned i = 0; i < n; ++i) prober_.post(reqs[i]);
    c_.requests += n;
    prober_.expire(now);

    rte_mbuf *tx[kBurst];
    uint16_t ntx = 0;
    uint32_t dst;
    while (ntx < kBurst && prober_.due(now, &dst)) {
        const uint32_t hop = q_->port->addr.next_hop(dst);
        const net::ArpTable::Resolved r = q_->arp.resolve(hop, now);
        if (!r.usable()) {
            send_arp(hop, now);
            prober_.blocked(now);
            break;
        }
        rte_mbuf *m = rte_pktmbuf_alloc(lc_->pool);
        if (!m) {
            ++c_.no_mbuf;
            break;
        }
        constexpr uint16_t kEth = sizeof(rte_ether_hdr);
        auto *frame =
            reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, kEth + probe::Prober::kMaxLen));
        const uint16_t len = prober_.send(now, frame + kEth, probe::Prober::kMaxLen);
        rte_pktmbuf_trim(m, static_cast<uint16_t>(probe::Prober::kMaxLen - len));
        auto *eh = reinterpret_cast<rte_ether_hdr *>(frame);
        rte_ether_addr_copy(&r.mac, &eh->dst_addr);
        rte_ether_addr_copy(&q_->port->addr.mac, &eh->src_addr);
        eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
        tx[ntx++] = m;
    }
    // Through the fault stage like every other frame: --fault delays probes too.
    if (ntx > 0) queue_transmit(*lc_, *q_, tx, ntx, kBurst);

    probe::Result res;
    while (prober_.take(&res)) {
        if (rte_ring_sp_enqueue_elem(ch_->results(), &res, sizeof res) == 0)
            ++c_.results;
        else
            ++c_.result_ring_full;
    }
}

ProbeService::Verdict ProbeService::input(uint8_t *ip, uint32_t len, uint64_t now_ns, Drop *drop) {
    uint8_t rst[probe::Prober::kRstLen];
    uint16_t rst_len = 0;
    const probe::Match m = prober_.input(ip, len, now_ns, rst, &rst_len);
    if (rst_len > 0) {
        // The SYN-ACK is at least as long as the RST: written over it.
        std::memcpy(ip, rst, rst_len);
        ++c_.rst_sent;
        if (m == probe::Match::kStray) ++c_.stray;
        return Verdict::kReply;
    }
    switch (m) {
        case probe::Match::kNotOurs:
            return Verdict::kNotOurs;
        case probe::Match::kAnswer:
            return Verdict::kConsumed;
        case probe::Match::kStray:
            ++c_.stray;
            *drop = Drop::probe_stray;
            return Verdict::kDropped;
        case probe::Match::kBadChecksum:
            *drop = ip[9] == 1 ? Drop::icmp_bad_checksum : Drop::tcp_bad_checksum;
            return Verdict::kDropped;
    }
    return Verdict::kNotOurs;
}

void ProbeService::visit_counters(const CounterVisitor &fn) const {
    auto ld = [](const uint64_t &v) { return __atomic_load_n(&v, __ATOMIC_RELAXED); };
#define EP_X(name, help) fn({#name, help, ld(c_.name)});
    EP_PROBE_GLUE_COUNTERS(EP_X)
#undef EP_X
    const probe::ProberStats &s = prober_.stats();
    fn({"sent_icmp", "ICMP echo requests sent as probes", ld(s.sent_icmp)});
    fn({"sent_tcp", "TCP SYNs sent as probes", ld(s.sent_tcp)});
    fn({"answered_icmp", "probes answered by an ICMP echo reply", ld(s.answered_icmp)});
    fn({"answered_synack", "TCP probes answered by a SYN-ACK", ld(s.answered_synack)});
    fn({"answered_rst", "TCP probes answered by a RST (host up, port closed)", ld(s.answered_rst)});
    fn({"unanswered", "probes with no answer within the timeout", ld(s.unanswered)});
    fn({"no_route", "probes not sent: the next hop never answered ARP", ld(s.no_route)});
    fn({"queue_full", "probe requests refused: the prober's queue was full", ld(s.queue_full)});
    fn({"results_lost", "probe results refused: the prober's result queue was full",
        ld(s.results_lost)});
    fn({"in_flight", "probes sent and not yet answered or timed out", ld(prober_.in_flight()),
        true});
}

}  // namespace ep
