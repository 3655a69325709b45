// Renders the per-lcore counters for `edgectl stats`: a table for people,
// JSON for tools. Values are summed on read; the data lcores never wait.
#pragma once

#include <string>
#include <vector>

#include "dataplane/counters.h"

namespace ep {

struct LcoreStatsSource {
    unsigned lcore_id;
    const LcoreCounters *counters;
};

// One counter of a section with its help text (Prometheus # HELP; empty when
// the owner gives none) and kind (a gauge is a level, not a running total).
struct StatValue {
    std::string name;
    uint64_t value = 0;
    std::string help;
    bool gauge = false;
};

// A named group of process-wide counters shown after the per-lcore table
// (chunk store, cache), already summed by their owner.
struct StatsSection {
    std::string name;
    std::vector<StatValue> values;
};

// The per-lcore counters and drop reasons (dataplane/counters.h), summed over
// the lcores: traffic counters first, then drop reasons named "drop.REASON".
// Every entry carries its help text.
std::vector<StatValue> lcore_totals(const std::vector<LcoreStatsSource> &lcores);

// only: "" for everything, "lcores" for the per-lcore table, or a section's
// name; an unknown name returns "" with *err listing the valid ones.
// busy_pct (busy / (busy + idle) cycles) sits beside the raw cycles.
std::string format_stats_text(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections = {},
                              const std::string &only = "", std::string *err = nullptr);
std::string format_stats_json(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections = {},
                              const std::string &only = "", std::string *err = nullptr);
// `edgectl stats help`: every counter's name and help text (what /metrics will
// print as # HELP), the per-lcore ones first, then each section's.
std::string format_stats_help(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections = {},
                              const std::string &only = "", std::string *err = nullptr);

}  // namespace ep
