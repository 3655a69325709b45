#include "control/stats.h"

#include <cstdio>
#include <map>

namespace ep {

namespace {

struct Snapshot {
    std::vector<StatValue> traffic, drops;
};

// One lcore's counters, in X-macro order (so every snapshot lists the same
// names in the same order and sums go by position).
Snapshot take(const LcoreCounters &c) {
    Snapshot s;
    for_each_counter(
        c, [&](std::string_view name, std::string_view help, uint64_t v, bool is_drop) {
            (is_drop ? s.drops : s.traffic).push_back({std::string(name), v, std::string(help)});
        });
    return s;
}

Snapshot sum(const std::vector<Snapshot> &all) {
    if (all.empty()) return {};
    Snapshot t = all[0];
    for (std::size_t i = 1; i < all.size(); ++i) {
        for (std::size_t k = 0; k < t.traffic.size(); ++k)
            t.traffic[k].value += all[i].traffic[k].value;
        for (std::size_t k = 0; k < t.drops.size(); ++k) t.drops[k].value += all[i].drops[k].value;
    }
    return t;
}

void json_object(std::string &out, const std::vector<StatValue> &kv) {
    out += '{';
    for (std::size_t i = 0; i < kv.size(); ++i) {
        if (i) out += ',';
        out += '"' + kv[i].name + "\":" + std::to_string(kv[i].value);
    }
    out += '}';
}

uint64_t value(const Snapshot &s, std::string_view name) {
    for (const StatValue &c : s.traffic)
        if (c.name == name) return c.value;
    return 0;
}

// Share of the loop's cycles that received work, in percent.
double busy_pct(const Snapshot &s) {
    const uint64_t busy = value(s, "busy_cycles"), all = busy + value(s, "idle_cycles");
    return all ? 100.0 * static_cast<double>(busy) / static_cast<double>(all) : 0.0;
}

// False (with *err) when only names neither the lcore table nor a section.
bool known_filter(const std::vector<StatsSection> &sections, const std::string &only,
                  std::string *err) {
    if (only.empty() || only == "lcores") return true;
    std::string names = "lcores";
    for (const StatsSection &sec : sections) {
        if (sec.name == only) return true;
        names += ", " + sec.name;
    }
    if (err) *err = "no stats section '" + only + "' (sections: " + names + ")";
    return false;
}

}  // namespace

std::vector<StatValue> lcore_totals(const std::vector<LcoreStatsSource> &lcores) {
    std::vector<Snapshot> snaps;
    for (const auto &l : lcores) snaps.push_back(take(*l.counters));
    Snapshot total = snaps.empty() ? take(LcoreCounters{}) : sum(snaps);
    std::vector<StatValue> out = std::move(total.traffic);
    for (StatValue &d : total.drops) {
        d.name = "drop." + d.name;
        out.push_back(std::move(d));
    }
    return out;
}

std::string format_stats_text(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections, const std::string &only,
                              std::string *err) {
    if (!known_filter(sections, only, err)) return "";
    std::vector<Snapshot> snaps;
    for (const auto &l : lcores) snaps.push_back(take(*l.counters));
    const Snapshot total = sum(snaps);
    std::string out;
    char line[256];
    auto print_sections = [&] {
        for (const StatsSection &sec : sections) {
            if (!only.empty() && sec.name != only) continue;
            out += (out.empty() ? "" : "\n") + sec.name + '\n';
            for (const StatValue &c : sec.values) {
                std::snprintf(line, sizeof line, "  %-32s %14llu\n", c.name.c_str(),
                              static_cast<unsigned long long>(c.value));
                out += line;
            }
        }
    };
    if (!only.empty() && only != "lcores") {
        print_sections();
        return out;
    }
    std::snprintf(line, sizeof line, "%-26s", "counter");
    out += line;
    for (const auto &l : lcores) {
        std::snprintf(line, sizeof line, " %14s", ("lcore" + std::to_string(l.lcore_id)).c_str());
        out += line;
    }
    out += "          total\n";
    auto rows = [&](auto member, bool skip_zero, const char *prefix) {
        for (std::size_t k = 0; k < (total.*member).size(); ++k) {
            if (skip_zero && (total.*member)[k].value == 0) continue;
            std::snprintf(line, sizeof line, "%-26s", (prefix + (total.*member)[k].name).c_str());
            out += line;
            for (const auto &s : snaps) {
                std::snprintf(line, sizeof line, " %14llu",
                              static_cast<unsigned long long>((s.*member)[k].value));
                out += line;
            }
            std::snprintf(line, sizeof line, " %14llu\n",
                          static_cast<unsigned long long>((total.*member)[k].value));
            out += line;
            if ((total.*member)[k].name != "idle_cycles") continue;
            std::snprintf(line, sizeof line, "%-26s", "busy_pct");
            out += line;
            for (const auto &s : snaps) {
                std::snprintf(line, sizeof line, " %14.1f", busy_pct(s));
                out += line;
            }
            std::snprintf(line, sizeof line, " %14.1f\n", busy_pct(total));
            out += line;
        }
    };
    rows(&Snapshot::traffic, false, "");
    rows(&Snapshot::drops, true, "drop.");
    if (only.empty()) print_sections();
    return out;
}

std::string format_stats_json(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections, const std::string &only,
                              std::string *err) {
    if (!known_filter(sections, only, err)) return "";
    std::string out = "{";
    if (!only.empty() && only != "lcores") {
        for (const StatsSection &sec : sections)
            if (sec.name == only) {
                out += '"' + sec.name + "\":";
                json_object(out, sec.values);
            }
        return out + "}\n";
    }
    std::vector<Snapshot> snaps;
    for (const auto &l : lcores) snaps.push_back(take(*l.counters));
    char pct[32];
    out += "\"lcores\":[";
    for (std::size_t i = 0; i < lcores.size(); ++i) {
        if (i) out += ',';
        std::snprintf(pct, sizeof pct, "%.1f", busy_pct(snaps[i]));
        out += "{\"lcore\":" + std::to_string(lcores[i].lcore_id) + ",\"busy_pct\":" + pct +
               ",\"counters\":";
        json_object(out, snaps[i].traffic);
        out += ",\"drops\":";
        json_object(out, snaps[i].drops);
        out += '}';
    }
    const Snapshot total = sum(snaps);
    std::snprintf(pct, sizeof pct, "%.1f", busy_pct(total));
    out += "],\"total\":{\"busy_pct\":" + std::string(pct) + ",\"counters\":";
    json_object(out, total.traffic);
    out += ",\"drops\":";
    json_object(out, total.drops);
    out += '}';
    if (only == "lcores") return out + "}\n";
    for (const StatsSection &sec : sections) {
        out += ",\"" + sec.name + "\":";
        json_object(out, sec.values);
    }
    out += "}\n";
    return out;
}

std::string format_stats_help(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections, const std::string &only,
                              std::string *err) {
    if (!known_filter(sections, only, err)) return "";
    std::string out;
    auto list = [&out](const std::vector<StatValue> &values, const char *indent) {
        for (const StatValue &c : values) {
            out += indent + c.name;
            const std::size_t w = std::string(indent).size() + c.name.size();
            out.append(w < 34 ? 34 - w : 1, ' ');
            out += (c.help.empty() ? "-" : c.help) + (c.gauge ? " (gauge)" : "") + '\n';
        }
    };
    if (only.empty() || only == "lcores") {
        out += "lcores (per lcore and total)\n";
        list(lcore_totals(lcores), "  ");
    }
    for (const StatsSection &sec : sections) {
        if (only == "lcores" || (!only.empty() && sec.name != only)) continue;
        out += sec.name + '\n';
        list(sec.values, "  ");
    }
    return out;
}

}  // namespace ep
