// `edgebench dns`: DNS query load over DPDK (memif), for the server's cycles
// per answered query (docs/benchmarks.md, issue 13). Keeps --window queries
// in flight, one name and type, optionally with an EDNS Client Subnet option
// (RFC 7871) so the answer is steered; every response is checked: QR set,
// the id of a query in flight, the question echoed, and the expected rcode
// with at least --min-answers records. The server's cycles come from its own
// counters (busy_cycles / dns.queries, bench/edgebench/dns_bench.py).
//
// The port, the frames and the send window are udp_load.h's, shared with
// `edgebench udp` and `edgebench tracker --dpdk-port`.
#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/edgebench/dns_ids.h"
#include "bench/edgebench/http_commands.h"
#include "bench/edgebench/udp_load.h"
#include "dataplane/dns/wire.h"
#include "dataplane/dns/zone_table.h"
#include "dataplane/net/udp/handler.h"

namespace ep::bench {

namespace {

struct DnsCmdOptions {
    UdpLoadOptions load{.server_port = 53, .src_port = 40053};
    std::string name = "www.example.test";
    std::string type = "A";
    std::string ecs;  // "198.51.100.0/24": an ECS option in every query
    uint32_t window = 256;
    double duration_s = 5;
    uint64_t max_queries = 0;
    uint32_t min_answers = 1;
    bool json = false;
};

// The query, built once; the id is patched per query.
std::vector<uint8_t> make_query(const DnsCmdOptions &o) {
    uint8_t name[dns::kMaxName];
    uint32_t nlen = 0;
    std::string n = o.name;
    if (!n.empty() && n.back() == '.') n.pop_back();
    if (!dns::name_from_text(n.c_str(), name, &nlen))
        throw CLI::ValidationError("--name", "not a domain name: " + o.name);
    uint16_t qtype;
    if (o.type == "A")
        qtype = dns::kA;
    else if (o.type == "AAAA")
        qtype = dns::kAAAA;
    else if (o.type == "TXT")
        qtype = dns::kTXT;
    else if (o.type == "NS")
        qtype = dns::kNS;
    else if (o.type == "SOA")
        qtype = dns::kSOA;
    else
        throw CLI::ValidationError("--type", "A, AAAA, TXT, NS or SOA");
    std::vector<uint8_t> q(12, 0);
    dns::put16(q.data() + 4, 1);  // QDCOUNT; RD clear: we ask an authority
    q.insert(q.end(), name, name + nlen);
    uint8_t t[4];
    dns::put16(t, qtype);
    dns::put16(t + 2, dns::kClassIN);
    q.insert(q.end(), t, t + 4);
    if (!o.ecs.empty()) {
        const auto slash = o.ecs.find('/');
        uint8_t addr[16];
        int fam = 0;
        const std::string a = o.ecs.substr(0, slash);
        if (inet_pton(AF_INET, a.c_str(), addr) == 1)
            fam = 1;
        else if (inet_pton(AF_INET6, a.c_str(), addr) == 1)
            fam = 2;
        const int len = slash == std::string::npos ? -1 : std::atoi(o.ecs.c_str() + slash + 1);
        if (!fam || len < 0 || len > (fam == 1 ? 32 : 128))
            throw CLI::ValidationError("--ecs", "ADDRESS/LEN, e.g. 198.51.100.0/24");
        const uint32_t alen = (static_cast<uint32_t>(len) + 7) / 8;
        // OPT (RFC 6891 6.1.2): root owner, payload 1232, one ECS option.
        dns::put16(q.data() + 10, 1);
        uint8_t opt[11 + 8] = {0};
        dns::put16(opt + 1, dns::kOPT);
        dns::put16(opt + 3, 1232);
        dns::put16(opt + 9, static_cast<uint16_t>(8 + alen));
        dns::put16(opt + 11, dns::kOptEcs);
        dns::put16(opt + 13, static_cast<uint16_t>(4 + alen));
        dns::put16(opt + 15, static_cast<uint16_t>(fam));
        opt[17] = static_cast<uint8_t>(len);
        opt[18] = 0;  // SCOPE
        q.insert(q.end(), opt, opt + sizeof opt);
        q.insert(q.end(), addr, addr + alen);
    }
    return q;
}

// Counts and checks the responses arriving at our source port.
struct ResponseSink final : net::udp::Handler {
    const std::vector<uint8_t> *query = nullptr;
    uint32_t min_answers = 1;
    uint64_t answered = 0, bad = 0, truncated = 0, unknown_id = 0;
    DnsIdsInFlight ids;
    int on_datagram(net::udp::Datagram &d) override {
        const std::vector<uint8_t> &q = *query;
        const uint32_t qend =
            12 + static_cast<uint32_t>(dns::name_len(q.data() + 12) + 4);  // header + question
        if (d.len < 12 || !ids.answer(dns::get16(d.payload))) {
            ++unknown_id;  // not a query in flight (or answered twice): bad
            ++bad;
            return -1;
        }
        bool ok = d.len >= qend && (d.payload[2] & 0x80) &&
                  std::memcmp(d.payload + 12, q.data() + 12, qend - 12) == 0 &&
                  (d.payload[3] & 0x0f) == dns::kNoError;
        if (ok && (d.payload[2] & 0x02)) ++truncated;
        if (ok) ok = dns::get16(d.payload + 6) >= min_answers;
        ok ? ++answered : ++bad;
        return -1;
    }
};

void run(DnsCmdOptions &o) {
    UdpLoad load("dns", o.load);
    const std::vector<uint8_t> query = make_query(o);
    ResponseSink sink;
    sink.query = &query;
    sink.min_answers = o.min_answers;
    load.open(&sink);
    const auto size = static_cast<uint16_t>(query.size());
    const WindowRun w = load.run(
        o.duration_s, o.max_queries, o.window,
        [&](uint64_t seq) {
            return load.frame(size, [&](uint8_t *p) {
                std::memcpy(p, query.data(), size);
                dns::put16(p, DnsIdsInFlight::id_of(seq));  // the id
                sink.ids.sent(seq);
            });
        },
        [&] { return sink.answered + sink.bad; });
    const uint64_t sent = w.sent, alloc_failed = w.alloc_failed, tx_refused = w.tx_refused;
    const double secs = w.seconds();
    const uint64_t lost = sent - sink.answered - sink.bad;
    if (o.json)
        std::printf(
            "{\"seconds\":%.6f,\"window\":%u,\"sent\":%llu,\"answered\":%llu,\"bad\":%llu,"
            "\"truncated\":%llu,\"unknown_id\":%llu,\"lost\":%llu,\"tx_refused\":%llu,"
            "\"alloc_failed\":%llu,\"answers_per_s\":%.1f}\n",
            secs, o.window, (unsigned long long)sent, (unsigned long long)sink.answered,
            (unsigned long long)sink.bad, (unsigned long long)sink.truncated,
            (unsigned long long)sink.unknown_id, (unsigned long long)lost,
            (unsigned long long)tx_refused, (unsigned long long)alloc_failed,
            static_cast<double>(sink.answered) / secs);
    else
        std::printf(
            "%llu sent, %llu answered as expected, %llu bad (%llu with an id not in flight), %llu "
            "lost in %.2f s: %.0f/s\n",
            (unsigned long long)sent, (unsigned long long)sink.answered,
            (unsigned long long)sink.bad, (unsigned long long)sink.unknown_id,
            (unsigned long long)lost, secs, static_cast<double>(sink.answered) / secs);
    load.close();
    if (sink.bad) throw CLI::RuntimeError("edgebench dns: unexpected responses", 1);
}

}  // namespace

void register_dns(CLI::App &app) {
    auto o = std::make_shared<DnsCmdOptions>();
    CLI::App *c = app.add_subcommand("dns", "DNS query load over DPDK (server cost per query)");
    add_udp_load_options(c, o->load, "server's DNS port");
    c->add_option("--name", o->name, "query name")->capture_default_str();
    c->add_option("--type", o->type, "query type (A, AAAA, TXT, NS, SOA)")->capture_default_str();
    c->add_option("--ecs", o->ecs, "EDNS Client Subnet in every query, ADDRESS/LEN (RFC 7871)");
    c->add_option("--min-answers", o->min_answers, "answer records a good response has")
        ->capture_default_str();
    c->add_option("--window", o->window, "queries in flight (ids are 16 bits: at most 65535)")
        ->check(CLI::Range(1u, DnsIdsInFlight::kMaxWindow))
        ->capture_default_str();
    c->add_option("-d,--duration", o->duration_s, "seconds of load")->capture_default_str();
    c->add_option("-n,--queries", o->max_queries, "stop after this many (0: no limit)");
    c->add_flag("--json", o->json, "one JSON object on stdout");
    c->callback([o] { run(*o); });
}

}  // namespace ep::bench
