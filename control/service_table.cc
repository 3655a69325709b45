#include "control/service_table.h"

#include <arpa/inet.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "control/cluster/model_load.h"
#include "control/cluster/mpd_steering.h"
#include "control/dns_tables.h"
#include "control/dns_zones.h"
#include "control/http_steer_tables.h"
#include "control/log.h"
#include "control/origin_resolver.h"
#include "control/probe_row.h"
#include "control/swarm_choker_config.h"
#include "control/torrents.h"
#include "dataplane/discard_server.h"
#include "dataplane/dns_service.h"
#include "dataplane/http/content_type.h"
#include "dataplane/http_server.h"
#include "dataplane/lcore.h"
#include "dataplane/origin/origin_table.h"
#include "dataplane/port.h"
#include "dataplane/swarm/magnet.h"
#include "dataplane/swarm_discovery.h"
#include "dataplane/swarm_fetch.h"
#include "dataplane/tcp_io.h"
#include "dataplane/swarm_service.h"
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
chunkstore::Store *&steer_store() {
    static chunkstore::Store *s = nullptr;
    return s;
}
// Every route table published (the first at setup, one per reload that
// changed --origin), kept until teardown: a fetch under way may point into
// an older one. The lcores read the current one from origin_live().
std::vector<std::unique_ptr<origin::Table>> &origin_tables() {
    static std::vector<std::unique_ptr<origin::Table>> v;
    return v;
}
std::atomic<const origin::Table *> &origin_live() {
    static std::atomic<const origin::Table *> p{nullptr};
    return p;
}
// Origin names (control/origin_resolver.h): the routes as configured (named
// servers without addresses), the resolver thread, and the generation of
// its results the last published table was built from.
struct OriginNames {
    origin::Table base;
    std::unique_ptr<OriginResolver> resolver;
    uint64_t published_gen = 0;
    bool counters_shown = false;  // one fill client shows the resolver's counters
};
OriginNames &origin_names_state() {
    static OriginNames n;
    return n;
}
// Publishes `base` with the addresses the resolver knows (the lcores take
// it at their next poll; the old tables stay until teardown).
void publish_routes(const origin::Table &base) {
    auto t = std::make_unique<origin::Table>(base);
    OriginNames &n = origin_names_state();
    if (n.resolver) fill_addresses(t.get(), n.resolver->results());
    origin_live().store(t.get(), std::memory_order_release);
    origin_tables().push_back(std::move(t));
}
// Parses every --origin value into a table; false with the reason.
bool build_routes(const std::vector<std::string> &origins, origin::Table *t, std::string *err) {
    for (const std::string &o : origins) {
        origin::Route r;
        const char *why = "";
        if (!origin::parse_route(o, &r, &why) || !t->add(r)) {
            *err = "--origin '" + o + "': " + (*why ? why : "a prefix given twice");
            return false;
        }
    }
    return true;
}
// The pin limits every ChunkStream (HTTP's and the peer wire's) follows; a
// reload publishes new ones (PinLimits: a sequence lock the lcores read
// once per sweep).
PinLimits &pin_limits() {
    static PinLimits l;
    return l;
}

std::unique_ptr<TrackerShared> &tracker_shared();  // the tracker row's, below

bool setup_http(const ServiceSetup &s, std::string *err) {
    http::HttpConfig &c = http_config();
    c.header_timeout_ms = s.cfg.http_header_timeout_ms;
    c.idle_timeout_ms = s.cfg.http_idle_timeout_ms;
    c.send_timeout_ms = uint64_t{s.cfg.http_send_timeout_s} * 1000;
    c.pin_conn_bytes = s.cfg.http_pin_conn_kb * 1024;
    c.pin_ram_pct = s.cfg.http_pin_ram_pct;
    pin_limits().publish(c.pin_conn_bytes, c.pin_ram_pct);
    // The pinned-RAM share is split between every ChunkStream: HTTP's and,
    // with the peer wire on, as many of the swarm's (its setup does the same).
    c.pin_servers = s.queues * (s.cfg.swarm_port ? 2 : 1);
    auto t = std::make_unique<origin::Table>();
    if (!build_routes(s.cfg.origins, t.get(), err)) return false;
    if (t->size() > 0 && !s.store) {
        *err = "--origin needs the chunk store";
        return false;
    }
    // Cluster steering: cluster selection publishes into these tables
    // (control/cluster_control.cc) once it knows which cluster we are.
    if (!s.cfg.clusters.empty() && !s.cfg.cluster_self.empty() &&
        (s.cfg.http_redirect || s.cfg.dash_steering)) {
        c.redirect = s.cfg.http_redirect;
        c.redirect_margin_ms = s.cfg.http_redirect_margin_ms;
        c.dash_steering = s.cfg.dash_steering;
        c.steer_ttl_s = s.cfg.dash_steer_ttl_s;
        c.steer_min_kbps = s.cfg.dash_steer_min_kbps;
        auto st = std::make_unique<HttpSteerTables>();
        if (!st->init(s.queues, err)) return false;
        http_steer_tables_slot() = std::move(st);
        steer_store() = s.store;
    }
    origin_tables().clear();
    OriginNames &names = origin_names_state();
    names.resolver.reset();  // a previous life's (stops its thread)
    names.base = *t;
    names.published_gen = 0;
    names.counters_shown = false;
    if (std::vector<std::string> nm = origin_names(*t); !nm.empty()) {
        // Looked up on the resolver's thread: the first round starts now;
        // until it answers, named servers are "unresolved" (never tried).
        names.resolver = std::make_unique<OriginResolver>();
        names.resolver->start(std::move(nm), s.cfg.origin_resolve_s);
    }
    origin_live().store(t->size() ? t.get() : nullptr, std::memory_order_release);
    origin_tables().push_back(std::move(t));
    return true;
}

// Every control-loop tick: the resolver found other addresses, so the
// routes are published anew with them.
void tick_http() {
    OriginNames &n = origin_names_state();
    if (!n.resolver || !origin_live().load(std::memory_order_relaxed)) return;
    const uint64_t g = n.resolver->generation();
    if (g == n.published_gen) return;
    n.published_gen = g;
    publish_routes(n.base);
    for (const auto &[name, r] : n.resolver->results()) {
        char ip[INET_ADDRSTRLEN] = "-";
        if (r.ip_be) inet_ntop(AF_INET, &r.ip_be, ip, sizeof ip);
        if (r.error.empty())
            EP_LOG(NOTICE, "origin: %s is %s", name.c_str(), ip);
        else
            EP_LOG(WARNING, "origin: %s does not resolve: %s", name.c_str(), r.error.c_str());
    }
}

void teardown_http() {
    if (OriginNames &n = origin_names_state(); n.resolver) {
        n.resolver->stop();
        n.resolver.reset();
    }
    origin_live().store(nullptr, std::memory_order_relaxed);
    origin_tables().clear();
    http_steer_tables_slot().reset();
}

// --origin on reload: a new table is built and checked whole (a bad route
// rejects the reload, the running routes keep serving), then published;
// each lcore's fill client takes it at its next poll. Fetches under way
// finish against the route they started with. An appliance started
// without --origin has no fill clients (their buffers are made at start).
bool reload_origins(const ServiceReload &r, std::string *err) {
    OriginNames &names = origin_names_state();
    if (r.next.origins == r.old_cfg.origins) {
        // Same routes: their names are looked up again all the same.
        if (names.resolver) names.resolver->kick();
        return true;
    }
    auto t = std::make_unique<origin::Table>();
    if (!build_routes(r.next.origins, t.get(), err)) return false;
    if (!origin_live().load(std::memory_order_relaxed)) {
        *err = "--origin: this appliance started without origins; adding them needs a restart";
        return false;
    }
    r.out.write("http: origin routes " + std::to_string(r.old_cfg.origins.size()) + " -> " +
                std::to_string(t->size()) + " published\n");
    names.base = *t;
    std::vector<std::string> nm = origin_names(*t);
    if (!nm.empty() && !names.resolver) {
        names.resolver = std::make_unique<OriginResolver>();
        names.resolver->start(std::move(nm), r.next.origin_resolve_s);
    } else if (names.resolver) {
        names.resolver->set_names(std::move(nm));
    }
    // Empty: every miss is a 404. Names known already keep their addresses
    // until the resolver's next round (then tick_http publishes again).
    publish_routes(names.base);
    return true;
}

// DASH content steering: every MPD an ingest stores is replaced by its
// steered form (control/cluster/mpd_steering.h): a BaseURL per cluster of
// the model, on its http host, and ContentSteering naming our /steer. Done
// once per title here so that serving it stays zero-copy.
void http_on_ingest(const Config &cfg, const IngestEvent &ev, Reply &out) {
    chunkstore::Store *store = steer_store();
    if (!http_steer_tables() || !cfg.dash_steering || !store) return;
    cluster::Model m;
    std::string err;
    if (!cluster::load_and_validate(cfg.clusters, &m, &err))
        return out.write("steering: MPDs left as they are: " + err + "\n");
    const cluster::Cluster *self = nullptr;
    for (const cluster::Cluster &c : m.clusters)
        if (c.name == cfg.cluster_self) self = &c;
    if (!self) return;
    std::error_code ec;
    const bool dir = std::filesystem::is_directory(ev.path, ec);
    for (const std::string &name : ev.stored) {
        if (name.size() < 4 || name.compare(name.size() - 4, 4, ".mpd") != 0) continue;
        std::string file = ev.path;
        if (dir) {
            std::string rel = name.substr(std::min(ev.prefix.size(), name.size()));
            while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
            file = ev.path + "/" + rel;
        }
        std::ifstream in(file, std::ios::binary);
        std::stringstream buf;
        buf << in.rdbuf();
        const std::string where = name.substr(0, name.rfind('/') + 1);  // "" or "title/"
        cluster::MpdSteering st;
        st.server =
            "http://" + cluster::http_host_of(*self) + "/" + std::string(http_config().steer_path);
        st.default_location = self->name;
        for (const cluster::Cluster &c : m.clusters)
            st.locations.emplace_back(c.name, "http://" + cluster::http_host_of(c) + "/" + where);
        std::string steered;
        if (!in || !cluster::add_content_steering(buf.str(), st, &steered, &err)) {
            out.write("steering: " + name +
                      " left as it is: " + (in ? err : "cannot read " + file) + "\n");
            continue;
        }
        timespec now{};
        clock_gettime(CLOCK_REALTIME, &now);
        const chunkstore::Status ps = store->put_object(
            name,
            std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(steered.data()),
                                     steered.size()),
            int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec, "application/dash+xml");
        if (!ps.ok())
            out.write("steering: " + name + ": " + ps.msg + "\n");
        else
            out.write("steering: " + name + " carries ContentSteering (" +
                      std::to_string(m.clusters.size()) + " pathways)\n");
    }
}

// Timeouts are read by every session from this one config: new values apply
// to the next check of each connection. Stored atomically: the lcores read
// these words as they serve (aligned 64-bit loads never tear). The pin
// limits are published to every ChunkStream (PinLimits), taken at its next
// sweep; pins above a lowered limit are released as their bytes are ACKed.
bool reload_http(const ServiceReload &r, std::string *err) {
    // The routes first: the only part that can fail, so a failure changes nothing.
    if (!reload_origins(r, err)) return false;
    http::HttpConfig &c = http_config();
    const Config &n = r.next;
    auto set = [&](const char *key, uint64_t *field, uint64_t v) {
        if (*field == v) return;
        r.out.write(std::string("http: ") + key + " " + std::to_string(*field) + " -> " +
                    std::to_string(v) + "\n");
        __atomic_store_n(field, v, __ATOMIC_RELAXED);
    };
    set("header-timeout-ms", &c.header_timeout_ms, n.http_header_timeout_ms);
    set("idle-timeout-ms", &c.idle_timeout_ms, n.http_idle_timeout_ms);
    set("send-timeout-ms", &c.send_timeout_ms, uint64_t{n.http_send_timeout_s} * 1000);
    const uint32_t conn = n.http_pin_conn_kb * 1024, pct = n.http_pin_ram_pct;
    if (conn != c.pin_conn_bytes || pct != c.pin_ram_pct) {
        r.out.write("http: pin limits " + std::to_string(c.pin_conn_bytes / 1024) + " KiB, " +
                    std::to_string(c.pin_ram_pct) + "% -> " + std::to_string(conn / 1024) +
                    " KiB, " + std::to_string(pct) + "% (HTTP and the peer wire)\n");
        c.pin_conn_bytes = conn;
        c.pin_ram_pct = pct;
        pin_limits().publish(conn, pct);
    }
    return true;
}

std::unique_ptr<Service> make_http(const ServiceEnv &env, std::string *err) {
    if (env.cfg.http_port == 0) return nullptr;
    auto srv = std::make_unique<HttpServer>(http_config());
    srv->set_pin_limits(&pin_limits());
    OriginConfig oc;
    oc.routes = origin_live().load(std::memory_order_relaxed);
    oc.live_routes = &origin_live();
    oc.local_ip_be = env.q->port->addr.ip;
    oc.fetches = env.cfg.origin_fetches;
    oc.table = std::max(64u, env.cfg.origin_fetches * 8);
    oc.readahead = env.cfg.origin_readahead;
    oc.timeout_ms = env.cfg.origin_timeout_ms;
    oc.fail_hold_ms = env.cfg.origin_fail_hold_ms;
    oc.stale_if_error_s = env.cfg.origin_stale_if_error_s;
    oc.negative_ttl_s = env.cfg.origin_negative_ttl_s;
    oc.keepalive = env.cfg.origin_keepalive;
    oc.health_interval_ms = env.cfg.origin_health_interval_ms;
    oc.health.rise = static_cast<uint8_t>(env.cfg.origin_health_rise);
    oc.health.fall = static_cast<uint8_t>(env.cfg.origin_health_fall);
    oc.health_path_len = static_cast<uint32_t>(
        std::min<size_t>(env.cfg.origin_health_path.size(), OriginConfig::kMaxHealthPath - 1));
    std::memcpy(oc.health_path, env.cfg.origin_health_path.data(), oc.health_path_len);
    // The resolver's counters are shown through one fill client only (the
    // http section sums its instances).
    if (OriginNames &nm = origin_names_state(); nm.resolver && !nm.counters_shown) {
        nm.counters_shown = true;
        oc.resolve = &nm.resolver->counters();
    }
    static_assert(kMaxPurgeNets == OriginConfig::kMaxPurgeNets);
    for (const std::string &n : env.cfg.purge_allow) {  // validated by parse_config
        uint32_t ip_be, mask_be;
        if (oc.npurge_nets == OriginConfig::kMaxPurgeNets || !parse_ipv4_prefix(n, &ip_be, &mask_be))
            continue;
        oc.purge_mask[oc.npurge_nets] = ntohl(mask_be);
        oc.purge_net[oc.npurge_nets++] = ntohl(ip_be) & ntohl(mask_be);
    }
    if (!srv->init(env.stack, env.store, env.lc->reader_id, env.cfg.http_max_conns,
                   static_cast<uint16_t>(env.cfg.http_port), env.access, &oc)) {
        *err = "HTTP server: cannot start";
        return nullptr;
    }
    srv->set_response_log(env.response_log);
    // The HTTP tracker (docs/swarm.md): the tracker row's shared state,
    // made by its setup before any queue's service; this lcore's shard, as
    // the UDP tracker on the same lcore (one thread: still one writer).
    if (TrackerShared *t = tracker_shared().get(); t && env.cfg.tracker_http)
        srv->set_tracker(t->cfg, &t->ours, &t->table, env.lc->reader_id,
                         0xC2B2AE3D27D4EB4Full * (env.lc->lcore_id + 1) + env.q->queue);
    if (HttpSteerTables *st = http_steer_tables()) {
        uint32_t id = 0;
        if (!st->add_reader(&id)) {
            *err = "HTTP: more server instances than steering RCU readers";
            return nullptr;
        }
        srv->set_steering(st->slot(), st->rcu(), id);
    }
    return srv;
}

// `edgectl origins`: one line per server of every route (per fill client
// when there are several: each data lcore checks on its own).
void http_commands(AdminSocket &admin, const Config &,
                   const std::vector<std::unique_ptr<Service>> &all) {
    admin.add_command(
        "origins",
        "origin servers: route, name/address, state (up/down/unresolved), last check and when, "
        "consecutive passes/fails, checks, fill attempts, fills served",
        [&all](auto &, Reply &out) {
            std::vector<HttpServer *> fills;
            for (const auto &svc : all)
                if (svc->name() == "http") fills.push_back(static_cast<HttpServer *>(svc.get()));
            OriginNames &names = origin_names_state();
            const auto res = names.resolver ? names.resolver->results()
                                            : std::map<std::string, OriginResolver::Result>{};
            const int64_t now = static_cast<int64_t>(std::time(nullptr));
            bool any = false;
            for (size_t q = 0; q < fills.size(); ++q) {
                OriginServerView v[origin::Table::kMaxRoutes * origin::Route::kMaxServers];
                const uint32_t n = fills[q]->origin_fill().servers_view(v, std::size(v));
                for (uint32_t i = 0; i < n; ++i) {
                    if (!v[i].table || v[i].route >= v[i].table->size()) continue;
                    const origin::Route &r = v[i].table->at(v[i].route);
                    const origin::Server &srv = r.servers[v[i].server];
                    char ip[INET_ADDRSTRLEN] = "-";
                    if (srv.ip_be) inet_ntop(AF_INET, &srv.ip_be, ip, sizeof ip);
                    std::string who = srv.name_len
                                          ? std::string(srv.name_view()) + ":" +
                                                std::to_string(srv.port) + " (" + ip + ")"
                                          : std::string(ip) + ":" + std::to_string(srv.port);
                    std::string state = !srv.resolved() ? "unresolved" : v[i].h.up ? "up" : "down";
                    if (!srv.resolved() && srv.name_len)
                        if (auto it = res.find(std::string(srv.name_view()));
                            it != res.end() && !it->second.error.empty())
                            state += " (" + it->second.error + ")";
                    std::string last = origin::check_result_name(v[i].h.last);
                    if (v[i].h.last_status) last += "/" + std::to_string(v[i].h.last_status);
                    const std::string when =
                        v[i].last_check_unix_s
                            ? std::to_string(now - v[i].last_check_unix_s) + "s ago"
                            : "never";
                    char line[512];
                    std::snprintf(line, sizeof line,
                                  "%s%s %s %s last=%s %s passes=%u fails=%u checks=%llu "
                                  "attempts=%llu fills=%llu\n",
                                  fills.size() > 1 ? ("q" + std::to_string(q) + " ").c_str() : "",
                                  std::string(r.prefix_view()).c_str(), who.c_str(), state.c_str(),
                                  last.c_str(), when.c_str(), unsigned{v[i].h.passes},
                                  unsigned{v[i].h.fails},
                                  static_cast<unsigned long long>(v[i].checks),
                                  static_cast<unsigned long long>(v[i].attempts),
                                  static_cast<unsigned long long>(v[i].fills));
                    out.write(line);
                    any = true;
                }
            }
            if (!any) out.write("no origin routes (start edgeplane with --origin)\n");
        });
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
// The peer wire's view of our torrents (info hash -> chunks), read by every
// lcore's SwarmService; and what the service instances share.
// The first queue's peer-wire service: fill mode (the first queue's
// FetchService) takes over its connections for torrents being fetched.
SwarmService *&first_swarm() {
    static SwarmService *s = nullptr;
    return s;
}

std::unique_ptr<swarm::Catalog> &swarm_catalog() {
    static std::unique_ptr<swarm::Catalog> c;
    return c;
}
SwarmConfig &swarm_config() {
    static SwarmConfig c;
    return c;
}
// The tracker's shard the control thread writes: the appliance's own
// announce for each torrent it seeds (the shards 0..lcores-1 are the data
// lcores'; each shard has one writer, docs/swarm.md).
uint32_t &own_shard() {
    static uint32_t s = 0;
    return s;
}

// A torrent made or loaded: into the catalog the peer wire serves from, and
// into our own tracker as a seeder at ip:swarm_port, so a client that only
// knows the tracker finds the appliance. The entry never expires (the
// control shard has no sweep; its expiry is the largest time).
void on_torrent(const Config &cfg, uint32_t ip_be, const TorrentInfo &ti, const std::string &bytes) {
    chunkstore::Store *store = nullptr;
    if (Torrents *t = torrents().get()) store = &t->store();
    if (!store || !swarm_catalog()) return;
    const chunkstore::ObjectMeta *tm = store->object_ctl(ti.object);
    if (!tm) return;
    // Object names: single file = the torrent object without ".torrent";
    // a title's files are "<stem>/<path>" (control/torrents.cc make()).
    const std::string stem = ti.object.substr(0, ti.object.size() - 8);
    auto entry = swarm::build_cat_torrent(
        bytes, {tm->id, tm->generation}, [&](const std::string &path, swarm::ObjectRef *o) {
            const chunkstore::ObjectMeta *m = store->object_ctl(path.empty() ? stem : stem + "/" + path);
            if (!m) return false;
            *o = {m->id, m->generation};
            return true;
        });
    if (!entry) {
        std::printf("edgeplane: torrent %s is not servable on the peer wire\n", ti.object.c_str());
        return;
    }
    swarm_catalog()->insert(std::move(entry));
    TrackerShared *tr = tracker_shared().get();
    if (!tr || !ip_be || !cfg.swarm_port) return;
    swarm::Addr self;
    self.family = 4;
    std::memcpy(self.ip, &ip_be, 4);
    self.port = static_cast<uint16_t>(cfg.swarm_port);
    tr->table.upsert(own_shard(), ti.info_hash.data(), self, true, false, false, UINT32_MAX,
                     static_cast<uint32_t>(std::time(nullptr)));
}

bool setup_swarm(const ServiceSetup &s, std::string *) {
    const Config &cfg = s.cfg;
    const std::string ip = s.ip_be ? ipv4_to_string(s.ip_be) : "127.0.0.1";
    if (cfg.tracker_port) {
        swarm::TrackerConfig tc;
        tc.interval_s = cfg.tracker_interval_s;
        tc.min_interval_s = cfg.tracker_min_interval_s;
        tc.open = cfg.tracker_open;
        swarm::TableConfig t;
        t.shards = s.lcores + 1;  // + the control thread's own announces
        own_shard() = s.lcores;
        t.swarms_per_shard = cfg.tracker_swarms;
        t.peers_per_swarm = cfg.tracker_peers;
        tracker_shared() = std::make_unique<TrackerShared>(tc, t, rte_rand(), rte_rand());
    }
    if (!s.store) return true;
    TorrentUrls urls;
    if (cfg.tracker_port) {
        urls.announce_udp = "udp://" + ip + ":" + std::to_string(cfg.tracker_port) + "/announce";
        // The HTTP tracker answers on the HTTP service's port (BEP 3/23/48).
        if (cfg.tracker_http && cfg.http_port)
            urls.announce_http = "http://" + ip +
                                 (cfg.http_port == 80 ? "" : ":" + std::to_string(cfg.http_port)) +
                                 "/announce";
    }
    if (cfg.http_port)
        urls.http_base =
            "http://" + ip + (cfg.http_port == 80 ? "" : ":" + std::to_string(cfg.http_port));
    torrents() = std::make_unique<Torrents>(*s.store, urls);
    if (tracker_shared()) torrents()->set_tracker_set(&tracker_shared()->ours);
    if (cfg.swarm_port) {
        swarm_catalog() = std::make_unique<swarm::Catalog>();
        SwarmConfig &sc = swarm_config();
        sc.max_conns = cfg.swarm_max_conns;
        sc.choker = seed_choker_config(cfg, s.queues);
        sc.stream.pin_conn_bytes = cfg.http_pin_conn_kb * 1024;
        sc.stream.pin_ram_pct = cfg.http_pin_ram_pct;
        sc.stream.live = &pin_limits();
        sc.stream.pin_sharers = s.queues * 2;  // HTTP's servers and ours split the share (setup_http)
        const uint32_t ip_be = s.ip_be;
        torrents()->set_on_torrent([&cfg, ip_be](const TorrentInfo &ti, const std::string &b) {
            on_torrent(cfg, ip_be, ti, b);
        });
        torrents()->set_on_forget([&cfg, ip_be](const TorrentInfo &ti) {
            if (swarm_catalog()) swarm_catalog()->remove(ti.info_hash.data());
            // Our own announce leaves the swarm (the control thread's shard,
            // written only here and in on_torrent).
            TrackerShared *tr = tracker_shared().get();
            if (!tr || !ip_be || !cfg.swarm_port) return;
            swarm::Addr self;
            self.family = 4;
            std::memcpy(self.ip, &ip_be, 4);
            self.port = static_cast<uint16_t>(cfg.swarm_port);
            const auto now = static_cast<uint32_t>(std::time(nullptr));
            tr->table.upsert(own_shard(), ti.info_hash.data(), self, true, true, false, now, now);
        });
    }
    const size_t n = torrents()->load_existing();
    if (n) std::printf("edgeplane: %zu torrents in the store\n", n);
    return true;
}

void teardown_swarm() {
    first_swarm() = nullptr;
    torrents().reset();
    tracker_shared().reset();
    swarm_catalog().reset();
}

// One peer-wire service per queue, all reading the one catalog.
std::unique_ptr<Service> make_swarm(const ServiceEnv &env, std::string *err) {
    if (env.cfg.swarm_port == 0 || !swarm_catalog()) return nullptr;
    auto srv = std::make_unique<SwarmService>(
        swarm_config(), swarm_catalog().get(),
        0xD1B54A32D192ED03ull * (env.lc->lcore_id + 1) + env.q->queue);
    if (!srv->init(env.stack, env.store, env.lc->reader_id,
                   static_cast<uint16_t>(env.cfg.swarm_port), env.access)) {
        *err = "peer wire: cannot listen on TCP port " + std::to_string(env.cfg.swarm_port);
        return nullptr;
    }
    srv->set_response_log(env.response_log);
    if (!first_swarm()) first_swarm() = srv.get();
    return srv;
}

uint16_t swarm_port(const Config &cfg) {
    return static_cast<uint16_t>(cfg.swarm_port);
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

// Objects removed (remove, purge): their torrents leave the tracker's set,
// the peer wire's catalog and our own announce (setup_swarm's on_forget).
void swarm_on_remove(const Config &, const std::vector<std::string> &removed, Reply &out) {
    if (Torrents *t = torrents().get())
        for (const std::string &l : t->forget(removed)) out.write(l + "\n");
}

// ---- fill mode (docs/swarm.md "Fill mode"): `edgectl swarm fetch` makes
// the appliance a leecher. The control thread reads the .torrent, begins
// the object's fill in the store and builds a FetchJob (every allocation);
// the first queue's FetchService fetches it on its lcore; each tick here
// hands queued jobs over and, once a job's every piece is stored, gives the
// object its torrent (the fetched bytes: the swarm's info hash).
struct FetchRow {
    FetchService *first = nullptr;  // the instance jobs go to (the first queue's)
    std::vector<const SwarmService *> seeders;  // every queue's peer wire (edgectl swarm)
    bool made_primary = false;
    FetchServiceConfig cfg;
    uint32_t ip_be = 0;
    chunkstore::Store *store = nullptr;
    struct Entry {
        std::unique_ptr<FetchJob> job;
        std::string torrent_bytes;
        bool offered = false, adopted = false;
        std::string result;  // the adoption's line
    };
    std::vector<Entry> jobs;  // kept until exit: the lcore may point into any
};
FetchRow &fetch_row() {
    static FetchRow r;
    return r;
}

bool setup_fetch(const ServiceSetup &s, std::string *) {
    FetchRow &r = fetch_row();
    r.cfg = {};
    r.cfg.ban_after = s.cfg.swarm_fetch_ban_after;
    // Tit-for-tat over the fetch connections (docs/swarm.md "Choking"):
    // the same slots and intervals as the seeding choker, kLeech.
    r.cfg.choker.regular = s.cfg.swarm_unchoke_slots;
    r.cfg.choker.round_ns = uint64_t{s.cfg.swarm_rechoke_s} * 1'000'000'000ull;
    r.cfg.choker.optimistic_rounds = optimistic_rounds(s.cfg);
    // Uploads pin chunks like the peer wire's streams; the fetch stream
    // (one, the first queue's) takes a sharer's part on top of theirs.
    r.cfg.stream.pin_conn_bytes = s.cfg.http_pin_conn_kb * 1024;
    r.cfg.stream.pin_ram_pct = s.cfg.http_pin_ram_pct;
    r.cfg.stream.live = &pin_limits();
    r.cfg.stream.pin_sharers = s.queues * 2;
    // Our peer id (BEP 20 style): "-EP0001-" and 12 random bytes.
    std::memcpy(r.cfg.session.peer_id, "-EP0001-", 8);
    for (int i = 8; i < 20; ++i)
        r.cfg.session.peer_id[i] = static_cast<uint8_t>('0' + rte_rand() % 10);
    r.ip_be = s.ip_be;
    r.store = s.store;
    r.first = nullptr;
    r.made_primary = false;
    return true;
}

void teardown_fetch() {
    fetch_row().seeders.clear();
    fetch_row().jobs.clear();
    fetch_row().first = nullptr;
}

std::unique_ptr<Service> make_fetch(const ServiceEnv &env, std::string *err) {
    if (!env.store) return nullptr;
    auto f = std::make_unique<FetchService>(fetch_row().cfg, env.q->port->addr.ip);
    // Jobs go to the first queue's instance only (one fill channel).
    const bool primary = !fetch_row().made_primary;
    fetch_row().made_primary = true;
    if (!f->init(env.stack, env.store, env.lc->reader_id, primary, env.access)) {
        *err = "fill mode: no fill channel left in the store";
        return nullptr;
    }
    // The same queue's peer port hands over peers that dial us for a
    // torrent being fetched (made just before: rows run in table order).
    if (primary && first_swarm()) first_swarm()->set_handoff(f.get());
    return f;
}

// "ADDR:PORT" (IPv4) -> network-order address and port.
bool parse_peer(const std::string &s, uint32_t *ip_be, uint16_t *port) {
    const size_t c = s.rfind(':');
    if (c == std::string::npos) return false;
    in_addr a{};
    if (inet_pton(AF_INET, s.substr(0, c).c_str(), &a) != 1) return false;
    char *end = nullptr;
    const unsigned long p = std::strtoul(s.c_str() + c + 1, &end, 10);
    if (*end || p == 0 || p > 65535) return false;
    *ip_be = a.s_addr;
    *port = static_cast<uint16_t>(p);
    return true;
}

// ---- discover (docs/swarm.md "Peers from trackers and magnet links"):
// the data plane announces to a fetch's trackers and, for a magnet, gets
// the info dict from a peer first; each tick here offers queued jobs and
// turns a magnet's verified metadata into a torrent and its FetchJob.
struct DiscoverRow {
    DiscoveryService *first = nullptr;
    bool made_primary = false;
    DiscoveryConfig cfg;
    struct Entry {
        std::unique_ptr<DiscoveryJob> job;
        bool magnet = false, offered = false, built = false;
        std::string result;  // a magnet's torrent: "fetching ..." or the error
    };
    std::vector<Entry> jobs;  // kept until exit, as the fetch jobs
};
DiscoverRow &discover_row() {
    static DiscoverRow r;
    return r;
}

bool setup_discover(const ServiceSetup &s, std::string *) {
    DiscoverRow &r = discover_row();
    r.cfg = {};
    r.cfg.listen_port = static_cast<uint16_t>(s.cfg.swarm_port ? s.cfg.swarm_port : 6881);
    std::memcpy(r.cfg.peer_id, fetch_row().cfg.session.peer_id, 20);  // one peer id (setup_fetch ran)
    r.first = nullptr;
    r.made_primary = false;
    return true;
}

void teardown_discover() {
    discover_row().jobs.clear();
    discover_row().first = nullptr;
}

std::unique_ptr<Service> make_discover(const ServiceEnv &env, std::string *) {
    if (!env.store) return nullptr;  // fill mode needs the store, as the fetch row
    const bool primary = !discover_row().made_primary;
    discover_row().made_primary = true;
    auto d = std::make_unique<DiscoveryService>(discover_row().cfg, env.q->port->addr.ip, primary);
    // BEP 15 replies come to our client port on the first queue (its jobs).
    const bool udp = primary && env.q->tcp && env.q->udp.bind(DiscoveryService::kUdpClientPort, d.get());
    if (primary && !udp)
        EP_LOG(WARNING, "swarm fetch: UDP port %u not bound: udp:// trackers are skipped",
               DiscoveryService::kUdpClientPort);
    d->init(env.stack, udp ? env.q->tcp : nullptr);
    if (primary) discover_row().first = d.get();
    return d;
}

// The .torrent bytes -> a FetchJob (the object begun in the store); nullptr
// and a line on `out` when it cannot be fetched.
FetchJob *start_fetch(std::string bytes, std::string name,
                      const std::vector<std::pair<uint32_t, uint16_t>> &peers, const std::string &label,
                      swarm::TorrentSummary *ts_out, Reply &out) {
    FetchRow &r = fetch_row();
    swarm::TorrentSummary &ts = *ts_out;
    if (!swarm::read_torrent(bytes, &ts)) {
        out.write("error: " + label + " is not a strict v1 torrent\n");
        return nullptr;
    }
    // Piece i becomes chunk i: only the store's chunk size maps one to one.
    if (ts.piece_length != swarm::kPieceLength) {
        out.write("error: piece length " + std::to_string(ts.piece_length) +
                  ": fill mode needs 262144-byte pieces (the store's chunks)\n");
        return nullptr;
    }
    if (ts.multi_file) {
        out.write("error: multi-file torrents are not fetched yet\n");
        return nullptr;
    }
    if (ts.pieces == 0) {
        out.write("error: the torrent is empty\n");
        return nullptr;
    }
    if (peers.empty() && ts.trackers.empty()) {
        out.write("error: no peers: the torrent names no tracker; give --peer ADDR:PORT\n");
        return nullptr;
    }
    if (name.empty()) name = ts.name;
    for (const auto &e : r.jobs)
        if (e.job->name() == name && e.job->phase() <= FetchJob::Phase::kRunning) {
            out.write("error: " + name + " is being fetched already\n");
            return nullptr;
        }
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t etag = 0;  // the version is the torrent's: its info hash
    std::memcpy(&etag, ts.info_hash.data(), 8);
    uint64_t gen = 0;
    chunkstore::Status st = r.store->begin_fill(name, ts.total_length, etag,
                                                int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec,
                                                http::content_type_for(name).mime, &gen);
    if (!st.ok()) {
        out.write("error: " + name + ": " + st.msg + "\n");
        return nullptr;
    }
    const chunkstore::ObjectMeta *m = r.store->object_ctl(name);
    if (!m) {
        out.write("error: " + name + ": not in the store after begin_fill\n");
        return nullptr;
    }
    auto job = std::make_unique<FetchJob>();
    std::string err;
    if (!job->init(r.cfg, name, ts.total_length, ts.piece_hashes, ts.info_hash, m->id, gen, peers,
                   r.first, &err)) {
        out.write("error: " + err + "\n");
        return nullptr;
    }
    out.write("fetching " + name + " info_hash " + swarm::hex(ts.info_hash) + " pieces " +
              std::to_string(ts.pieces) + " peers " + std::to_string(peers.size()) + " trackers " +
              std::to_string(ts.trackers.size()) + "\n");
    FetchJob *raw = job.get();
    r.jobs.push_back({std::move(job), std::move(bytes)});
    return raw;
}

// A magnet's verified info dict as a .torrent: announce / announce-list
// from its tr= (one tier each, in order), then the info dict unchanged, so
// the info hash is the magnet's.
std::string torrent_from_metadata(const DiscoveryJob &j) {
    std::string t = "d";
    swarm::BWriter w(&t);
    const auto &tr = j.urls();
    if (!tr.empty()) {
        w.key("announce");
        w.str(tr[0]);
        if (tr.size() > 1) {
            w.key("announce-list");
            w.begin_list();
            for (const auto &u : tr) {
                w.begin_list();
                w.str(u);
                w.end();
            }
            w.end();
        }
    }
    w.key("info");
    t.append(reinterpret_cast<const char *>(j.metadata()), j.metadata_size());
    t.push_back('e');
    return t;
}

void swarm_fetch_magnet(const std::string &uri, const std::string &name,
                        std::vector<std::pair<uint32_t, uint16_t>> peers, Reply &out) {
    DiscoverRow &d = discover_row();
    if (!d.first) return out.write("error: no discover service (fill mode needs the store)\n");
    swarm::Magnet mg;
    if (swarm::MagnetError e = swarm::parse_magnet(uri, &mg); e != swarm::MagnetError::ok)
        return out.write(std::string("error: magnet link: ") + swarm::magnet_error_name(e) + "\n");
    for (const auto &p : mg.peers) peers.push_back(p);
    auto job = std::make_unique<DiscoveryJob>();
    std::string err;
    const std::string n = !name.empty() ? name : !mg.name.empty() ? mg.name : swarm::hex(mg.info_hash);
    if (!job->init(d.cfg, mg.info_hash, n, mg.trackers, peers, nullptr, &err))
        return out.write("error: " + err + "\n");
    out.write("resolving " + n + " info_hash " + swarm::hex(mg.info_hash) + " trackers " +
              std::to_string(mg.trackers.size()) + " peers " + std::to_string(peers.size()) +
              (mg.peers_skipped ? " skipped_peers " + std::to_string(mg.peers_skipped) : "") + "\n");
    d.jobs.push_back({std::move(job), true});
}

void discover_tick() {
    DiscoverRow &d = discover_row();
    for (auto &e : d.jobs) {
        if (!e.offered) {
            if (!d.first || !d.first->offer(e.job.get())) break;  // one at a time, in order
            e.offered = true;
        }
        if (e.magnet && !e.built && e.job->phase() == DiscoveryJob::Phase::kMetadataDone) {
            e.built = true;
            std::vector<std::pair<uint32_t, uint16_t>> peers;
            const uint32_t n = e.job->nfound();
            for (uint32_t i = 0; i < n; ++i) peers.push_back(e.job->found(i));
            swarm::TorrentSummary ts;
            Reply cap = Reply::collector(&e.result);
            FetchJob *f = start_fetch(torrent_from_metadata(*e.job), e.job->name(), peers,
                                      "the magnet's metadata", &ts, cap);
            if (f) e.job->attach(f);
            EP_LOG(NOTICE, "swarm fetch: magnet %s metadata %u bytes: %s", e.job->name().c_str(),
                   e.job->metadata_size(), e.result.c_str());
        }
    }
}

const char *discover_phase_name(DiscoveryJob::Phase p) {
    static const char *const kNames[] = {"queued", "metadata", "metadata_done", "fetching", "failed"};
    return kNames[static_cast<unsigned>(p)];
}

void discover_progress(Reply &out) {
    for (const auto &e : discover_row().jobs) {
        const DiscoveryJob &j = *e.job;
        out.write("discover " + j.name() + " info_hash " + swarm::hex(j.info_hash()) + " " +
                  discover_phase_name(j.phase()) + " peers_found " + std::to_string(j.nfound()) +
                  (e.magnet ? " metadata " + std::to_string(j.phase() >= DiscoveryJob::Phase::kMetadataDone ? j.metadata_size() : 0) : "") +
                  "\n");
        for (uint32_t t = 0; t < j.ntrackers(); ++t)
            out.write("  tracker " + j.tracker_url(t) + " ok " + std::to_string(j.tracker_ok(t)) +
                      " failed " + std::to_string(j.tracker_failed(t)) + "\n");
    }
}

void swarm_fetch(const std::vector<std::string> &args, Reply &out) {
    FetchRow &r = fetch_row();
    if (!r.first || !r.store)
        return out.write("error: fill mode needs the chunk store and a data lcore\n");
    static const char kUsage[] =
        "error: usage: swarm fetch FILE.torrent|MAGNET [--peer ADDR:PORT...] [--name NAME]\n";
    std::string path, name;
    std::vector<std::pair<uint32_t, uint16_t>> peers;
    for (size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "--peer" && i + 1 < args.size()) {
            uint32_t ip = 0;
            uint16_t port = 0;
            if (!parse_peer(args[++i], &ip, &port))
                return out.write("error: --peer wants IPv4ADDR:PORT, not " + args[i] + "\n");
            peers.emplace_back(ip, port);
        } else if (args[i] == "--name" && i + 1 < args.size()) {
            name = args[++i];
        } else if (path.empty()) {
            path = args[i];
        } else {
            return out.write(kUsage);
        }
    }
    if (path.empty()) return out.write(kUsage);
    if (path.rfind("magnet:", 0) == 0) return swarm_fetch_magnet(path, name, peers, out);
    std::ifstream in(path, std::ios::binary);
    if (!in) return out.write("error: cannot read " + path + "\n");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    swarm::TorrentSummary ts;
    FetchJob *f = start_fetch(std::move(bytes), name, peers, path, &ts, out);
    if (!f || ts.trackers.empty()) return;
    // Peers from its trackers too (BEP 12 tiers in order, flattened).
    DiscoverRow &d = discover_row();
    if (!d.first) return;
    auto job = std::make_unique<DiscoveryJob>();
    std::string err;
    if (!job->init(d.cfg, ts.info_hash, f->name(), ts.trackers, peers, f, &err))
        return out.write("warning: no announces: " + err + "\n");
    d.jobs.push_back({std::move(job), false});
}

const char *phase_name(FetchJob::Phase p) {
    switch (p) {
        case FetchJob::Phase::kQueued:
            return "queued";
        case FetchJob::Phase::kRunning:
            return "running";
        case FetchJob::Phase::kComplete:
            return "complete";
        case FetchJob::Phase::kFailed:
            return "failed";
    }
    return "?";
}

const char *peer_state_name(uint8_t s) {
    static const char *const kNames[] = {"idle", "connecting", "active", "closed", "banned"};
    return s < 5 ? kNames[s] : "?";
}

// The choke and interest state both ways, the last round's rates (bytes/s)
// and the choker's marks, as `key value` pairs (tests parse them).
std::string peer_flags(const FetchJob::Peer &p) {
    const uint8_t f = p.flags.load(std::memory_order_relaxed);
    auto b = [f](uint8_t bit) { return (f & bit) ? "1" : "0"; };
    return std::string("dir ") + ((f & FetchJob::kIncomingPeer) ? "in" : "out") + " up " +
           std::to_string(p.bytes_up.load(std::memory_order_relaxed)) + " am_choking " +
           b(FetchJob::kAmChoking) + " am_interested " + b(FetchJob::kAmInterested) +
           " peer_choking " + b(FetchJob::kPeerChoking) + " peer_interested " +
           b(FetchJob::kPeerInterested) + " down_rate " +
           std::to_string(p.down_rate.load(std::memory_order_relaxed)) + " up_rate " +
           std::to_string(p.up_rate.load(std::memory_order_relaxed)) + " optimistic " +
           b(FetchJob::kOptimistic) + " snubbed " + b(FetchJob::kSnubbed);
}

// `swarm`: one line per fetch, then one per peer.
void swarm_progress(Reply &out) {
    // The seeding choker's mode and one queue's slots (regular + the
    // optimistic one) first, when the peer wire is on.
    if (swarm_catalog()) {
        const swarm::ChokerConfig &c = swarm_config().choker;
        // "seed-choker MODE" then key value pairs: slots (regular + the
        // optimistic one, per queue), queues, round_s, optimistic_rounds
        // and, with a capacity, each queue's upload_bps and slot_bps.
        std::string line =
            std::string("seed-choker ") +
            (c.mode == swarm::ChokeMode::kSeedRoundRobin ? "round-robin" : "fastest") + " slots " +
            std::to_string(c.regular_slots()) + "+1 queues " +
            std::to_string(fetch_row().seeders.size()) + " round_s " +
            std::to_string(c.round_ns / 1'000'000'000ull) + " optimistic_rounds " +
            std::to_string(c.optimistic_rounds);
        if (c.upload_bps && c.slot_bps)
            line += " upload_bps " + std::to_string(c.upload_bps) + " slot_bps " +
                    std::to_string(c.slot_bps);
        out.write(line + "\n");
    }
    for (const auto &e : fetch_row().jobs) {
        const FetchJob &j = *e.job;
        uint32_t banned = 0;
        for (uint32_t s = 0; s < j.nslots(); ++s)
            banned += j.peer(s).state.load(std::memory_order_relaxed) ==
                      static_cast<uint8_t>(FetchJob::PeerState::kBanned);
        // The round first (acquire): the rates and flags below are that
        // round's or newer.
        const uint64_t round = j.choke_rounds();
        out.write("fetch " + j.name() + " info_hash " + swarm::hex(j.info_hash()) + " " +
                  phase_name(j.phase()) + " pieces " + std::to_string(j.pieces_stored()) + "/" +
                  std::to_string(j.pieces()) + " peers " + std::to_string(j.npeers()) + " banned " +
                  std::to_string(banned) + " round " + std::to_string(round) +
                  (e.adopted ? " seeding" : "") + "\n");
        for (uint32_t s = 0; s < j.nslots(); ++s) {
            const FetchJob::Peer &p = j.peer(s);
            const uint8_t st = p.state.load(std::memory_order_relaxed);
            if (s >= j.npeers() && st == static_cast<uint8_t>(FetchJob::PeerState::kIdle))
                continue;  // a slot never used (dialled or accepted)
            out.write("  peer " + ipv4_to_string(p.ip_be.load(std::memory_order_relaxed)) + ":" +
                      std::to_string(p.port.load(std::memory_order_relaxed)) + " " +
                      peer_state_name(st) + " down " +
                      std::to_string(p.bytes_down.load(std::memory_order_relaxed)) + " bad " +
                      std::to_string(p.bad_pieces.load(std::memory_order_relaxed)) + " connects " +
                      std::to_string(p.connects.load(std::memory_order_relaxed)) + " " +
                      peer_flags(p) + "\n");
        }
    }
    // The seeding connections (every queue's peer wire): one line each.
    for (const SwarmService *sv : fetch_row().seeders) {
        for (uint32_t i = 0; i < sv->views(); ++i) {
            const SwarmService::PeerView &v = sv->view(i);
            const swarm::CatTorrent *t = v.torrent.load(std::memory_order_relaxed);
            if (!t) continue;
            const uint8_t f = v.flags.load(std::memory_order_relaxed);
            auto b = [f](uint8_t bit) { return (f & bit) ? "1" : "0"; };
            // A seed wants nothing: never interested, the peer's choke of
            // us not tracked ("-"), nothing downloaded, never snubbed.
            out.write("seed " + swarm::hex(t->info_hash) + " peer " +
                      ipv4_to_string(v.ip_be.load(std::memory_order_relaxed)) + ":" +
                      std::to_string(v.port.load(std::memory_order_relaxed)) + " dir in up " +
                      std::to_string(v.uploaded.load(std::memory_order_relaxed)) +
                      " am_choking " + b(SwarmService::PeerView::kAmChoking) +
                      " am_interested 0 peer_choking - peer_interested " +
                      b(SwarmService::PeerView::kPeerInterested) + " down_rate 0 up_rate " +
                      std::to_string(v.up_rate.load(std::memory_order_relaxed)) + " optimistic " +
                      b(SwarmService::PeerView::kOptimistic) + " snubbed 0\n");
        }
    }
    discover_progress(out);
}

void fetch_commands(AdminSocket &admin, const Config &,
                    const std::vector<std::unique_ptr<Service>> &all) {
    for (const auto &s : all)
        if (s && s->name() == "fetch" && static_cast<FetchService *>(s.get())->primary() &&
            !fetch_row().first)
            fetch_row().first = static_cast<FetchService *>(s.get());
        else if (s && s->name() == "swarm")
            fetch_row().seeders.push_back(static_cast<const SwarmService *>(s.get()));
    admin.add_command(
        "swarm",
        "swarm: fill-mode progress; swarm fetch FILE.torrent|MAGNET [--peer ADDR:PORT...] "
        "[--name NAME]: download a torrent into the store from those peers and its trackers "
        "(a magnet: the metadata from a peer first, BEP 9)",
        [](const std::vector<std::string> &args, Reply &out) {
            if (args.size() >= 2 && args[1] == "fetch") return swarm_fetch(args, out);
            if (args.size() != 1)
                return out.write("error: usage: swarm [fetch FILE.torrent ...]\n");
            swarm_progress(out);
        });
}

// Each tick: a queued job to the lcore; a complete one gets its torrent.
void fetch_tick() {
    FetchRow &r = fetch_row();
    for (auto &e : r.jobs) {
        if (!e.offered) {
            if (!r.first || !r.first->offer(e.job.get())) break;  // one at a time, in order
            e.offered = true;
        }
        if (!e.adopted && e.job->phase() == FetchJob::Phase::kComplete) {
            e.adopted = true;
            Torrents *t = torrents().get();
            if (t) t->adopt(e.job->name() + ".torrent", e.torrent_bytes, &e.result);
            EP_LOG(NOTICE, "swarm fetch: %s complete (%u pieces) %s", e.job->name().c_str(),
                   e.job->pieces(), e.result.c_str());
        }
    }
}

// ---- dns: the zone and steering tables every queue's DNS service reads
// (control/dns_tables.h), made and first published in setup_dns, before
// the lcores run; replaced later by `zones reload` or cluster selection.
bool setup_dns(const ServiceSetup &s, std::string *err) {
    if (s.cfg.dns_port == 0) return true;
    std::vector<int> sockets;
    for (unsigned id : s.cfg.data_lcores)
        sockets.push_back(static_cast<int>(rte_lcore_to_socket_id(id)));
    auto t = std::make_unique<DnsTables>();
    if (!t->init(s.queues, sockets, err)) return false;
    if (!t->load_zones(s.cfg.dns_zones, err)) {
        *err = "zone rejected: " + *err;
        return false;
    }
    set_dns_zone_files(s.cfg.dns_zones);
    dns::SteerMap map;
    if (!parse_steering(s.cfg.dns_steer, *t->current_zones(), &map, err)) return false;
    map.version = 1;
    if (!map.routes.empty() && !t->publish_steering(map, err)) return false;
    dns_tables_slot() = std::move(t);
    return true;
}

// SIGHUP / edgectl reload: the zone files are read again (their content may
// have changed even when the list did not), and a changed --dns-steer table
// is published. A zone that fails keeps the old zones and rejects the
// reload; the zone list is put back so `zones reload` reads what serves.
bool reload_dns(const ServiceReload &r, std::string *err) {
    DnsTables *t = dns_tables();
    if (!t) return true;  // DNS off: dns-port is restart-only
    set_dns_zone_files(r.next.dns_zones);
    if (!reload_dns_zones(err)) {
        set_dns_zone_files(r.old_cfg.dns_zones);
        *err = "dns: zone rejected: " + *err;
        return false;
    }
    r.out.write("dns: zones reloaded (" + std::to_string(r.next.dns_zones.size()) + " files)\n");
    if (r.next.dns_steer == r.old_cfg.dns_steer) return true;
    static uint64_t version = 1;
    dns::SteerMap map;
    if (!parse_steering(r.next.dns_steer, *t->current_zones(), &map, err)) return false;
    map.version = ++version;
    if (!t->publish_steering(map, err)) return false;
    r.out.write("dns: steering table published (" + std::to_string(map.routes.size()) +
                " routes)\n");
    return true;
}

void teardown_dns() {
    dns_tables_slot().reset();
}

std::unique_ptr<Service> make_dns(const ServiceEnv &env, std::string *err) {
    DnsTables *t = dns_tables();
    if (env.cfg.dns_port == 0 || !t) return nullptr;
    DnsConfig dc;
    dc.zones = t->zones();
    dc.steering = t->steering(static_cast<int>(rte_lcore_to_socket_id(env.lc->lcore_id)));
    dc.rcu = t->rcu();
    if (!t->add_reader(&dc.rcu_id)) {
        *err = "DNS: more service instances than RCU readers";
        return nullptr;
    }
    dc.max_udp = static_cast<uint16_t>(env.cfg.dns_max_udp);
    dc.tcp_max_conns = env.cfg.dns_tcp_conns;
    dc.rrl.rate = env.cfg.dns_rrl_rate;
    dc.rrl.slip = env.cfg.dns_rrl_slip;
    dc.rrl.v4_prefix = static_cast<uint8_t>(env.cfg.dns_rrl_v4_prefix);
    dc.rrl.v6_prefix = static_cast<uint8_t>(env.cfg.dns_rrl_v6_prefix);
    dc.rrl.buckets = env.cfg.dns_rrl_buckets;
    dc.log_interval_ns = uint64_t{env.cfg.access_log_dns_interval_s} * 1'000'000'000;
    auto srv = std::make_unique<DnsService>(dc);
    if (!srv->init_rrl()) {
        *err = "DNS: cannot allocate the rate limiter";
        return nullptr;
    }
    const auto port = static_cast<uint16_t>(env.cfg.dns_port);
    if (!env.q->udp.bind(port, srv.get())) {
        *err = "DNS: UDP port " + std::to_string(port) + " is taken";
        return nullptr;
    }
    if (dc.tcp_max_conns && !srv->init_tcp(env.stack, port)) {
        *err = "DNS: cannot listen on TCP port " + std::to_string(port);
        return nullptr;
    }
    srv->set_response_log(env.response_log);
    return srv;
}

void dns_commands(AdminSocket &admin, const Config &cfg,
                  const std::vector<std::unique_ptr<Service>> &) {
    admin.add_command(
        "zones",
        "zones the DNS service answers for: apex, SOA serial, records; 'zones reload' re-reads "
        "the zone files (a file that fails to parse is reported with its line and the loaded "
        "zones keep serving)",
        [&cfg](const std::vector<std::string> &args, Reply &out) {
            DnsTables *t = dns_tables();
            if (cfg.dns_port == 0 || !t)
                return out.write(
                    "error: the DNS service is off (start edgeplane with "
                    "--dns-port 53 --dns-zone FILE)\n");
            if (args.size() == 2 && args[1] == "reload") {
                std::string err;
                if (!reload_dns_zones(&err))
                    return out.write(
                        "error: reload rejected, the previous zones keep serving: " + err + "\n");
                out.write("reloaded (version " + std::to_string(t->zones_version()) + ")\n");
            } else if (args.size() != 1) {
                return out.write("error: usage: zones [reload]\n");
            }
            const dns::ZoneTable *z = t->current_zones();
            for (uint32_t i = 0; i < z->zone_count(); ++i) {
                const dns::ZoneTable::Zone *zn = z->zone(i);
                out.write(dns::name_to_text(z->node_name(z->node(zn->apex))) + " serial " +
                          std::to_string(zn->serial) + " records " + std::to_string(zn->records) +
                          "\n");
            }
        });
}

// DNS listens on TCP too (RFC 7766) unless --dns-tcp-conns 0: a drain stops it.
uint16_t dns_tcp_port(const Config &cfg) {
    return cfg.dns_tcp_conns ? static_cast<uint16_t>(cfg.dns_port) : 0;
}

constexpr ServiceRow kServices[] = {
    {"http", make_http, http_commands, http_port, setup_http, teardown_http, http_on_ingest,
     reload_http, nullptr, tick_http},
    {"discard", make_discard, discard_commands, discard_port},
    {"udp_echo", make_udp_echo, nullptr, nullptr},
    {"tracker", make_tracker, swarm_commands, nullptr, setup_swarm, teardown_swarm, swarm_on_ingest,
     nullptr, swarm_on_remove},
    {"swarm", make_swarm, nullptr, swarm_port},
    {"fetch", make_fetch, fetch_commands, nullptr, setup_fetch, teardown_fetch, nullptr, nullptr,
     nullptr, fetch_tick},
    {"discover", make_discover, nullptr, nullptr, setup_discover, teardown_discover, nullptr,
     nullptr, nullptr, discover_tick},
    {"dns", make_dns, dns_commands, dns_tcp_port, setup_dns, teardown_dns, nullptr, reload_dns},
    {"probe", make_probe, nullptr, nullptr, setup_probe, teardown_probe},
};

}  // namespace

std::span<const ServiceRow> service_table() {
    return kServices;
}

}  // namespace ep
