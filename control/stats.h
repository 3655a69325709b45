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

std::string format_stats_text(const std::vector<LcoreStatsSource> &lcores);
std::string format_stats_json(const std::vector<LcoreStatsSource> &lcores);

}  // namespace ep
