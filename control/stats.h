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

// A named group of process-wide counters shown after the per-lcore table
// (chunk store, cache), already summed by their owner.
struct StatsSection {
    std::string name;
    std::vector<std::pair<std::string, uint64_t>> values;
};

// only: "" for everything, "lcores" for the per-lcore table, or a section's
// name; an unknown name returns "" with *err listing the valid ones.
// busy_pct (busy / (busy + idle) cycles) sits beside the raw cycles.
std::string format_stats_text(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections = {},
                              const std::string &only = "", std::string *err = nullptr);
std::string format_stats_json(const std::vector<LcoreStatsSource> &lcores,
                              const std::vector<StatsSection> &sections = {},
                              const std::string &only = "", std::string *err = nullptr);

}  // namespace ep
