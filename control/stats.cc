#include "control/stats.h"

#include <cstdio>
#include <map>

namespace ep {

namespace {

struct Snapshot {
    std::vector<std::pair<std::string, uint64_t>> traffic, drops;
};

Snapshot take(const LcoreCounters &c) {
    Snapshot s;
    for_each_counter(c, [&](std::string_view name, uint64_t v, bool is_drop) {
        (is_drop ? s.drops : s.traffic).emplace_back(std::string(name), v);
    });
    return s;
}

Snapshot sum(const std::vector<Snapshot> &all) {
    if (all.empty()) return {};
    Snapshot t = all[0];
    for (std::size_t i = 1; i < all.size(); ++i) {
        for (std::size_t k = 0; k < t.traffic.size(); ++k) t.traffic[k].second += all[i].traffic[k].second;
        for (std::size_t k = 0; k < t.drops.size(); ++k) t.drops[k].second += all[i].drops[k].second;
    }
    return t;
}

void json_object(std::string &out, const std::vector<std::pair<std::string, uint64_t>> &kv) {
    out += '{';
    for (std::size_t i = 0; i < kv.size(); ++i) {
        if (i) out += ',';
        out += '"' + kv[i].first + "\":" + std::to_string(kv[i].second);
    }
    out += '}';
}

}  // namespace

std::string format_stats_text(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections) {
    std::vector<Snapshot> snaps;
    for (const auto &l : lcores) snaps.push_back(take(*l.counters));
    const Snapshot total = sum(snaps);
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%-26s", "counter");
    out += line;
    for (const auto &l : lcores) {
        std::snprintf(line, sizeof line, " %14s", ("lcore" + std::to_string(l.lcore_id)).c_str());
        out += line;
    }
    out += "          total\n";
    auto rows = [&](auto member, bool skip_zero, const char *prefix) {
        for (std::size_t k = 0; k < (total.*member).size(); ++k) {
            if (skip_zero && (total.*member)[k].second == 0) continue;
            std::snprintf(line, sizeof line, "%-26s", (prefix + (total.*member)[k].first).c_str());
            out += line;
            for (const auto &s : snaps) {
                std::snprintf(line, sizeof line, " %14llu",
                              static_cast<unsigned long long>((s.*member)[k].second));
                out += line;
            }
            std::snprintf(line, sizeof line, " %14llu\n",
                          static_cast<unsigned long long>((total.*member)[k].second));
            out += line;
        }
    };
    rows(&Snapshot::traffic, false, "");
    rows(&Snapshot::drops, true, "drop.");
    for (const StatsSection &sec : sections) {
        out += '\n' + sec.name + '\n';
        for (const auto &[k, v] : sec.values) {
            std::snprintf(line, sizeof line, "  %-32s %14llu\n", k.c_str(),
                          static_cast<unsigned long long>(v));
            out += line;
        }
    }
    return out;
}

std::string format_stats_json(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections) {
    std::vector<Snapshot> snaps;
    for (const auto &l : lcores) snaps.push_back(take(*l.counters));
    std::string out = "{\"lcores\":[";
    for (std::size_t i = 0; i < lcores.size(); ++i) {
        if (i) out += ',';
        out += "{\"lcore\":" + std::to_string(lcores[i].lcore_id) + ",\"counters\":";
        json_object(out, snaps[i].traffic);
        out += ",\"drops\":";
        json_object(out, snaps[i].drops);
        out += '}';
    }
    const Snapshot total = sum(snaps);
    out += "],\"total\":{\"counters\":";
    json_object(out, total.traffic);
    out += ",\"drops\":";
    json_object(out, total.drops);
    out += '}';
    for (const StatsSection &sec : sections) {
        out += ",\"" + sec.name + "\":";
        json_object(out, sec.values);
    }
    out += "}\n";
    return out;
}

}  // namespace ep
