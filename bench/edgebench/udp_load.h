// What the DPDK UDP loads share (`edgebench udp`, `edgebench dns`,
// `edgebench tracker --dpdk-port`): the client port started and the server's
// MAC resolved, a sink bound to our source port, SIGINT/SIGTERM ending the
// run, one way to build a datagram's frame, and the send window
// (udp_window.h). What differs stays in each command: the payload, the
// checks a reply passes (the sink) and the report.
//
// Frames are built here, not by the client's packet path: the load is the
// sender. Replies come back through process_burst and the UDP binding of our
// source port, like any service's datagrams.
#pragma once

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <csignal>
#include <cstdint>
#include <string>

#include "bench/edgebench/udp_window.h"
#include "bench/loadgen/dpdk_client.h"
#include "dataplane/net/udp/handler.h"

namespace CLI {
class App;
}

namespace ep::bench {

struct UdpLoadOptions {
    loadgen::DpdkOptions dpdk;
    std::string server = "10.79.0.2";
    uint16_t server_port = 0;
    uint16_t src_port = 0;
};

// --port, --ip, --server, --server-port, --src-port, --lcore, --file-prefix,
// as `edgebench udp` and `edgebench dns` spell them (the defaults shown are
// those in `o` now).
void add_udp_load_options(CLI::App *c, UdpLoadOptions &o, const std::string &server_port_help);

class UdpLoad {
  public:
    // Checks --server (CLI::ValidationError) and nothing else: a command
    // checks its own options after this and before open() starts EAL.
    UdpLoad(std::string cmd, UdpLoadOptions o);

    // Starts the port, resolves the server (ARP, 3 s), binds `sink` to the
    // source port and routes SIGINT/SIGTERM to the end of the window.
    // Failures: CLI::RuntimeError "edgebench CMD: ...", exit code 1.
    void open(net::udp::Handler *sink);

    // A datagram to the server with `size` payload bytes, which fill(p)
    // writes; nullptr when the pool is empty.
    template <class Fill>
    rte_mbuf *frame(uint16_t size, Fill fill) {
        rte_mbuf *m = headers(size);
        if (m) {
            fill(payload(m));
            checksum(m);
        }
        return m;
    }

    // run_window() over this port, ended early by SIGINT/SIGTERM.
    template <class Build, class Settled>
    WindowRun run(double duration_s, uint64_t max, uint32_t window, Build build, Settled settled) {
        return run_window(dc_, stop_flag(), duration_s, max, window, build, settled);
    }

    loadgen::DpdkClient &client() { return dc_; }
    void close() { dc_.close(); }

  private:
    rte_mbuf *headers(uint16_t size);  // Ethernet, IPv4, UDP; the UDP sum left 0
    static uint8_t *payload(rte_mbuf *m);
    static void checksum(rte_mbuf *m);
    static const volatile std::sig_atomic_t &stop_flag();

    std::string cmd_;
    UdpLoadOptions o_;
    uint32_t server_be_ = 0;
    rte_ether_addr mac_{};
    loadgen::DpdkClient dc_;
};

}  // namespace ep::bench
