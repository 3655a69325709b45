// The DPDK side of the TCP engine on one port queue of one data lcore:
// TCP/IPv4 frames in (header checks, checksum, options) → tcp::Stack::input;
// tcp::SegmentOut → mbuf chains out: a header mbuf (Ethernet, IPv4, TCP and
// any small inline payload such as an HTTP head) followed by external-buffer
// mbufs that point into chunk store memory. The payload is never copied and,
// on ports without checksum offload, never read: its checksum comes from the
// chunk's precomputed block sums.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/net/icmp.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/net/tcp/stack.h"

namespace ep {

struct Lcore;
struct LcoreQueue;

// Send-queue owner callbacks for chunk store memory: ref = pin, unref =
// unpin, partial_sum from the chunk's block sums. `ref` is a chunkstore::Chunk*.
extern const tcp::ExtBufOps kChunkBufOps;

class TcpIo final : public tcp::Output {
public:
    static constexpr uint16_t kTxCap = 512;
    ~TcpIo() override;

    // Stack sizes come from cfg; `tx_offload` is what the port accepted.
    bool init(Lcore *lc, LcoreQueue *q, const tcp::StackConfig &cfg, uint64_t tx_offload,
              uint64_t now_ns);
    tcp::Stack &stack() { return stack_; }
    const tcp::Stack &stack() const { return stack_; }

    // A validated IPv4 datagram carrying TCP (ip points at its header). The
    // caller frees the mbuf afterwards: the engine copies what it keeps.
    Drop input(const rte_mbuf *m, const uint8_t *ip, const net::Ipv4View &v, uint64_t now_ns);

    // An ICMP fragmentation-needed message (parsed by net::parse_icmp_frag_needed)
    // for the engine: Drop::none when it was for one of our connections'
    // outstanding segments (RFC 5927 §4.1), else icmp_frag_rejected (the
    // engine's counters say why).
    Drop frag_needed(const net::FragNeeded &fn, uint64_t now_ns);

    // Sends what emit() queued. Called by the lcore loop once per iteration.
    // Returns how many frames it handed to the port.
    uint16_t flush();

    void emit(const tcp::SegmentOut &seg) override;

    // One UDP datagram originated by this queue (a tracker announce of fill
    // mode, BEP 15: docs/swarm.md), payload copied into one mbuf, checksums
    // in software. False when the next hop is not resolved yet (an ARP
    // request went out: the caller sends again later) or no mbuf is left.
    bool send_udp(uint32_t dst_be, uint16_t sport, uint16_t dport, const uint8_t *payload,
                  uint16_t len);

private:
    bool resolve(uint32_t dst_be, rte_ether_addr *mac);
    // One frame of payload bytes [from, to) of seg; a TSO frame when
    // tso_segsz != 0 (the port cuts it into segments of that many bytes).
    rte_mbuf *build(const tcp::SegmentOut &seg, const rte_ether_addr &dst_mac, uint32_t from,
                    uint32_t to, uint16_t tso_segsz);
    void queue(rte_mbuf *m);
    void emit_tso(const tcp::SegmentOut &seg, const rte_ether_addr &mac);

    Lcore *lc_ = nullptr;
    LcoreQueue *q_ = nullptr;
    uint64_t tx_offload_ = 0;
    bool hw_ip_csum_ = false;       // ordinary frames: the port sums the IPv4 header
    bool hw_tcp_csum_ = false;      // ordinary frames: the port sums TCP
    bool tso_ip_csum_ = false;      // TSO frames: the port sums each segment's IPv4 header
    bool tso_even_pieces_ = false;  // TSO frames must keep every mbuf but the last even (net_tap)
    uint16_t tso_frame_max_ = 0;
    uint64_t last_arp_ns_ = 0;
    // The last fresh neighbour answer, good for the rest of its loop iteration.
    uint32_t last_dst_ = 0;
    uint64_t last_now_ = UINT64_MAX;
    rte_ether_addr last_mac_{};
    uint16_t ntx_ = 0;
    uint16_t npend_ = 0;
    uint64_t refused_since_ns_ = 0;  // when the head of pend_ was first refused (0: it was not)
    rte_mbuf *tx_[kTxCap];    // emitted this iteration
    rte_mbuf *pend_[kTxCap];  // refused by a full TX ring, sent first next time
    tcp::Stack stack_;
};

}  // namespace ep
