#include "control/metrics.h"

#include <cstdio>
#include <unordered_map>

namespace ep {

namespace {

// The X-macro lists of dataplane/counters.h, as (name, help) pairs. The lists
// may give help as a second argument or not at all: `"" __VA_ARGS__` is the
// help string when there is one and "" when there is none (then the name
// stands in for it).
struct NameHelp {
    std::string_view name, help;
};
#define EP_METRICS_NAME_HELP(name, ...) NameHelp{#name, "" __VA_ARGS__},
constexpr NameHelp kTraffic[] = {EP_TRAFFIC_COUNTERS(EP_METRICS_NAME_HELP)};
constexpr NameHelp kDrops[] = {EP_DROP_REASONS(EP_METRICS_NAME_HELP)};
#undef EP_METRICS_NAME_HELP
static_assert(std::size(kDrops) + 1 == kDropReasons, "drop list and Drop enum disagree");

void escape(std::string &out, std::string_view s, bool quote) {
    for (const char ch : s) {
        if (ch == '\\')
            out += "\\\\";
        else if (ch == '\n')
            out += "\\n";
        else if (quote && ch == '"')
            out += "\\\"";
        else
            out += ch;
    }
}

// A counter named FAMILY.REASON (drops.eth_truncated, parse_error.bad_method)
// is one sample of FAMILY with reason="REASON".
void labels(std::string &out, const Metric &m) {
    const std::size_t dot = m.name.find('.');
    if (m.lcore < 0 && m.port.empty() && dot == std::string::npos) return;
    const char *sep = "{";
    if (m.lcore >= 0) {
        out += sep + ("lcore=\"" + std::to_string(m.lcore)) + '"';
        sep = ",";
    }
    if (!m.port.empty()) {
        out += sep + std::string("port=\"");
        escape(out, m.port, true);
        out += '"';
        sep = ",";
    }
    if (dot != std::string::npos) {
        out += sep + m.label + "=\"";
        escape(out, std::string_view(m.name).substr(dot + 1), true);
        out += '"';
    }
    out += '}';
}

}  // namespace

void append_lcore_metrics(const LcoreCounters &c, unsigned lcore, std::vector<Metric> *out) {
    // Read field by field, relaxed: the lcore writes them meanwhile.
    const uint64_t traffic[] = {
#define EP_METRICS_LOAD(name, ...) __atomic_load_n(&c.name, __ATOMIC_RELAXED),
        EP_TRAFFIC_COUNTERS(EP_METRICS_LOAD)
#undef EP_METRICS_LOAD
    };
    for (std::size_t i = 0; i < std::size(kTraffic); ++i) {
        const NameHelp &nh = kTraffic[i];
        out->push_back({"lcore", std::string(nh.name),
                        std::string(nh.help.empty() ? nh.name : nh.help), traffic[i]});
        out->back().lcore = static_cast<int>(lcore);
    }
    // One family with a reason label, as an operator sums and alerts on them
    // (sum by (reason) (rate(...))); Prometheus has one HELP per family, so
    // the reasons' own help texts are docs/operations.md's table.
    for (std::size_t i = 0; i < std::size(kDrops); ++i) {
        out->push_back({"lcore", "drops." + std::string(kDrops[i].name),
                        "packets dropped by the data plane, by reason (each dropped packet "
                        "counts in exactly one)",
                        __atomic_load_n(&c.drops[i + 1], __ATOMIC_RELAXED)});
        out->back().lcore = static_cast<int>(lcore);
    }
}

std::string prometheus_name(const Metric &m) {
    std::string n = "edgeplane_" + m.section + "_" + m.name.substr(0, m.name.find('.'));
    for (char &ch : n)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            ch = '_';
    if (!m.gauge && !n.ends_with("_total")) n += "_total";
    return n;
}

std::string prometheus_text(const std::vector<Metric> &metrics) {
    // The format wants a family's samples together; the list comes ordered
    // by source (lcore by lcore), so group, keeping first-seen order.
    struct Family {
        std::string name;
        const Metric *first;
        std::vector<const Metric *> samples;
    };
    std::vector<Family> families;
    std::unordered_map<std::string, std::size_t> index;
    for (const Metric &m : metrics) {
        std::string name = prometheus_name(m);
        auto [it, fresh] = index.try_emplace(name, families.size());
        if (fresh) families.push_back({std::move(name), &m, {}});
        families[it->second].samples.push_back(&m);
    }
    std::string out;
    out.reserve(metrics.size() * 96);
    char num[64];
    for (const Family &f : families) {
        out += "# HELP " + f.name + ' ';
        escape(out, f.first->help.empty() ? f.first->name : f.first->help, false);
        out += "\n# TYPE " + f.name + (f.first->gauge ? " gauge\n" : " counter\n");
        for (const Metric *m : f.samples) {
            out += f.name;
            labels(out, *m);
            if (m->is_real)
                std::snprintf(num, sizeof num, " %.9g\n", m->real);
            else
                std::snprintf(num, sizeof num, " %llu\n",
                              static_cast<unsigned long long>(m->value));
            out += num;
        }
    }
    return out;
}

}  // namespace ep
