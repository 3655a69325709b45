#include "dataplane/probe/prober.h"

#include <cstring>

#include "dataplane/net/byte_order.h"
#include "dataplane/net/csum32.h"

namespace ep::probe {

namespace {

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6;
constexpr uint8_t kEchoReply = 0, kEchoRequest = 8;  // RFC 792
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
constexpr uint8_t kTtl = 64;
constexpr uint16_t kMss = 1460;

// The one's complement of the folded sum, stored as summed (RFC 1071).
void put_csum(uint8_t *at, uint64_t sum) {
    const uint16_t c = static_cast<uint16_t>(~net::fold_sum(sum));
    std::memcpy(at, &c, 2);
}
bool csum_ok(uint64_t sum) {
    return net::fold_sum(sum) == 0xffff;
}

// A 20-byte IPv4 header, no options, DF set (probes are small).
void ipv4_header(uint8_t *ip, uint16_t total, uint16_t id, uint8_t proto, uint32_t src_be,
                 uint32_t dst_be) {
    ip[0] = 0x45;
    ip[1] = 0;
    net::put16(ip + 2, total);
    net::put16(ip + 4, id);
    net::put16(ip + 6, 0x4000);
    ip[8] = kTtl;
    ip[9] = proto;
    ip[10] = ip[11] = 0;
    std::memcpy(ip + 12, &src_be, 4);
    std::memcpy(ip + 16, &dst_be, 4);
    put_csum(ip + 10, net::sum_bytes(ip, 20));
}

}  // namespace

void Prober::configure(const Config &c) {
    cfg_ = c;
    if (cfg_.burst == 0) cfg_.burst = 1;
    cost_ns_ = cfg_.rate_per_s > 0 ? static_cast<uint64_t>(1e9 / cfg_.rate_per_s) : 0;
    if (cost_ns_ == 0 && cfg_.rate_per_s > 0) cost_ns_ = 1;
    rng_ = cfg_.seed ? cfg_.seed : 1;
    started_ = false;
}

bool Prober::post(const Request &r) {
    if (qtail_ - qhead_ == kQueue) {
        ++st_.queue_full;
        return false;
    }
    queue_[qtail_++ % kQueue] = r;
    return true;
}

void Prober::refill(uint64_t now_ns) {
    const uint64_t cap = cost_ns_ * cfg_.burst;
    if (!started_) {  // a full bucket at the start
        started_ = true;
        credit_ns_ = cap;
        refilled_ns_ = now_ns;
        return;
    }
    if (now_ns > refilled_ns_) {
        credit_ns_ += now_ns - refilled_ns_;
        if (credit_ns_ > cap) credit_ns_ = cap;
    }
    refilled_ns_ = now_ns;
}

bool Prober::due(uint64_t now_ns, uint32_t *target) {
    if (qhead_ == qtail_ || in_flight_ == kSlots || cost_ns_ == 0) return false;
    refill(now_ns);
    if (credit_ns_ < cost_ns_) return false;
    *target = queue_[qhead_ % kQueue].target;
    return true;
}

void Prober::blocked(uint64_t now_ns) {
    if (qhead_ == qtail_) return;
    if (blocked_since_ == 0) {
        blocked_since_ = now_ns ? now_ns : 1;
        return;
    }
    if (now_ns - blocked_since_ < cfg_.timeout_ns) return;
    // Given up: the next hop never answered ARP. Costs a token, as a sent
    // probe would: a dead neighbour must not turn the rate bound into ARP.
    blocked_since_ = 0;
    const Request &r = queue_[qhead_++ % kQueue];
    credit_ns_ -= credit_ns_ < cost_ns_ ? credit_ns_ : cost_ns_;
    ++st_.no_route;
    push_result({r.target, r.cookie, 0, r.port, r.method, Outcome::kNoRoute});
}

uint32_t Prober::next_isn() {
    // xorshift64*: unpredictable enough for a probe (no connection follows).
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return static_cast<uint32_t>((rng_ * 0x2545F4914F6CDD1Dull) >> 32);
}

uint16_t Prober::send(uint64_t now_ns, uint8_t *buf, uint16_t room) {
    uint32_t target;
    if (room < kMaxLen || !due(now_ns, &target)) return 0;
    uint32_t idx = next_slot_;
    while (slots_[idx].busy) idx = (idx + 1) & (kSlots - 1);
    next_slot_ = (idx + 1) & (kSlots - 1);
    Slot &s = slots_[idx];
    s.busy = true;
    s.req = queue_[qhead_++ % kQueue];
    s.sent_ns = now_ns;
    blocked_since_ = 0;
    credit_ns_ -= cost_ns_;
    ++in_flight_;
    const uint16_t id = ++ip_id_;
    if (s.req.method == Method::kIcmp) {
        s.seq = static_cast<uint16_t>(((s.seq >> 8) + 1) << 8 | idx);
        ipv4_header(buf, kIcmpLen, id, kProtoIcmp, cfg_.local_ip, s.req.target);
        uint8_t *icmp = buf + 20;
        icmp[0] = kEchoRequest;
        icmp[1] = 0;
        icmp[2] = icmp[3] = 0;
        net::put16(icmp + 4, cfg_.icmp_ident);
        net::put16(icmp + 6, s.seq);
        // Data: the send time, as ping does (RFC 792 lets the data be anything).
        net::put64(icmp + 8, now_ns);
        put_csum(icmp + 2, net::sum_bytes(icmp, kIcmpLen - 20));
        ++st_.sent_icmp;
        return kIcmpLen;
    }
    s.isn = next_isn();
    ipv4_header(buf, kSynLen, id, kProtoTcp, cfg_.local_ip, s.req.target);
    uint8_t *t = buf + 20;
    net::put16(t, static_cast<uint16_t>(cfg_.port_lo + idx));
    net::put16(t + 2, s.req.port);
    net::put32(t + 4, s.isn);
    net::put32(t + 8, 0);
    t[12] = (24 / 4) << 4;
    t[13] = kSyn;
    net::put16(t + 14, 65535);
    t[16] = t[17] = 0;
    net::put16(t + 18, 0);
    t[20] = 2;  // MSS (RFC 9293 3.2)
    t[21] = 4;
    net::put16(t + 22, kMss);
    put_csum(t + 16, net::pseudo_sum_v4(cfg_.local_ip, s.req.target, kProtoTcp, 24) +
                         net::sum_bytes(t, 24));
    ++st_.sent_tcp;
    return kSynLen;
}

void Prober::build_rst(uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t *out) {
    ipv4_header(out, kRstLen, ++ip_id_, kProtoTcp, cfg_.local_ip, dst);
    uint8_t *t = out + 20;
    net::put16(t, sport);
    net::put16(t + 2, dport);
    net::put32(t + 4, seq);
    net::put32(t + 8, 0);
    t[12] = (20 / 4) << 4;
    t[13] = kRst;
    net::put16(t + 14, 0);
    t[16] = t[17] = 0;
    net::put16(t + 18, 0);
    put_csum(t + 16, net::pseudo_sum_v4(cfg_.local_ip, dst, kProtoTcp, 20) + net::sum_bytes(t, 20));
    ++st_.rst_sent;
}

void Prober::push_result(const Result &r) {
    if (rtail_ - rhead_ == kResults) {
        ++st_.results_lost;
        return;
    }
    results_[rtail_++ % kResults] = r;
}

bool Prober::take(Result *out) {
    if (rhead_ == rtail_) return false;
    *out = results_[rhead_++ % kResults];
    return true;
}

void Prober::finish(Slot &s, Outcome o, uint64_t now_ns) {
    const uint64_t rtt = now_ns > s.sent_ns ? now_ns - s.sent_ns : 0;
    push_result({s.req.target, s.req.cookie, static_cast<uint32_t>(rtt / 1000), s.req.port,
                 s.req.method, o});
    s.busy = false;
    --in_flight_;
}

void Prober::expire(uint64_t now_ns) {
    if (in_flight_ == 0) return;
    for (Slot &s : slots_)
        if (s.busy && now_ns - s.sent_ns >= cfg_.timeout_ns) {
            ++st_.unanswered;
            finish(s, Outcome::kUnanswered, now_ns);
        }
}

Match Prober::input(const uint8_t *ip, uint32_t len, uint64_t now_ns, uint8_t *rst,
                    uint16_t *rst_len) {
    *rst_len = 0;
    if (len < 20 || (ip[0] >> 4) != 4) return Match::kNotOurs;
    const uint32_t ihl = uint32_t{ip[0] & 0x0fu} * 4;
    const uint32_t total = net::get16(ip + 2);
    if (ihl < 20 || total < ihl || total > len) return Match::kNotOurs;
    uint32_t dst;
    std::memcpy(&dst, ip + 16, 4);
    if (dst != cfg_.local_ip) return Match::kNotOurs;
    if (ip[9] == kProtoIcmp) return input_icmp(ip, ihl, total, now_ns);
    if (ip[9] == kProtoTcp) return input_tcp(ip, ihl, total, now_ns, rst, rst_len);
    return Match::kNotOurs;
}

Match Prober::input_icmp(const uint8_t *ip, uint32_t ihl, uint32_t len, uint64_t now_ns) {
    if (len < ihl + 8) return Match::kNotOurs;
    const uint8_t *icmp = ip + ihl;
    if (icmp[0] != kEchoReply || icmp[1] != 0 || net::get16(icmp + 4) != cfg_.icmp_ident)
        return Match::kNotOurs;
    if (!csum_ok(net::sum_bytes(icmp, len - ihl))) return Match::kBadChecksum;
    const uint16_t seq = net::get16(icmp + 6);
    Slot &s = slots_[seq & (kSlots - 1)];
    uint32_t src;
    std::memcpy(&src, ip + 12, 4);
    // RFC 1122 3.2.2.6: the reply carries our identifier and sequence back.
    if (!s.busy || s.req.method != Method::kIcmp || s.seq != seq || s.req.target != src)
        return Match::kStray;
    ++st_.answered_icmp;
    finish(s, Outcome::kAnswered, now_ns);
    return Match::kAnswer;
}

Match Prober::input_tcp(const uint8_t *ip, uint32_t ihl, uint32_t len, uint64_t now_ns,
                        uint8_t *rst, uint16_t *rst_len) {
    if (len < ihl + 20) return Match::kNotOurs;
    const uint8_t *t = ip + ihl;
    const uint16_t sport = net::get16(t), dport = net::get16(t + 2);
    if (dport < cfg_.port_lo || uint32_t{dport} - cfg_.port_lo >= kSlots) return Match::kNotOurs;
    uint32_t src;
    std::memcpy(&src, ip + 12, 4);
    const uint32_t tcp_len = len - ihl;
    if (!csum_ok(net::pseudo_sum_v4(src, cfg_.local_ip, kProtoTcp, static_cast<uint16_t>(tcp_len)) +
                 net::sum_bytes(t, tcp_len)))
        return Match::kBadChecksum;
    const uint8_t flags = t[13];
    const uint32_t seg_ack = net::get32(t + 8);
    const bool synack = (flags & (kSyn | kAck | kRst | kFin)) == (kSyn | kAck);
    Slot &s = slots_[dport - cfg_.port_lo];
    const bool match = s.busy && s.req.method == Method::kTcp && s.req.target == src &&
                       s.req.port == sport && (flags & kAck) && seg_ack == s.isn + 1;
    if (synack) {
        // Whoever it answers, leave nothing half open (RFC 9293 3.10.7.1:
        // the RST takes its sequence number from the segment's ACK).
        build_rst(src, dport, sport, seg_ack, rst);
        *rst_len = kRstLen;
    }
    if (!match || !(synack || (flags & kRst))) return Match::kStray;
    if (synack) {
        ++st_.answered_synack;
        finish(s, Outcome::kAnswered, now_ns);
    } else {
        ++st_.answered_rst;
        finish(s, Outcome::kReset, now_ns);
    }
    return Match::kAnswer;
}

}  // namespace ep::probe
