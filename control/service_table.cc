#include "control/service_table.h"

#include <rte_random.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "control/dns_zones.h"
#include "control/torrents.h"
#include "dataplane/discard_server.h"
#include "dataplane/dns_service.h"
#include "dataplane/http_server.h"
#include "dataplane/lcore.h"
#include "dataplane/origin/origin_table.h"
#include "dataplane/port.h"
#include "dataplane/tracker_service.h"
#include "dataplane/udp_echo.h"

namespace ep {

namespace {

// ---- http: one HttpConfig for every queue's server, derived from cfg once,
// and the origin routes (pull on miss) every queue's fill client reads.
http::HttpConfig &http_config() {
    static http::HttpConfig c;
    return c;
}
origin::Table &origin_routes() {
    static origin::Table t;
    return t;
}

bool setup_http(const ServiceSetup &s, std::string *err) {
    http::HttpConfig &c = http_config();
    c.header_timeout_ms = s.cfg.http_header_timeout_ms;
    c.idle_timeout_ms = s.cfg.http_idle_timeout_ms;
    c.send_timeout_ms = uint64_t{s.cfg.http_send_timeout_s} * 1000;
    c.pin_conn_bytes = s.cfg.http_pin_conn_kb * 1024;
    c.pin_ram_pct = s.cfg.http_pin_ram_pct;
    c.pin_servers = s.queues;  // the pinned-RAM share is split between them
    origin::Table &t = origin_routes();
    t = origin::Table{};
    for (const std::string &o : s.cfg.origins) {
        origin::Route r;
        const char *why = "";
        if (!origin::parse_route(o, &r, &why) || !t.add(r)) {
            *err = "--origin '" + o + "': " + (*why ? why : "a prefix given twice");
            return false;
        }
    }
    if (t.size() > 0 && !s.store) {
        *err = "--origin needs the chunk store";
        return false;
    }
    return true;
}

std::unique_ptr<Service> make_http(const ServiceEnv &env, std::string *err) {
    if (env.cfg.http_port == 0) return nullptr;
    auto srv = std::make_unique<HttpServer>(http_config());
    OriginConfig oc;
    oc.routes = origin_routes().size() ? &origin_routes() : nullptr;
    oc.local_ip_be = env.q->port->addr.ip;
    oc.fetches = env.cfg.origin_fetches;
    oc.table = std::max(64u, env.cfg.origin_fetches * 8);
    oc.readahead = env.cfg.origin_readahead;
    oc.timeout_ms = env.cfg.origin_timeout_ms;
    oc.fail_hold_ms = env.cfg.origin_fail_hold_ms;
    oc.stale_if_error_s = env.cfg.origin_stale_if_error_s;
    if (!srv->init(env.stack, env.store, env.lc->reader_id, env.cfg.http_max_conns,
                   static_cast<uint16_t>(env.cfg.http_port), env.access, &oc)) {
        *err = "HTTP server: cannot start";
        return nullptr;
    }
    return srv;
}

std::unique_ptr<Service> make_discard(const ServiceEnv &env, std::string *err) {
    if (env.cfg.discard_port == 0) return nullptr;
    auto sink = std::make_unique<DiscardServer>();
    if (!sink->init(env.stack, 256, static_cast<uint16_t>(env.cfg.discard_port))) {
        *err = "discard service: cannot start";
        return nullptr;
    }
    return sink;
}

void discard_commands(AdminSocket &admin, const Config &cfg,
                      const std::vector<std::unique_ptr<Service>> &all) {
    admin.add_command(
        "sink", "receipts of the discard service: bytes and XXH3-64 per closed connection",
        [&cfg, &all](auto &, Reply &out) {
            if (cfg.discard_port == 0)
                return out.write(
                    "error: the discard service is off (start edgeplane with --discard-port N)\n");
            for (const auto &s : all) {
                if (s->name() != "discard") continue;
                SinkReceipt r[DiscardServer::kReceipts];
                const uint32_t n = static_cast<const DiscardServer &>(*s).receipts(r);
                for (uint32_t i = 0; i < n; ++i) {
                    char line[64];
                    std::snprintf(line, sizeof line, "%llu %016llx\n",
                                  static_cast<unsigned long long>(r[i].bytes),
                                  static_cast<unsigned long long>(r[i].xxh3));
                    out.write(line);
                }
            }
        });
}

std::unique_ptr<Service> make_udp_echo(const ServiceEnv &env, std::string *err) {
    if (env.cfg.udp_echo_port == 0) return nullptr;
    auto echo = std::make_unique<UdpEchoServer>();
    if (!env.q->udp.bind(static_cast<uint16_t>(env.cfg.udp_echo_port), echo.get())) {
        *err = "UDP echo: port " + std::to_string(env.cfg.udp_echo_port) + " is taken";
        return nullptr;
    }
    return echo;
}

uint16_t http_port(const Config &cfg) {
    return static_cast<uint16_t>(cfg.http_port);
}
uint16_t discard_port(const Config &cfg) {
    return static_cast<uint16_t>(cfg.discard_port);
}

// ---- tracker (BEP 15) and the torrents made at ingest (docs/swarm.md).
// What every queue's tracker shares (the swarm table, one shard per lcore;
// the connection-id keys; the set of our own info hashes) and the torrents
// of the store live here, made by setup_swarm and gone in teardown_swarm
// once no service points at them.
std::unique_ptr<TrackerShared> &tracker_shared() {
    static std::unique_ptr<TrackerShared> t;
    return t;
}
std::unique_ptr<Torrents> &torrents() {
    static std::unique_ptr<Torrents> t;
    return t;
}

bool setup_swarm(const ServiceSetup &s, std::string *) {
    const Config &cfg = s.cfg;
    const std::string ip = s.ip_be ? ipv4_to_string(s.ip_be) : "127.0.0.1";
    if (cfg.tracker_port) {
        swarm::TrackerConfig tc;
        tc.interval_s = cfg.tracker_interval_s;
        tc.open = cfg.tracker_open;
        swarm::TableConfig t;
        t.shards = s.lcores;
        t.swarms_per_shard = cfg.tracker_swarms;
        t.peers_per_swarm = cfg.tracker_peers;
        tracker_shared() = std::make_unique<TrackerShared>(tc, t, rte_rand(), rte_rand());
    }
    if (!s.store) return true;
    TorrentUrls urls;
    if (cfg.tracker_port) {
        urls.announce_udp = "udp://" + ip + ":" + std::to_string(cfg.tracker_port) + "/announce";
        // The HTTP announce (BEP 3/23) is not served yet: noted, not advertised.
        urls.announce_http = "http://" + ip + ":" + std::to_string(cfg.tracker_port) + "/announce";
    }
    if (cfg.http_port)
        urls.http_base =
            "http://" + ip + (cfg.http_port == 80 ? "" : ":" + std::to_string(cfg.http_port));
    torrents() = std::make_unique<Torrents>(*s.store, urls);
    if (tracker_shared()) torrents()->set_tracker_set(&tracker_shared()->ours);
    const size_t n = torrents()->load_existing();
    if (n) std::printf("edgeplane: %zu torrents in the store\n", n);
    return true;
}

void teardown_swarm() {
    torrents().reset();
    tracker_shared().reset();
}

// One instance per queue, each writing the shard of its lcore in the shared
// table (dataplane/swarm/tracker_table.h).
std::unique_ptr<Service> make_tracker(const ServiceEnv &env, std::string *err) {
    TrackerShared *shared = tracker_shared().get();
    if (env.cfg.tracker_port == 0 || !shared) return nullptr;
    auto t = std::make_unique<TrackerService>(shared, env.lc->reader_id,
                                              0x9E3779B97F4A7C15ull * (env.lc->lcore_id + 1) +
                                                  env.q->queue);
    if (!env.q->udp.bind(static_cast<uint16_t>(env.cfg.tracker_port), t.get())) {
        *err = "tracker: UDP port " + std::to_string(env.cfg.tracker_port) + " is taken";
        return nullptr;
    }
    return t;
}

void swarm_commands(AdminSocket &admin, const Config &cfg,
                    const std::vector<std::unique_ptr<Service>> &) {
    admin.add_command(
        "torrent", "torrent NAME: info hash, magnet link and .torrent URL of a stored torrent",
        [&cfg](const std::vector<std::string> &args, Reply &out) {
            if (args.size() != 2) return out.write("error: usage: torrent NAME\n");
            Torrents *t = torrents().get();
            const TorrentInfo *ti = t ? t->find(args[1]) : nullptr;
            if (!ti) return out.write("error: no torrent for " + args[1] + "\n");
            out.write("info_hash " + swarm::hex(ti->info_hash) + "\n");
            out.write("magnet " + t->magnet(*ti) + "\n");
            out.write("object " + ti->object + "\n");
            out.write("pieces " + std::to_string(ti->pieces) + " length " +
                      std::to_string(ti->length) + "\n");
            if (cfg.http_port && !t->urls().http_base.empty())
                out.write("url " + t->urls().http_base + "/" + ti->object + "\n");
            for (const std::string &tr : ti->trackers) out.write("tracker " + tr + "\n");
        });
    admin.add_command("torrents", "list stored torrents: info hash, pieces, name",
                      [](auto &, Reply &out) {
                          Torrents *t = torrents().get();
                          if (!t) return;
                          for (const auto &[obj, ti] : t->all())
                              out.write(swarm::hex(ti.info_hash) + " " + std::to_string(ti.pieces) +
                                        " " + obj + "\n");
                      });
}

// A directory under a prefix (a DASH title) becomes one multi-file torrent
// named after it; anything else one torrent per object. Existing torrents
// stay tracked either way.
void swarm_on_ingest(const Config &cfg, const IngestEvent &ev, Reply &out) {
    Torrents *t = torrents().get();
    if (!t || !cfg.torrents) return;
    std::error_code ec;
    const bool dir = std::filesystem::is_directory(ev.path, ec);
    std::string p = ev.prefix;
    while (!p.empty() && p.back() == '/') p.pop_back();
    // A title needs a prefix: its web seed is <base>/<prefix>/.
    std::string title;
    if (dir && !p.empty()) title = p.substr(p.rfind('/') == std::string::npos ? 0 : p.rfind('/') + 1);
    for (const std::string &l : t->make(ev.stored, p.empty() ? "" : p + "/", title))
        out.write(l + "\n");
}

// The zone table every queue's DNS service reads: loaded and published once,
// on the control thread, when the first queue's service is built.
DnsZones &dns_zones() {
    static DnsZones zones;
    return zones;
}
// The static steering table (--dns-steer), read-only once built.
dns::StaticSteering &dns_steering() {
    static dns::StaticSteering steering;
    return steering;
}

std::unique_ptr<Service> make_dns(const ServiceEnv &env, std::string *err) {
    if (env.cfg.dns_port == 0) return nullptr;
    if (!dns_zones().current()) {
        if (!dns_zones().load(env.cfg.dns_zones, err)) {
            *err = "zone rejected: " + *err;
            return nullptr;
        }
        if (!parse_steering(env.cfg.dns_steer, *dns_zones().current(), &dns_steering(), err))
            return nullptr;
    }
    DnsConfig dc;
    dc.zones = dns_zones().source();
    if (!env.cfg.dns_steer.empty()) dc.steering = &dns_steering();
    dc.max_udp = static_cast<uint16_t>(env.cfg.dns_max_udp);
    dc.tcp_max_conns = env.cfg.dns_tcp_conns;
    auto srv = std::make_unique<DnsService>(dc);
    const auto port = static_cast<uint16_t>(env.cfg.dns_port);
    if (!env.q->udp.bind(port, srv.get())) {
        *err = "DNS: UDP port " + std::to_string(port) + " is taken";
        return nullptr;
    }
    if (dc.tcp_max_conns && !srv->init_tcp(env.stack, port)) {
        *err = "DNS: cannot listen on TCP port " + std::to_string(port);
        return nullptr;
    }
    return srv;
}

void dns_commands(AdminSocket &admin, const Config &cfg,
                  const std::vector<std::unique_ptr<Service>> &) {
    admin.add_command("zones", "zones the DNS service answers for: apex, SOA serial, records",
                      [&cfg](auto &, Reply &out) {
                          const dns::ZoneTable *t = dns_zones().current();
                          if (cfg.dns_port == 0 || !t)
                              return out.write(
                                  "error: the DNS service is off (start edgeplane with "
                                  "--dns-port 53 --dns-zone FILE)\n");
                          for (uint32_t i = 0; i < t->zone_count(); ++i) {
                              const dns::ZoneTable::Zone *z = t->zone(i);
                              out.write(dns::name_to_text(t->node_name(t->node(z->apex))) +
                                        " serial " + std::to_string(z->serial) + " records " +
                                        std::to_string(z->records) + "\n");
                          }
                      });
}

// DNS listens on TCP too (RFC 7766) unless --dns-tcp-conns 0: a drain stops it.
uint16_t dns_tcp_port(const Config &cfg) {
    return cfg.dns_tcp_conns ? static_cast<uint16_t>(cfg.dns_port) : 0;
}

constexpr ServiceRow kServices[] = {
    {"http", make_http, nullptr, http_port, setup_http},
    {"discard", make_discard, discard_commands, discard_port},
    {"udp_echo", make_udp_echo, nullptr, nullptr},
    {"tracker", make_tracker, swarm_commands, nullptr, setup_swarm, teardown_swarm,
     swarm_on_ingest},
    {"dns", make_dns, dns_commands, dns_tcp_port},
};

}  // namespace

std::span<const ServiceRow> service_table() {
    return kServices;
}

}  // namespace ep
