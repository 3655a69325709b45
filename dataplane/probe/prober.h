// The active prober's logic (issue 16, policy "measured": probes where there
// is no traffic). Pure: requests and time in, IPv4 datagrams to send and
// results out; received datagrams in, "ours or not" out. The data lcore's
// glue (dataplane/probe_service.h) only adds Ethernet, ARP and the rings.
//
// - Rate: a token bucket, `rate_per_s` probes a second with at most `burst`
//   at once, whatever the number of targets.
// - ICMP echo (RFC 792): identifier `icmp_ident`, sequence = slot + 256 x
//   generation, so a late reply to a slot that was reused does not match.
// - TCP SYN (RFC 9293 3.5): the source port is the slot's own in a range
//   reserved for probes (above the TCP stack's ephemeral ports), the ISN
//   from a seeded generator. A SYN-ACK or a RST whose ACK is ISN + 1 answers
//   it; a SYN-ACK is answered with a RST carrying SEG.ACK as its sequence
//   (RFC 9293 3.10.7.1, what a closed port does), so the target keeps no
//   half-open connection. A SYN-ACK to a reserved port with no probe in
//   flight (a late one) gets the same RST.
// - A probe with no answer within `timeout_ns` is a kUnanswered result; one
//   whose next hop never resolved within the timeout, kNoRoute.
#pragma once

#include <cstdint>

#include "dataplane/probe/messages.h"

namespace ep::probe {

struct Config {
    uint32_t local_ip = 0;   // network order: the source of every probe
    double rate_per_s = 10;  // probes per second at most; 0: none sent
    uint32_t burst = 1;      // probes sent back to back at most
    uint64_t timeout_ns = 1'000'000'000;
    uint16_t port_lo = 61000;  // [port_lo, port_lo + kSlots): TCP source ports of probes
    uint16_t icmp_ident = 0x4570;
    uint64_t seed = 1;  // ISNs
};

// What a received datagram was to the prober.
enum class Match : uint8_t {
    kNotOurs = 0,  // not a probe's answer: the packet path goes on as before
    kAnswer,       // answered a probe in flight (a Result is ready)
    kStray,        // for a probe (our ICMP identifier, a reserved port) but none in flight
    kBadChecksum,  // for a probe, checksum wrong
};

struct ProberStats {
    uint64_t sent_icmp = 0, sent_tcp = 0;
    uint64_t answered_icmp = 0, answered_synack = 0, answered_rst = 0;
    uint64_t unanswered = 0, no_route = 0;
    uint64_t rst_sent = 0;      // RSTs built for SYN-ACKs
    uint64_t queue_full = 0;    // requests refused: kQueue waiting already
    uint64_t results_lost = 0;  // results refused: kResults waiting already
};

class Prober {
  public:
    static constexpr uint32_t kSlots = 256;           // probes in flight at most (a power of two)
    static constexpr uint32_t kQueue = 256;           // requests waiting to be sent
    static constexpr uint32_t kResults = 512;         // results waiting to be taken
    static constexpr uint16_t kIcmpLen = 20 + 8 + 8;  // IPv4 + echo header + 8 bytes of data
    static constexpr uint16_t kSynLen = 20 + 24;      // IPv4 + TCP with an MSS option
    static constexpr uint16_t kRstLen = 20 + 20;
    static constexpr uint16_t kMaxLen = kSynLen;

    explicit Prober(const Config &c = {}) { configure(c); }
    void configure(const Config &c);
    const Config &config() const { return cfg_; }

    // Queues a probe; false (counted) when kQueue are waiting.
    bool post(const Request &r);
    // The target of the probe due now, if the rate, a free slot and a
    // waiting request allow one; the caller resolves its next hop, then
    // send()s it or calls blocked().
    bool due(uint64_t now_ns, uint32_t *target);
    // Writes the due probe's IPv4 datagram into buf (room >= kMaxLen),
    // takes a token, starts its clock; returns its length (0: nothing due).
    uint16_t send(uint64_t now_ns, uint8_t *buf, uint16_t room);
    // The due probe's next hop is not resolved yet: it stays first; once it
    // has waited timeout_ns it becomes a kNoRoute result.
    void blocked(uint64_t now_ns);
    // A received IPv4 datagram (`ip`, `len` bytes from its header on, the
    // header already validated by the packet path). On kAnswer or kStray
    // with a SYN-ACK, *rst_len > 0 and rst[0..*rst_len) is the IPv4 RST to
    // send (rst: room for kRstLen).
    Match input(const uint8_t *ip, uint32_t len, uint64_t now_ns, uint8_t *rst, uint16_t *rst_len);
    // Probes past their timeout become kUnanswered results.
    void expire(uint64_t now_ns);
    // Results in the order they were decided.
    bool take(Result *out);

    uint32_t in_flight() const { return in_flight_; }
    uint32_t waiting() const { return qtail_ - qhead_; }
    const ProberStats &stats() const { return st_; }

  private:
    struct Slot {
        bool busy = false;
        Request req;
        uint16_t seq = 0;  // ICMP sequence sent
        uint32_t isn = 0;  // TCP ISN sent
        uint64_t sent_ns = 0;
    };
    void finish(Slot &s, Outcome o, uint64_t now_ns);
    void push_result(const Result &r);
    uint32_t next_isn();
    void refill(uint64_t now_ns);
    Match input_icmp(const uint8_t *ip, uint32_t ihl, uint32_t len, uint64_t now_ns);
    Match input_tcp(const uint8_t *ip, uint32_t ihl, uint32_t len, uint64_t now_ns, uint8_t *rst,
                    uint16_t *rst_len);
    void build_rst(uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t *out);

    Config cfg_;
    uint64_t cost_ns_ = 0;      // one token
    uint64_t credit_ns_ = 0;    // tokens held, in ns of rate
    uint64_t refilled_ns_ = 0;  // last refill
    bool started_ = false;
    uint64_t blocked_since_ = 0;  // the head has waited for its next hop since (0: not)
    Slot slots_[kSlots];
    uint32_t in_flight_ = 0;
    uint32_t next_slot_ = 0;
    uint16_t generation_ = 0;
    Request queue_[kQueue];
    uint32_t qhead_ = 0, qtail_ = 0;  // free-running
    Result results_[kResults];
    uint32_t rhead_ = 0, rtail_ = 0;
    uint64_t rng_ = 1;
    uint16_t ip_id_ = 0;
    ProberStats st_;
};

}  // namespace ep::probe
