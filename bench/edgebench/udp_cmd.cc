// `edgebench udp`: UDP echo load (RFC 862) over DPDK, for the server's cost
// per datagram. Keeps --window datagrams in flight, each carrying its
// sequence number and a pattern derived from it; every reply is checked
// byte for byte against what was sent. The server's cycles come from its own
// counters (busy_cycles / udp_replies, bench/edgebench/udp_echo.py).
//
// The port, the frames and the send window are udp_load.h's, shared with
// `edgebench dns` and `edgebench tracker --dpdk-port`.
#include <cstdio>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>

#include "bench/edgebench/http_commands.h"
#include "bench/edgebench/udp_load.h"
#include "dataplane/net/udp/handler.h"

namespace ep::bench {

namespace {

struct UdpCmdOptions {
    UdpLoadOptions load{.server_port = 7, .src_port = 40007};
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

// Our sequence number, then its pattern: what EchoSink checks.
void write_payload(uint8_t *p, uint16_t size, uint64_t seq) {
    std::memcpy(p, &seq, sizeof seq);
    for (uint16_t i = 8; i < size; ++i) p[i] = pattern_byte(seq, i);
}

void run(UdpCmdOptions &o) {
    UdpLoad load("udp", o.load);
    if (o.size < 8 || o.size > 1472) throw CLI::ValidationError("--size", "8 to 1472 bytes");
    EchoSink sink;
    sink.size = o.size;
    load.open(&sink);
    const WindowRun w = load.run(
        o.duration_s, o.max_datagrams, o.window,
        [&](uint64_t seq) {
            return load.frame(o.size, [&](uint8_t *p) { write_payload(p, o.size, seq); });
        },
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
        std::printf(
            "%llu sent, %llu echoed byte-exact, %llu mismatched, %llu lost in %.2f s: %.0f "
            "echoes/s\n",
            (unsigned long long)sent, (unsigned long long)sink.received,
            (unsigned long long)sink.mismatched, (unsigned long long)lost, secs,
            static_cast<double>(sink.received) / secs);
    load.close();
    if (sink.mismatched) throw CLI::RuntimeError("edgebench udp: mismatched echoes", 1);
}

}  // namespace

void register_udp(CLI::App &app) {
    auto o = std::make_shared<UdpCmdOptions>();
    CLI::App *c = app.add_subcommand("udp", "UDP echo load over DPDK (server cost per datagram)");
    add_udp_load_options(c, o->load, "server's echo port");
    c->add_option("--size", o->size, "payload bytes (8-1472)")->capture_default_str();
    c->add_option("--window", o->window, "datagrams in flight")->capture_default_str();
    c->add_option("-d,--duration", o->duration_s, "seconds of load")->capture_default_str();
    c->add_option("-n,--datagrams", o->max_datagrams, "stop after this many (0: no limit)");
    c->add_flag("--json", o->json, "one JSON object on stdout");
    c->callback([o] { run(*o); });
}

}  // namespace ep::bench
