#include "control/service_table.h"

#include <cstdio>

#include "control/dns_zones.h"
#include "dataplane/discard_server.h"
#include "dataplane/dns_service.h"
#include "dataplane/http_server.h"
#include "dataplane/lcore.h"
#include "dataplane/tracker_service.h"
#include "dataplane/udp_echo.h"

namespace ep {

namespace {

std::unique_ptr<Service> make_http(const ServiceEnv &env, std::string *err) {
    if (env.cfg.http_port == 0) return nullptr;
    auto srv = std::make_unique<HttpServer>(env.http_cfg);
    if (!srv->init(env.stack, env.store, env.lc->reader_id, env.cfg.http_max_conns,
                   static_cast<uint16_t>(env.cfg.http_port), env.access)) {
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

// BEP 15 tracker: one instance per queue, each writing the shard of its
// lcore in the shared table (dataplane/swarm/tracker_table.h).
std::unique_ptr<Service> make_tracker(const ServiceEnv &env, std::string *err) {
    if (env.cfg.tracker_port == 0 || !env.tracker) return nullptr;
    auto t = std::make_unique<TrackerService>(env.tracker, env.lc->reader_id,
                                              0x9E3779B97F4A7C15ull * (env.lc->lcore_id + 1) +
                                                  env.q->queue);
    if (!env.q->udp.bind(static_cast<uint16_t>(env.cfg.tracker_port), t.get())) {
        *err = "tracker: UDP port " + std::to_string(env.cfg.tracker_port) + " is taken";
        return nullptr;
    }
    return t;
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
    {"http", make_http, nullptr, http_port},
    {"discard", make_discard, discard_commands, discard_port},
    {"udp_echo", make_udp_echo, nullptr, nullptr},
    {"tracker", make_tracker, nullptr, nullptr},
    {"dns", make_dns, dns_commands, dns_tcp_port},
};

}  // namespace

std::span<const ServiceRow> service_table() {
    return kServices;
}

}  // namespace ep
