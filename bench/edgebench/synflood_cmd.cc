// `edgebench synflood`: bare TCP SYNs at a paced rate through a raw socket,
// for the SYN-flood benchmark (bench/syn_flood_goodput.py, docs/benchmarks.md
// "SYN flood") and test_abuse.py's flood. Every SYN comes from the next
// source port of --src-ports (round-robin) with a random ISN and IP ID, built
// whole here (syn_packet.h) and handed to the kernel with IP_HDRINCL in
// sendmmsg bursts: the kernel routes and ARPs, nothing else. With --src an
// address the sending host owns, its kernel answers each SYN-ACK with a RST
// (it has no socket for it). With --src a prefix (A/len), every SYN comes
// from a random address inside it, as a real flood's spoofed SYNs do (RFC
// 4987 2): the SYN-ACKs go to hosts that do not exist, and whoever runs the
// flood routes or drops them (bench/syn_flood_goodput.py drops them at the
// namespace's ingress).
//
// Pacing: a token bucket (token_bucket.h) at --rate, one burst of about a
// millisecond's SYNs at a time (at most 32), sleeping in between, so the
// flooder's own CPU time stays proportional to its rate; --rate 0 sends
// bursts of 64 back to back, as fast as the socket takes them. What the
// socket refuses (ENOBUFS: a queue on the way is full; EAGAIN) is counted,
// not retried. At the end it prints what it sent and refused, the rate it
// achieved, and its own CPU time (getrusage), so a run that fell short can
// say whether the flooder ran out of CPU or the path refused.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>

#include <CLI/CLI.hpp>

#include "bench/edgebench/http_commands.h"
#include "bench/edgebench/syn_packet.h"
#include "bench/edgebench/token_bucket.h"

namespace ep::bench {

namespace {

constexpr uint32_t kMaxBurst = 64;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

struct SynfloodOptions {
    std::string src, dst;
    uint16_t port = 80;
    double rate = 0;  // SYN/s; 0: as fast as the socket takes them
    double seconds = 10;
    uint64_t count = 0;  // SYNs; 0: no limit
    std::string src_ports = "40000-65000";
    int cpu = -1;
    bool json = false;
};

uint64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double tv_s(const timeval &t) {
    return t.tv_sec + t.tv_usec / 1e6;
}

void parse_range(const std::string &s, uint16_t *lo, uint16_t *hi) {
    unsigned a = 0, b = 0;
    char tail = 0;
    if (std::sscanf(s.c_str(), "%u-%u%c", &a, &b, &tail) != 2 || a == 0 || a > b || b > 65535)
        throw CLI::ValidationError("--src-ports", "LO-HI within 1-65535: " + s);
    *lo = static_cast<uint16_t>(a);
    *hi = static_cast<uint16_t>(b);
}

uint32_t parse_addr(const std::string &s, const char *what) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1)
        throw CLI::ValidationError(what, "not an IPv4 address: " + s);
    return a.s_addr;
}

void run(const SynfloodOptions &o) {
    SynSpec spec;
    uint32_t src_net = 0, src_host_mask = 0;
    if (!parse_syn_source(o.src, &src_net, &src_host_mask))
        throw CLI::ValidationError("--src", "A or A/len with len 8-32: " + o.src);
    spec.src_be = htonl(src_net);
    spec.dst_be = parse_addr(o.dst, "--dst");
    spec.dport = o.port;
    uint16_t lo = 0, hi = 0;
    parse_range(o.src_ports, &lo, &hi);
    if (o.rate < 0) throw CLI::ValidationError("--rate", "SYN/s, 0 for as fast as possible");
    if (o.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(o.cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            throw CLI::RuntimeError(
                std::string("edgebench synflood: --cpu: ") + std::strerror(errno), 1);
    }
    // IPPROTO_RAW implies IP_HDRINCL: the kernel sends our IPv4 header as is.
    const int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0)
        throw CLI::RuntimeError(
            std::string("edgebench synflood: raw socket (root?): ") + std::strerror(errno), 1);
    const int sndbuf = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

    // sigaction without SA_RESTART: a signal ends a blocked sendmmsg (EINTR).
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = spec.dst_be;
    uint8_t pkts[kMaxBurst][kSynPacketLen];
    iovec iov[kMaxBurst];
    mmsghdr msgs[kMaxBurst];
    std::memset(msgs, 0, sizeof msgs);
    for (uint32_t i = 0; i < kMaxBurst; ++i) {
        iov[i] = {pkts[i], kSynPacketLen};
        msgs[i].msg_hdr.msg_name = &to;
        msgs[i].msg_hdr.msg_namelen = sizeof to;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    // Wake up about once a millisecond for a burst of that many SYNs; the
    // bucket holds two bursts so a sleep that overshoots loses nothing.
    const uint32_t burst =
        o.rate > 0 ? static_cast<uint32_t>(std::clamp(o.rate / 1000, 1.0, kMaxBurst / 2.0))
                   : kMaxBurst;
    const uint32_t depth = o.rate > 0 ? 2 * burst : kMaxBurst;
    std::mt19937_64 rng(std::random_device{}());
    const uint64_t t0 = now_ns();
    const uint64_t end = o.seconds > 0 ? t0 + static_cast<uint64_t>(o.seconds * 1e9) : UINT64_MAX;
    TokenBucket bucket(o.rate > 0 ? o.rate : 1, depth, t0);
    uint64_t sent = 0, refused = 0;
    uint32_t next_port = lo;
    std::printf("flooding %s:%u from %s ports %u-%u at %.0f SYN/s (0: max)\n", o.dst.c_str(),
                o.port, o.src.c_str(), lo, hi, o.rate);
    std::fflush(stdout);
    uint64_t now = t0;
    const uint64_t limit = o.count ? o.count : UINT64_MAX;
    while (!g_stop && now < end && sent + refused < limit) {
        uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(depth, limit - sent - refused));
        if (o.rate > 0) {
            n = bucket.take(now, n);
            if (n == 0) {
                const uint64_t w = bucket.wait_ns(burst);
                const timespec ts{static_cast<time_t>(w / 1'000'000'000),
                                  static_cast<long>(w % 1'000'000'000)};
                nanosleep(&ts, nullptr);
                now = now_ns();
                continue;
            }
        }
        for (uint32_t i = 0; i < n; ++i) {
            const uint64_t r = rng();
            spec.sport = static_cast<uint16_t>(next_port);
            next_port = next_port == hi ? lo : next_port + 1;
            spec.seq = static_cast<uint32_t>(r);
            spec.ip_id = static_cast<uint16_t>(r >> 32);
            if (src_host_mask)
                spec.src_be = htonl(src_net | (static_cast<uint32_t>(rng()) & src_host_mask));
            build_syn(spec, pkts[i]);
        }
        for (uint32_t off = 0; off < n && !g_stop;) {
            const int k = sendmmsg(fd, msgs + off, n - off, 0);
            if (k > 0) {
                sent += k;
                off += k;
            } else if (k < 0 && (errno == ENOBUFS || errno == EAGAIN)) {
                ++refused;  // this SYN is lost; the next ones are tried
                ++off;
            } else if (k == 0 || errno != EINTR) {
                close(fd);
                throw CLI::RuntimeError(
                    std::string("edgebench synflood: sendmmsg: ") + std::strerror(errno), 1);
            }
        }
        now = now_ns();
    }
    close(fd);
    const double secs = (now_ns() - t0) / 1e9;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double user = tv_s(ru.ru_utime), sys = tv_s(ru.ru_stime);
    if (o.json)
        std::printf(
            "{\"sent\":%llu,\"refused\":%llu,\"seconds\":%.3f,\"rate\":%.1f,\"target\":%.1f,"
            "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"cpu_share\":%.4f}\n",
            (unsigned long long)sent, (unsigned long long)refused, secs, sent / secs, o.rate, user,
            sys, (user + sys) / secs);
    else
        std::printf(
            "sent %llu refused %llu in %.2f s: %.0f SYN/s (asked %s); CPU %.2f s user + %.2f s sys "
            "(%.0f %% of one core)\n",
            (unsigned long long)sent, (unsigned long long)refused, secs, sent / secs,
            o.rate > 0 ? std::to_string(static_cast<long long>(o.rate)).c_str() : "max", user, sys,
            100 * (user + sys) / secs);
    std::fflush(stdout);
}

}  // namespace

void register_synflood(CLI::App &app) {
    auto o = std::make_shared<SynfloodOptions>();
    CLI::App *c =
        app.add_subcommand("synflood", "bare TCP SYNs at a paced rate (raw socket, root)");
    c->add_option("--src", o->src,
                  "source of the SYNs: an address, or A/len for random (spoofed) addresses in it")
        ->required();
    c->add_option("--dst", o->dst, "address flooded")->required();
    c->add_option("--port", o->port, "port flooded")->capture_default_str();
    c->add_option("--rate", o->rate, "SYN/s (0: as fast as the socket takes them)")
        ->capture_default_str();
    c->add_option("--seconds", o->seconds, "how long (0: until SIGINT/SIGTERM)")
        ->capture_default_str();
    c->add_option("--count", o->count, "stop after this many SYNs (0: no limit)")
        ->capture_default_str();
    c->add_option("--src-ports", o->src_ports, "source ports LO-HI, round-robin")
        ->capture_default_str();
    c->add_option("--cpu", o->cpu, "pin to this CPU");
    c->add_flag("--json", o->json, "the result as one JSON object");
    c->callback([o] { run(*o); });
}

}  // namespace ep::bench
