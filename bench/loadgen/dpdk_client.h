// The DPDK side of edgebench: EAL, one mbuf pool, one port (any ethdev:
// net_memif, net_tap, a PCI NIC), and one data lcore's worth of the data
// plane — an ep::Lcore with one LcoreQueue and a TcpIo — driven from the
// calling thread. The same packet path as edgeplane (process_burst: ARP,
// ICMP, TCP into the engine), used from the client side: the application
// calls tcp::Stack::connect() and the engine's handlers do the rest.
//
//   DpdkClient dc;
//   if (!dc.open(opts, &err)) ...;
//   dc.resolve_gateway(server_ip, 2.0);          // ARP before the first SYN
//   while (running) { dc.rx(); app_work(dc.stack(), dc.now_ns()); dc.tx(); }
//   dc.close();
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_ethdev.h>

#include "dataplane/lcore.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/port.h"
#include "dataplane/tcp_io.h"

namespace ep::loadgen {

struct DpdkOptions {
    std::string port;         // vdev string ("net_memif0,role=client,socket=...") or PCI address
    std::string ip;           // our address/prefix, e.g. "10.79.0.1/24"
    std::string gateway;      // optional
    unsigned lcore = 0;       // the EAL (main) lcore this thread runs on
    std::string file_prefix;  // unique per process; default edgebench-<pid>
    bool no_huge = false;
    unsigned memory_mb = 256;  // with no_huge
    unsigned mbufs = 16383;
    std::string log_level = "error";
    tcp::StackConfig tcp;  // sizes for our side of the connections
    bool csum_offload = true;
    // Mark received frames' TCP checksums as verified (skips summing every
    // payload byte). Only for links that cannot corrupt: net_memif's shared
    // memory between two processes on one host.
    bool trust_rx_l4_csum = false;
};

class DpdkClient {
  public:
    DpdkClient() = default;
    ~DpdkClient() { close(); }
    DpdkClient(const DpdkClient &) = delete;
    DpdkClient &operator=(const DpdkClient &) = delete;

    bool open(const DpdkOptions &o, std::string *err);
    // Sends ARP requests for the next hop towards `dst_be` until answered or
    // `timeout_s` passes (polling the port meanwhile). The first SYN then
    // goes out at once instead of after a 1 s retransmission.
    bool resolve(uint32_t dst_be, double timeout_s);

    // One loop iteration, split so the application acts between the halves:
    // rx(): receive a burst, run it through the packet path (the engine's
    // callbacks fire here), then the engine's timers. tx(): transmit.
    // Returns true when packets were received.
    bool rx();
    void tx();

    tcp::Stack &stack() { return io_->stack(); }
    uint64_t now_ns() const;
    uint64_t tsc_hz() const { return hz_; }
    uint32_t local_ip_be() const { return port_.addr.ip; }
    const Port &port() const { return port_; }
    const LcoreCounters &counters() const { return lc_->counters; }
    // Received chains copied into one mbuf (see jumbo_).
    uint64_t rx_linearized() const { return linearized_; }
    // For loads that build their own frames (edgebench udp): the queue's
    // ARP table and UDP bindings, the pool, and a raw transmit.
    LcoreQueue &queue() { return lc_->queues[0]; }
    rte_mempool *pool() { return pool_; }
    uint16_t tx_raw(rte_mbuf **pkts, uint16_t n) {
        return rte_eth_tx_burst(port_.id, lc_->queues[0].queue, pkts, n);
    }
    void close();

  private:
    bool eal_up_ = false;
    rte_mempool *pool_ = nullptr;
    // Frames that arrive as mbuf chains are copied into one of these before
    // the packet path, which takes single-segment frames only. net_vhost
    // delivers a virtio guest's TSO super-segment (up to 64 KiB) as a chain
    // of the pool's 2 KiB mbufs: edgebench on the vhost side of edgeplane's
    // virtio-user port (`edgebench compare --transport virtio`) receives
    // them whole, as a host's stack takes a guest's GSO packet.
    rte_mempool *jumbo_ = nullptr;
    uint16_t linearize(rte_mbuf **pkts, uint16_t n);
    uint64_t linearized_ = 0;
    Port port_;
    Lcore *lc_ = nullptr;
    std::unique_ptr<TcpIo> io_;
    uint64_t hz_ = 0;
    bool trust_csum_ = false;
};

// "a.b.c.d/len" → address and netmask in network order.
bool parse_cidr(const std::string &s, uint32_t *ip_be, uint32_t *mask_be);
bool parse_ipv4(const std::string &s, uint32_t *ip_be);

}  // namespace ep::loadgen
