// `edgebench tracker`: BitTorrent tracker announce load, for announces per
// server-core-second (docs/benchmarks.md, issue 12), edgeplane against
// opentracker. Two protocols:
//   --proto udp: BEP 15 over one UDP socket, --window transactions in
//     flight; each slot connects (action 0), then announces (action 1) with
//     the connection ID; --connect-each makes every announce a connect +
//     announce pair, otherwise a slot reuses its ID (BEP 15 lets a client
//     keep it a minute; runs are shorter);
//   --proto http: BEP 3 GET /announce with compact=1, over --window
//     persistent connections (reopened when the server closes one).
// Every reply is checked: UDP action and transaction ID, announce replies at
// least 20 bytes; HTTP status 200 and a bencoded dict without "failure
// reason". Peers: --peers distinct ports (one source address) cycled over
// --hashes info hashes (random, or given with --hash), so the server's
// swarms hold real entries.
//
// Two transports for UDP: kernel sockets (the default; opentracker only
// speaks through the kernel) and, with --dpdk-port, the DPDK client of
// `edgebench udp/dns` over net_memif (edgeplane, so the cost counted is the
// tracker's and not a TAP's syscalls): one connect for the source address,
// then --window announces in flight with its ID (udp_load.h), or with
// --connect-each every other datagram a connect. HTTP is kernel sockets
// only (`edgebench http --url-file` drives edgeplane's HTTP over memif).
// The server's cost is measured from outside (bench/swarm_tracker_bench.py).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/edgebench/commands.h"
#include "bench/edgebench/udp_load.h"
#include "dataplane/net/byte_order.h"
#include "dataplane/net/udp/handler.h"

namespace ep::bench {

namespace {

struct TrackerOptions {
    std::string server = "127.0.0.1";
    uint16_t port = 6969;
    std::string proto = "udp";
    uint32_t window = 64;
    double duration_s = 5;
    uint32_t peers = 1000;
    uint32_t hashes = 16;
    std::vector<std::string> hash_hex;
    int32_t numwant = 50;
    bool connect_each = false;
    bool json = false;
    loadgen::DpdkOptions dpdk;  // --dpdk-port: UDP over DPDK
    uint16_t src_port = 40069;
};

struct Result {
    uint64_t announces = 0, connects = 0, errors = 0, bad = 0, timeouts = 0, reconnects = 0;
    uint64_t reply_bytes = 0;
    double seconds = 0;
};

double now_s() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

using net::get32;
using net::put32;
using net::put64;

std::vector<std::array<uint8_t, 20>> make_hashes(const TrackerOptions &o) {
    std::vector<std::array<uint8_t, 20>> out;
    for (const auto &h : o.hash_hex) {
        if (h.size() != 40) throw CLI::ValidationError("--hash", "40 hex digits: " + h);
        std::array<uint8_t, 20> a{};
        for (int i = 0; i < 20; ++i)
            a[i] = static_cast<uint8_t>(std::stoul(h.substr(2 * i, 2), nullptr, 16));
        out.push_back(a);
    }
    std::mt19937_64 rng(12345);
    while (out.empty() || (o.hash_hex.empty() && out.size() < o.hashes)) {
        std::array<uint8_t, 20> a{};
        for (auto &b : a) b = static_cast<uint8_t>(rng());
        out.push_back(a);
    }
    return out;
}

sockaddr_in server_addr(const TrackerOptions &o) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o.port);
    if (inet_pton(AF_INET, o.server.c_str(), &sa.sin_addr) != 1)
        throw CLI::ValidationError("--server", "an IPv4 address: " + o.server);
    return sa;
}

// One BEP 15 datagram: a connect (16 bytes) or an announce (98) for peer k
// with the connection ID `cid` (as received, network order).
size_t write_request(uint8_t *p, bool connect, const uint8_t cid[8], uint32_t tid, uint64_t k,
                     const TrackerOptions &o, const std::vector<std::array<uint8_t, 20>> &hashes) {
    if (connect) {
        put64(p, 0x41727101980ULL);  // BEP 15 protocol_id
        put32(p + 8, 0);
        put32(p + 12, tid);
        return 16;
    }
    std::memcpy(p, cid, 8);
    put32(p + 8, 1);
    put32(p + 12, tid);
    std::memcpy(p + 16, hashes[k % hashes.size()].data(), 20);
    char peer[21];
    std::snprintf(peer, sizeof peer, "-EB0001-%012u", static_cast<unsigned>(k % o.peers));
    std::memcpy(p + 36, peer, 20);
    put64(p + 56, 0);                         // downloaded
    put64(p + 64, (k & 1) ? 0 : 1 << 20);     // left: half seeds
    put64(p + 72, 0);                         // uploaded
    put32(p + 80, 0);                         // event: none
    put32(p + 84, 0);                         // ip: the source
    put32(p + 88, static_cast<uint32_t>(k));  // key
    put32(p + 92, static_cast<uint32_t>(o.numwant));
    const uint16_t port = htons(static_cast<uint16_t>(10000 + k % o.peers));
    std::memcpy(p + 96, &port, 2);
    return 98;
}

// ---- UDP (BEP 15) ----
struct Slot {
    uint64_t cid = 0;
    bool have_cid = false;
    uint32_t tid = 0;
    double sent = 0;
};

Result run_udp(const TrackerOptions &o) {
    const auto hashes = make_hashes(o);
    const sockaddr_in sa = server_addr(o);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr *>(&sa), sizeof sa) != 0)
        throw CLI::RuntimeError("udp socket: " + std::string(strerror(errno)), 1);
    int buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    std::vector<Slot> slots(o.window);
    uint64_t seq = 0;
    Result r;
    // connect: a connect now (the slot has no ID, or --connect-each starts a
    // pair); otherwise an announce with the slot's ID.
    auto send_slot = [&](uint32_t i, bool connect) {
        Slot &s = slots[i];
        s.tid = static_cast<uint32_t>((seq++ << 12) | i);  // low 12 bits: the slot
        uint8_t p[98];
        if (connect) s.have_cid = false;  // a connect (starting a pair, or after a timeout)
        const size_t n = write_request(p, !s.have_cid, reinterpret_cast<const uint8_t *>(&s.cid),
                                       s.tid, seq, o, hashes);
        s.sent = now_s();
        if (send(fd, p, n, 0) != static_cast<ssize_t>(n)) s.sent = 0;  // retried by the timeout
    };
    const double start = now_s(), end = start + o.duration_s;
    for (uint32_t i = 0; i < o.window; ++i) send_slot(i, true);
    uint8_t rb[2048];
    double last_scan = start;
    while (true) {
        const double t = now_s();
        if (t >= end) break;
        ssize_t n = recv(fd, rb, sizeof rb, 0);
        if (n < 0) {
            if (t - last_scan > 0.2) {  // lost datagrams: resend after 1 s
                last_scan = t;
                for (uint32_t i = 0; i < o.window; ++i)
                    if (t - slots[i].sent > 1.0) {
                        ++r.timeouts;
                        slots[i].have_cid = false;
                        send_slot(i, true);
                    }
            }
            continue;
        }
        if (n < 8) {
            ++r.bad;
            continue;
        }
        const uint32_t action = get32(rb), tid = get32(rb + 4);
        const uint32_t i = tid & 0xfff;
        if (i >= o.window || slots[i].tid != tid) {
            ++r.bad;  // late (after a timeout) or not ours
            continue;
        }
        Slot &s = slots[i];
        r.reply_bytes += static_cast<uint64_t>(n);
        if (action == 0 && n >= 16) {
            std::memcpy(&s.cid, rb + 8, 8);
            s.have_cid = true;
            ++r.connects;
            send_slot(i, false);  // the announce of this pair
            continue;
        }
        if (action == 1 && n >= 20)
            ++r.announces;
        else if (action == 3)
            ++r.errors, s.have_cid = false;
        else
            ++r.bad;
        send_slot(i, o.connect_each);
    }
    r.seconds = now_s() - start;
    close(fd);
    return r;
}

// ---- UDP (BEP 15) over DPDK ----
// Every reply to our source port: connect replies refresh the ID (one per
// source address, BEP 15 section "connect"), announce replies are counted.
struct TrackerSink final : net::udp::Handler {
    uint8_t cid[8] = {};
    bool have_cid = false;
    Result *r = nullptr;
    uint64_t settled = 0;
    int on_datagram(net::udp::Datagram &d) override {
        ++settled;
        if (d.len < 8) {
            ++r->bad;
            return -1;
        }
        const uint32_t action = get32(d.payload);
        r->reply_bytes += d.len;
        if (action == 0 && d.len >= 16) {
            std::memcpy(cid, d.payload + 8, 8);
            have_cid = true;
            ++r->connects;
        } else if (action == 1 && d.len >= 20) {
            ++r->announces;
        } else if (action == 3) {
            ++r->errors;
        } else {
            ++r->bad;
        }
        return -1;
    }
};

Result run_udp_dpdk(const TrackerOptions &o) {
    const auto hashes = make_hashes(o);
    UdpLoad load("tracker", {o.dpdk, o.server, o.port, o.src_port});
    Result r;
    TrackerSink sink;
    sink.r = &r;
    load.open(&sink);
    uint8_t p[98];
    auto request = [&](bool connect, uint64_t k) {
        const size_t n =
            write_request(p, connect, sink.cid, static_cast<uint32_t>(k), k, o, hashes);
        return load.frame(static_cast<uint16_t>(n), [&](uint8_t *q) { std::memcpy(q, p, n); });
    };
    loadgen::DpdkClient &dc = load.client();
    for (int tries = 0; tries < 30 && !sink.have_cid; ++tries) {  // the first ID
        rte_mbuf *m = request(true, 0);
        if (m && dc.tx_raw(&m, 1) != 1) rte_pktmbuf_free(m);
        const uint64_t until = dc.now_ns() + 100'000'000;
        while (!sink.have_cid && dc.now_ns() < until) dc.rx();
    }
    if (!sink.have_cid) {
        load.close();
        throw CLI::RuntimeError("edgebench tracker: no connect reply", 1);
    }
    r = Result{};
    sink.settled = 0;
    const WindowRun w = load.run(
        o.duration_s, 0, o.window,
        [&](uint64_t seq) { return request(o.connect_each && (seq & 1) == 0, seq); },
        [&] { return sink.settled; });
    r.seconds = w.seconds();
    r.timeouts = w.sent - sink.settled;  // lost (the window shrank by as many)
    load.close();
    return r;
}

// ---- HTTP (BEP 3) ----
struct HttpConn {
    int fd = -1;
    std::string in;
    bool busy = false;
};

std::string pct(const uint8_t *p, size_t n) {
    static const char *hex = "0123456789ABCDEF";
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        s += '%';
        s += hex[p[i] >> 4];
        s += hex[p[i] & 15];
    }
    return s;
}

Result run_http(const TrackerOptions &o) {
    const auto hashes = make_hashes(o);
    const sockaddr_in sa = server_addr(o);
    int ep = epoll_create1(0);
    std::vector<HttpConn> conns(o.window);
    uint64_t seq = 0;
    Result r;
    auto open_conn = [&](uint32_t i) {
        HttpConn &c = conns[i];
        if (c.fd >= 0) close(c.fd);
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        connect(c.fd, reinterpret_cast<const sockaddr *>(&sa), sizeof sa);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u32 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        c.in.clear();
        c.busy = false;
    };
    auto send_req = [&](uint32_t i) {
        HttpConn &c = conns[i];
        const uint64_t k = seq++;
        char peer[21];
        std::snprintf(peer, sizeof peer, "-EB0001-%012u", static_cast<unsigned>(k % o.peers));
        std::string q = "GET /announce?info_hash=" + pct(hashes[k % hashes.size()].data(), 20) +
                        "&peer_id=" + peer + "&port=" + std::to_string(10000 + k % o.peers) +
                        "&uploaded=0&downloaded=0&left=" + ((k & 1) ? "0" : "1048576") +
                        "&compact=1&numwant=" + std::to_string(o.numwant) +
                        " HTTP/1.1\r\nHost: " + o.server + "\r\n\r\n";
        if (send(c.fd, q.data(), q.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(q.size())) {
            ++r.reconnects;
            open_conn(i);
            return;
        }
        c.busy = true;
    };
    for (uint32_t i = 0; i < o.window; ++i) open_conn(i);
    const double start = now_s(), end = start + o.duration_s;
    epoll_event evs[64];
    char buf[8192];
    while (now_s() < end) {
        int n = epoll_wait(ep, evs, 64, 100);
        for (int e = 0; e < n; ++e) {
            const uint32_t i = evs[e].data.u32;
            HttpConn &c = conns[i];
            if (!c.busy && (evs[e].events & EPOLLOUT)) {
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.u32 = i;
                epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                send_req(i);
                continue;
            }
            if (!(evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            ssize_t got;
            bool closed = false;
            while ((got = recv(c.fd, buf, sizeof buf, 0)) > 0)
                c.in.append(buf, static_cast<size_t>(got));
            if (got == 0 || (got < 0 && errno != EAGAIN)) closed = true;
            // one whole response: headers, then Content-Length bytes (or
            // everything until the close when there is none)
            const size_t he = c.in.find("\r\n\r\n");
            bool whole = false;
            size_t body_at = 0, body_len = 0;
            if (he != std::string::npos) {
                body_at = he + 4;
                const size_t cl = c.in.find("ontent-Length:");
                if (cl != std::string::npos && cl < he) {
                    body_len = std::stoul(c.in.substr(cl + 14, 12));
                    whole = c.in.size() >= body_at + body_len;
                } else if (closed) {
                    body_len = c.in.size() - body_at;
                    whole = true;
                }
            }
            if (whole) {
                const bool ok = c.in.compare(0, 12, "HTTP/1.1 200") == 0 ||
                                c.in.compare(0, 12, "HTTP/1.0 200") == 0;
                const std::string body = c.in.substr(body_at, body_len);
                r.reply_bytes += c.in.size();
                if (!ok || body.empty() || body[0] != 'd')
                    ++r.bad;
                else if (body.find("failure reason") != std::string::npos)
                    ++r.errors;
                else
                    ++r.announces;
                const bool keep = !closed && c.in.find("onnection: close") == std::string::npos;
                c.in.clear();
                c.busy = false;
                if (keep) {
                    send_req(i);
                } else {
                    ++r.reconnects;
                    open_conn(i);
                }
            } else if (closed) {
                ++r.bad, ++r.reconnects;
                open_conn(i);
            }
        }
    }
    r.seconds = now_s() - start;
    for (auto &c : conns)
        if (c.fd >= 0) close(c.fd);
    close(ep);
    return r;
}

void run(const TrackerOptions &o) {
    if (o.window == 0 || o.window > 4096) throw CLI::ValidationError("--window", "1..4096");
    Result r = o.proto == "http"      ? run_http(o)
               : !o.dpdk.port.empty() ? run_udp_dpdk(o)
                                      : run_udp(o);
    const double rate = r.seconds > 0 ? r.announces / r.seconds : 0;
    if (o.json) {
        std::printf(
            "{\"proto\":\"%s\",\"seconds\":%.3f,\"announces\":%llu,\"connects\":%llu,\"errors\":%"
            "llu,"
            "\"bad\":%llu,\"timeouts\":%llu,\"reconnects\":%llu,\"reply_bytes\":%llu,"
            "\"announces_per_s\":%.1f}\n",
            o.proto.c_str(), r.seconds, (unsigned long long)r.announces,
            (unsigned long long)r.connects, (unsigned long long)r.errors, (unsigned long long)r.bad,
            (unsigned long long)r.timeouts, (unsigned long long)r.reconnects,
            (unsigned long long)r.reply_bytes, rate);
    } else {
        std::printf(
            "%s: %llu announces in %.2f s (%.0f/s), %llu connects, %llu error replies, %llu bad, "
            "%llu timeouts, %llu reconnects\n",
            o.proto.c_str(), (unsigned long long)r.announces, r.seconds, rate,
            (unsigned long long)r.connects, (unsigned long long)r.errors, (unsigned long long)r.bad,
            (unsigned long long)r.timeouts, (unsigned long long)r.reconnects);
    }
    if (r.announces == 0) throw CLI::RuntimeError("no announce answered", 2);
}

}  // namespace

void register_tracker(CLI::App &app) {
    auto o = std::make_shared<TrackerOptions>();
    auto *c = app.add_subcommand("tracker",
                                 "BitTorrent tracker announce load (BEP 15 UDP or BEP 3 HTTP)");
    c->add_option("--server", o->server, "tracker IPv4 address");
    c->add_option("--port", o->port, "tracker port (UDP or TCP)");
    c->add_option("--proto", o->proto, "udp (BEP 15 connect + announce) or http (GET /announce)")
        ->check(CLI::IsMember({"udp", "http"}));
    c->add_option("--window", o->window, "UDP transactions in flight, or HTTP connections");
    c->add_option("--duration", o->duration_s, "seconds");
    c->add_option("--peers", o->peers, "distinct peers (peer_id, port) cycled");
    c->add_option("--hashes", o->hashes, "random info hashes cycled (without --hash)");
    c->add_option("--hash", o->hash_hex, "an info hash (hex); repeatable");
    c->add_option("--numwant", o->numwant, "numwant in every announce");
    c->add_flag("--connect-each", o->connect_each, "UDP: a connect before every announce");
    c->add_flag("--json", o->json, "one JSON line");
    c->add_option("--dpdk-port", o->dpdk.port,
                  "UDP over DPDK: vdev string (net_memif0,role=client,...)");
    c->add_option("--ip", o->dpdk.ip, "with --dpdk-port: our IPv4 address/prefix");
    c->add_option("--lcore", o->dpdk.lcore, "with --dpdk-port: the lcore this process runs on");
    c->add_option("--file-prefix", o->dpdk.file_prefix, "with --dpdk-port: EAL file prefix");
    c->add_option("--src-port", o->src_port, "with --dpdk-port: our UDP source port");
    c->callback([o] { run(*o); });
}

}  // namespace ep::bench
