#include "bench/edgebench/udp_load.h"

#include <rte_ip.h>
#include <rte_udp.h>

#include <csignal>
#include <cstring>
#include <utility>

#include <CLI/CLI.hpp>

namespace ep::bench {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

constexpr uint16_t kHeaders = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);

}  // namespace

void add_udp_load_options(CLI::App *c, UdpLoadOptions &o, const std::string &server_port_help) {
    c->add_option("--port", o.dpdk.port, "vdev string (net_memif0,role=client,...) or PCI address")
        ->required();
    c->add_option("--ip", o.dpdk.ip, "our IPv4 address/prefix")->required();
    c->add_option("--server", o.server, "server address")->capture_default_str();
    c->add_option("--server-port", o.server_port, server_port_help)->capture_default_str();
    c->add_option("--src-port", o.src_port, "our source port")->capture_default_str();
    c->add_option("--lcore", o.dpdk.lcore, "lcore this process runs on")->capture_default_str();
    c->add_option("--file-prefix", o.dpdk.file_prefix, "EAL file prefix (default edgebench-<pid>)");
}

UdpLoad::UdpLoad(std::string cmd, UdpLoadOptions o) : cmd_(std::move(cmd)), o_(std::move(o)) {
    if (!loadgen::parse_ipv4(o_.server, &server_be_))
        throw CLI::ValidationError("--server", "not an IPv4 address: " + o_.server);
}

void UdpLoad::open(net::udp::Handler *sink) {
    std::string err;
    if (!dc_.open(o_.dpdk, &err)) throw CLI::RuntimeError("edgebench " + cmd_ + ": " + err, 1);
    if (!dc_.resolve(server_be_, 3.0)) {
        dc_.close();
        throw CLI::RuntimeError("edgebench " + cmd_ + ": no ARP reply from " + o_.server, 1);
    }
    mac_ = *dc_.queue().arp.lookup(dc_.port().addr.next_hop(server_be_), 0, UINT64_MAX);
    dc_.queue().udp.bind(o_.src_port, sink);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}

rte_mbuf *UdpLoad::headers(uint16_t size) {
    rte_mbuf *m = rte_pktmbuf_alloc(dc_.pool());
    if (!m) return nullptr;
    const auto len = static_cast<uint16_t>(kHeaders + size);
    auto *eh = rte_pktmbuf_mtod(m, rte_ether_hdr *);
    if (!rte_pktmbuf_append(m, len)) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    eh->dst_addr = mac_;
    eh->src_addr = dc_.port().addr.mac;
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
    std::memset(ih, 0, sizeof *ih);
    ih->version_ihl = 0x45;
    ih->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(len - sizeof(rte_ether_hdr)));
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_UDP;
    ih->src_addr = dc_.local_ip_be();
    ih->dst_addr = server_be_;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    auto *uh = reinterpret_cast<rte_udp_hdr *>(ih + 1);
    uh->src_port = rte_cpu_to_be_16(o_.src_port);
    uh->dst_port = rte_cpu_to_be_16(o_.server_port);
    uh->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_udp_hdr) + size));
    uh->dgram_cksum = 0;
    return m;
}

uint8_t *UdpLoad::payload(rte_mbuf *m) {
    return rte_pktmbuf_mtod_offset(m, uint8_t *, kHeaders);
}

// Over the payload fill() wrote: the sum covers it (RFC 768).
void UdpLoad::checksum(rte_mbuf *m) {
    auto *ih = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr *, sizeof(rte_ether_hdr));
    auto *uh = reinterpret_cast<rte_udp_hdr *>(ih + 1);
    uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
}

const volatile std::sig_atomic_t &UdpLoad::stop_flag() {
    return g_stop;
}

}  // namespace ep::bench
