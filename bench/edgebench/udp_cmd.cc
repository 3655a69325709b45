// `edgebench udp`: UDP echo load (RFC 862) over DPDK, for the server's cost
// per datagram. Keeps --window datagrams in flight, each carrying its
// sequence number and a pattern derived from it; every reply is checked
// byte for byte against what was sent. The server's cycles come from its own
// counters (busy_cycles / udp_replies, bench/edgebench/udp_echo.py).
//
// Frames are built here, not by the client's packet path: the load is the
// sender. Replies come back through process_burst and the UDP binding of our
// source port, like any service's datagrams.
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>

#include "bench/edgebench/http_commands.h"
#include "bench/edgebench/udp_window.h"
#include "bench/loadgen/dpdk_client.h"
#include "dataplane/net/udp/handler.h"

namespace ep::bench {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

struct UdpCmdOptions {
    loadgen::DpdkOptions dpdk;
    std::string server = "10.79.0.2";
    uint16_t server_port = 7;
    uint16_t src_port = 40007;
    uint16_t size = 64;  // payload bytes, >= 8 (the sequence number)
    uint32_t window = 256;
    double duration_s = 5;
    uint64_t max_datagrams = 0;
    bool json = false;
};

inline uint8_t pattern_byte(uint64_t seq, uint16_t i) {
    return static_cast<uint8_t>(seq * 131 + i * 7 + 1);
}

// Counts and checks the echoes arriving at our source port.
struct EchoSink final : net::udp::Handler {
    uint16_t size = 0;
    uint64_t received = 0, mismatched = 0, bytes = 0;
    int on_datagram(net::udp::Datagram &d) override {
        uint64_t seq = 0;
        bool ok = d.len == size;
        if (ok) {
            std::memcpy(&seq, d.payload, sizeof seq);
            for (uint16_t i = 8; i < d.len && ok; ++i) ok = d.payload[i] == pattern_byte(seq, i);
        }
        if (ok) {
            ++received;
            bytes += d.len;
        } else {
            ++mismatched;
        }
        return -1;
    }
};

rte_mbuf *build(loadgen::DpdkClient &dc, const rte_ether_addr &dst_mac, uint32_t dst_be,
                const UdpCmdOptions &o, uint64_t seq) {
    rte_mbuf *m = rte_pktmbuf_alloc(dc.pool());
    if (!m) return nullptr;
    const uint16_t len = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + o.size;
    auto *eh = rte_pktmbuf_mtod(m, rte_ether_hdr *);
    if (!rte_pktmbuf_append(m, len)) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    eh->dst_addr = dst_mac;
    eh->src_addr = dc.port().addr.mac;
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
    std::memset(ih, 0, sizeof *ih);
    ih->version_ihl = 0x45;
    ih->total_length = rte_cpu_to_be_16(len - sizeof(rte_ether_hdr));
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_UDP;
    ih->src_addr = dc.local_ip_be();
    ih->dst_addr = dst_be;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    auto *uh = reinterpret_cast<rte_udp_hdr *>(ih + 1);
    uh->src_port = rte_cpu_to_be_16(o.src_port);
    uh->dst_port = rte_cpu_to_be_16(o.server_port);
    uh->dgram_len = rte_cpu_to_be_16(sizeof(rte_udp_hdr) + o.size);
    uh->dgram_cksum = 0;
    auto *p = reinterpret_cast<uint8_t *>(uh + 1);
    std::memcpy(p, &seq, sizeof seq);
    for (uint16_t i = 8; i < o.size; ++i) p[i] = pattern_byte(seq, i);
    uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
    return m;
}

void run(UdpCmdOptions &o) {
    uint32_t server_be = 0;
    if (!loadgen::parse_ipv4(o.server, &server_be))
        throw CLI::ValidationError("--server", "not an IPv4 address: " + o.server);
    if (o.size < 8 || o.size > 1472) throw CLI::ValidationError("--size", "8 to 1472 bytes");
    loadgen::DpdkClient dc;
    std::string err;
    if (!dc.open(o.dpdk, &err)) throw CLI::RuntimeError("edgebench udp: " + err, 1);
    if (!dc.resolve(server_be, 3.0)) {
        dc.close();
        throw CLI::RuntimeError("edgebench udp: no ARP reply from " + o.server, 1);
    }
    const rte_ether_addr mac = *dc.queue().arp.lookup(dc.port().addr.next_hop(server_be), 0, UINT64_MAX);
    EchoSink sink;
    sink.size = o.size;
    dc.queue().udp.bind(o.src_port, &sink);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const WindowRun w = run_window(
        dc, g_stop, o.duration_s, o.max_datagrams, o.window,
        [&](uint64_t seq) { return build(dc, mac, server_be, o, seq); },
        [&] { return sink.received + sink.mismatched; });
    const uint64_t sent = w.sent, alloc_failed = w.alloc_failed, tx_refused = w.tx_refused;
    const double secs = w.seconds();
    const uint64_t lost = sent - sink.received - sink.mismatched;
    if (o.json)
        std::printf(
            "{\"seconds\":%.6f,\"size\":%u,\"window\":%u,\"sent\":%llu,\"received\":%llu,"
            "\"mismatched\":%llu,\"lost\":%llu,\"tx_refused\":%llu,\"alloc_failed\":%llu,"
            "\"echoes_per_s\":%.1f}\n",
            secs, o.size, o.window, (unsigned long long)sent, (unsigned long long)sink.received,
            (unsigned long long)sink.mismatched, (unsigned long long)lost,
            (unsigned long long)tx_refused, (unsigned long long)alloc_failed,
            static_cast<double>(sink.received) / secs);
    else
        std::printf("%llu sent, %llu echoed byte-exact, %llu mismatched, %llu lost in %.2f s: %.0f echoes/s\n",
                    (unsigned long long)sent, (unsigned long long)sink.received,
                    (unsigned long long)sink.mismatched, (unsigned long long)lost, secs,
                    static_cast<double>(sink.received) / secs);
    dc.close();
    if (sink.mismatched) throw CLI::RuntimeError("edgebench udp: mismatched echoes", 1);
}

}  // namespace

void register_udp(CLI::App &app) {
    auto o = std::make_shared<UdpCmdOptions>();
    CLI::App *c = app.add_subcommand("udp", "UDP echo load over DPDK (server cost per datagram)");
    c->add_option("--port", o->dpdk.port, "vdev string (net_memif0,role=client,...) or PCI address")
        ->required();
    c->add_option("--ip", o->dpdk.ip, "our IPv4 address/prefix")->required();
    c->add_option("--server", o->server, "server address")->capture_default_str();
    c->add_option("--server-port", o->server_port, "server's echo port")->capture_default_str();
    c->add_option("--src-port", o->src_port, "our source port")->capture_default_str();
    c->add_option("--lcore", o->dpdk.lcore, "lcore this process runs on")->capture_default_str();
    c->add_option("--file-prefix", o->dpdk.file_prefix, "EAL file prefix (default edgebench-<pid>)");
    c->add_option("--size", o->size, "payload bytes (8-1472)")->capture_default_str();
    c->add_option("--window", o->window, "datagrams in flight")->capture_default_str();
    c->add_option("-d,--duration", o->duration_s, "seconds of load")->capture_default_str();
    c->add_option("-n,--datagrams", o->max_datagrams, "stop after this many (0: no limit)");
    c->add_flag("--json", o->json, "one JSON object on stdout");
    c->callback([o] { run(*o); });
}

}  // namespace ep::bench
