// Daemon::metrics: every counter and gauge, per lcore and port where its
// source is, for /metrics and telemetry. The same sources `edgectl stats`
// sums (Daemon::stats_sections): the lcores' counters, each queue's TCP stack
// and services (visited, never named), the cache keeper and the store.
#include <cstdio>

#include "control/daemon.h"
#include "control/port_stats.h"
#include "control/tcp_gauges.h"
#include "dataplane/lcore.h"

namespace ep {

std::vector<Metric> Daemon::metrics() const {
    std::vector<Metric> out;
    out.reserve(512);
    auto add = [&out](std::string section, std::string_view name, std::string_view help, uint64_t v,
                      bool gauge, int lcore, const std::string &port) {
        Metric m{std::move(section), std::string(name), std::string(help), v};
        m.gauge = gauge;
        m.lcore = lcore;
        m.port = port;
        out.push_back(std::move(m));
    };
    for (const Lcore *lc : lcores_) {
        append_lcore_metrics(lc->counters, lc->lcore_id, &out);
        const int lcore = static_cast<int>(lc->lcore_id);
        for (uint16_t i = 0; i < lc->nqueues; ++i) {
            const LcoreQueue &q = lc->queues[i];
            const std::string &port = q.port->device;
            if (q.tcp) {
                const tcp::Stack &st = q.tcp->stack();
                st.counters().for_each([&](const char *name, const char *help, uint64_t v) {
                    add("tcp", name, help, v, false, lcore, port);
                });
                visit_tcp_gauges(st, [&](const CounterRef &c) {
                    add("tcp", c.name, c.help, c.value, true, lcore, port);
                });
            }
            // Services are per queue: each instance keeps its lcore and port.
            for (uint16_t k = 0; k < q.nservices; ++k) {
                const Service *svc = q.services[k];
                const std::string section(svc->name());
                svc->visit_counters([&](const CounterRef &c) {
                    add(section, c.name, c.help, c.value, c.gauge, lcore, port);
                });
            }
        }
    }
    for (const Port &p : ports_)
        visit_port_counters(p, [&](const CounterRef &c) {
            add("port", c.name, c.help, c.value, c.gauge, -1, p.device);
        });
    visit_pool_gauges(pool_, cfg_.mbufs, [&](const CounterRef &c) {
        add("port", c.name, c.help, c.value, c.gauge, -1, "");
    });
    if (cache_) {
        uint64_t hits = 0, misses = 0;
        cache_->visit_counters([&](const CounterRef &c) {
            add("cache", c.name, c.help, c.value, c.gauge, -1, "");
            if (c.name == "hits") hits = c.value;
            if (c.name == "ram_misses" || c.name == "misses") misses += c.value;
        });
        Metric r{"cache", "hit_ratio",
                 "share of chunk starts served from RAM, of those plus the ones that waited for "
                 "disk and the requests for objects not held (since start)"};
        r.gauge = r.is_real = true;
        r.real = hits + misses ? static_cast<double>(hits) / static_cast<double>(hits + misses) : 0;
        out.push_back(std::move(r));
    }
    if (clusters_)
        clusters_->visit_counters([&](const CounterRef &c) {
            add("clusters", c.name, c.help, c.value, c.gauge, -1, "");
            if (c.name.find('.') != std::string_view::npos) out.back().label = "cluster";
        });
    if (access_writer_.is_open())
        access_writer_.visit_counters([&](const CounterRef &c) {
            add("access_log", c.name, c.help, c.value, c.gauge, -1, "");
        });
    if (store_) {
        const chunkstore::Usage u = store_->usage();
        const std::pair<const char *, std::pair<const char *, uint64_t>> usage[] = {
            {"objects", {"objects stored", u.objects}},
            {"ram_capacity_bytes", {"RAM tier size", u.ram_capacity_bytes}},
            {"ram_bytes_used",
             {"RAM tier in use (slot granular, pinned included)", u.ram_bytes_used}},
            {"ram_resident_chunks", {"chunks resident in RAM", u.ram_resident_chunks}},
            {"ram_pinned_chunks",
             {"resident chunks referenced beyond the index now (sends in flight)",
              u.ram_pinned_chunks}},
            {"disk_capacity_bytes", {"disk tier size", u.disk_capacity_bytes}},
            {"disk_bytes_used", {"disk tier in use", u.disk_bytes_used}},
            {"disk_chunks", {"chunks on the disk tier", u.disk_chunks}},
        };
        for (const auto &[name, hv] : usage)
            add("chunkstore", name, hv.first, hv.second, true, -1, "");
        store_->counters().for_each([&](const char *name, const char *help, uint64_t v) {
            add("chunkstore", name, help, v, false, -1, "");
        });
    }
    return out;
}

// Plain lines, one per metric with ports summed (a metric per lcore keeps
// its lcore; "-" for process-wide), so edgectl needs no JSON parser.
std::string Daemon::top_snapshot() const {
    std::string out;
    std::vector<Metric> all = metrics();
    std::string last_key;
    uint64_t sum = 0;
    char line[256];
    auto flush = [&] {
        if (!last_key.empty()) {
            std::snprintf(line, sizeof line, "%s %llu\n", last_key.c_str(),
                          static_cast<unsigned long long>(sum));
            out += line;
        }
    };
    for (const Metric &m : all) {
        std::string key = m.section + " " + m.name + " " +
                          (m.lcore < 0 ? std::string("-") : std::to_string(m.lcore));
        if (m.is_real) {
            flush();
            last_key.clear();
            std::snprintf(line, sizeof line, "%s %.6f\n", key.c_str(), m.real);
            out += line;
            continue;
        }
        if (key == last_key) {  // the same counter on the lcore's next port
            sum += m.value;
            continue;
        }
        flush();
        last_key = std::move(key);
        sum = m.value;
    }
    flush();
    if (access_writer_.is_open())
        for (const auto &[title, bytes] : access_writer_.title_bytes()) {
            std::snprintf(line, sizeof line, "title %s %llu\n", title.c_str(),
                          static_cast<unsigned long long>(bytes));
            out += line;
        }
    return out;
}

std::string Daemon::status_line() const {
    uint64_t conns = 0;
    for (const auto &io : tcp_) conns += io->stack().connections();
    const chunkstore::Usage u = store_->usage();
    char line[256];
    std::snprintf(line, sizeof line,
                  "serving: %zu data lcore(s), %llu TCP connections, %llu objects, RAM %llu/%llu "
                  "MiB, disk %llu/%llu MiB",
                  lcores_.size(), static_cast<unsigned long long>(conns),
                  static_cast<unsigned long long>(u.objects),
                  static_cast<unsigned long long>(u.ram_bytes_used >> 20),
                  static_cast<unsigned long long>(u.ram_capacity_bytes >> 20),
                  static_cast<unsigned long long>(u.disk_bytes_used >> 20),
                  static_cast<unsigned long long>(u.disk_capacity_bytes >> 20));
    return line;
}

}  // namespace ep
