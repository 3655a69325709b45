// One DPDK ethdev port: configured with one RX/TX queue pair per data lcore,
// RSS when the driver offers it, and the addresses it answers for.
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <string>

#include "dataplane/net/port_address.h"

namespace ep {

struct PortOptions {
    std::string device;    // ethdev name as EAL knows it: "net_tap0", "0000:03:00.0"
    uint32_t ip = 0;       // network order
    uint32_t netmask = 0;  // network order
    uint32_t gateway = 0;  // network order, 0 = none
    uint16_t rx_desc = 1024;
    uint16_t tx_desc = 1024;
    bool csum_offload = true;  // use the NIC's IPv4/TCP checksum offloads when offered
    bool tso = true;           // use TCP segmentation offload when offered (docs/tcp.md "TSO")
};

struct Port {
    uint16_t id = 0;
    std::string device;
    net::PortAddress addr;
    uint16_t queues = 0;
    uint16_t mtu = 1500;
    uint16_t rx_desc = 0;  // descriptors per queue, as the driver adjusted them
    uint16_t tx_desc = 0;
    bool rss = false;
    std::string driver;            // rte_eth_dev_info.driver_name
    uint64_t tx_offload_capa = 0;  // what the driver offers (rte_eth_dev_info)
    uint64_t rx_offload_capa = 0;
    uint64_t tx_offload = 0;  // RTE_ETH_TX_OFFLOAD_* the port accepted
    uint64_t rx_offload = 0;
    // Whether an ordinary frame may leave its IPv4/TCP checksums to the port.
    // False on net_tap: its "offload" sums each mbuf of a chain on its own,
    // wrong after a segment of odd length (an HTTP head before a body slice),
    // so only TSO frames, whose pieces the glue keeps even, use it there.
    bool tx_csum_per_frame = false;
    // TSO frames: the largest frame (L2 header included) the driver lets one
    // segment be, 0 = the MTU plus L2 as usual. net_tap (22.11) refuses a
    // TSO packet whose tso_segsz plus headers exceeds the MTU, L2 header
    // included (librte_gso's segment size counts it): a 1448-byte MSS needs
    // 1514 there, so segments are cut at MTU - headers instead.
    uint16_t tso_frame_max = 0;
    bool started = false;
};

// RTE_ETH_{TX,RX}_OFFLOAD_* bits as DPDK names them, space-separated.
std::string tx_offload_names(uint64_t bits);
std::string rx_offload_names(uint64_t bits);

// net_tap asks the kernel for a real-time signal per received frame
// (F_SETSIG) and reads its queue only after one arrived. The kernel hands
// that signal to whichever thread does not block it, usually a sleeping one
// on another core, so every frame waited tens of microseconds for a wake-up.
// Without a single trigger net_tap reads on every poll, as a poll-mode data
// plane expects. Two steps:
// - block_async_io_signals(), before rte_eal_init: blocks SIGIO and the
//   real-time signals in the calling thread, which every EAL thread inherits,
//   so no trigger fires while ports come up;
// - ignore_async_io_signals(), once the ports are started (port_open calls
//   it): sets those with a driver's handler, and SIGIO, to SIG_IGN and
//   unblocks them here. The kernel then discards them when they are raised.
//   Blocked but never ignored, they would stay queued: the per-user limit of
//   pending signals fills up (RLIMIT_SIGPENDING, shared by every process of
//   the user) and pthread_cancel, which needs one, fails — EAL's shutdown then
//   waits for ever.
void block_async_io_signals();
void ignore_async_io_signals();

// Configures and starts the port. On failure returns false with a message.
bool port_open(const PortOptions &opt, uint16_t queues, rte_mempool *pool, Port *out,
               std::string *err);
void port_close(Port &port);

std::string mac_to_string(const rte_ether_addr &mac);
std::string ipv4_to_string(uint32_t ip_be);

}  // namespace ep
