#include "control/telemetry.h"

#include <rte_telemetry.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>

namespace ep {

namespace {

struct Bridge {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    uint64_t wanted = 0;  // tickets handed out to commands
    uint64_t served = 0;  // the newest ticket snap answers
    std::vector<Metric> snap;
};
Bridge g_bridge;  // static storage: outlives the daemon, as the registered commands do

bool fetch(std::vector<Metric> *out) {
    std::unique_lock lk(g_bridge.mu);
    if (!g_bridge.open) return false;
    const uint64_t ticket = ++g_bridge.wanted;
    g_bridge.cv.wait_for(lk, std::chrono::seconds(1),
                         [&] { return g_bridge.served >= ticket || !g_bridge.open; });
    if (!g_bridge.open) return false;
    *out = g_bridge.snap;  // fresh, or the last one when the control thread is busy (an ingest)
    return true;
}

int stats_cmd(const char *, const char *params, rte_tel_data *d) {
    std::vector<Metric> m;
    if (!fetch(&m)) return -EAGAIN;
    const std::string p = params ? params : "";
    if (p.empty()) {
        rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
        std::vector<std::string> seen;
        for (const Metric &x : m) {
            if (std::find(seen.begin(), seen.end(), x.section) != seen.end()) continue;
            seen.push_back(x.section);
            rte_tel_data_add_array_string(d, x.section.c_str());
        }
        return 0;
    }
    const std::size_t comma = p.find(',');
    const std::string section = p.substr(0, comma);
    int lcore = -1;
    if (comma != std::string::npos) {
        char *end = nullptr;
        const long v = std::strtol(p.c_str() + comma + 1, &end, 10);
        if (end == p.c_str() + comma + 1 || *end != '\0' || v < 0) return -EINVAL;
        lcore = static_cast<int>(v);
    }
    // Sum by name in first-seen order (every instance visits the same names).
    std::vector<std::pair<std::string, uint64_t>> sums;
    for (const Metric &x : m) {
        if (x.section != section || x.is_real) continue;  // telemetry has no floats in 22.11
        if (lcore >= 0 && x.lcore != lcore) continue;
        auto it =
            std::find_if(sums.begin(), sums.end(), [&](auto &s) { return s.first == x.name; });
        if (it == sums.end())
            sums.emplace_back(x.name, x.value);
        else
            it->second += x.value;
    }
    if (sums.empty()) return -EINVAL;  // no such section (or lcore)
    rte_tel_data_start_dict(d);
    for (std::size_t i = 0; i < sums.size() && i < RTE_TEL_MAX_DICT_ENTRIES; ++i) {
        // Telemetry refuses names with characters other than [A-Za-z0-9_/]
        // (the dot of drops.REASON): those become '_'.
        std::string name = sums[i].first;
        for (char &ch : name)
            if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '/') ch = '_';
        rte_tel_data_add_dict_u64(d, name.c_str(), sums[i].second);
    }
    return 0;
}

}  // namespace

void telemetry_open() {
    static bool registered = false;
    if (!registered) {
        rte_telemetry_register_cmd(
            "/edgeplane/stats", stats_cmd,
            "edgeplane counters. No parameters: the sections. Parameters: SECTION[,LCORE]");
        registered = true;
    }
    std::lock_guard lk(g_bridge.mu);
    g_bridge.open = true;
}

void telemetry_serve(const std::function<std::vector<Metric>()> &collect) {
    uint64_t target;
    {
        std::lock_guard lk(g_bridge.mu);
        if (!g_bridge.open || g_bridge.served == g_bridge.wanted) return;
        target = g_bridge.wanted;  // a command that comes during collect() waits for the next
    }
    std::vector<Metric> m = collect();
    {
        std::lock_guard lk(g_bridge.mu);
        g_bridge.snap = std::move(m);
        g_bridge.served = target;
    }
    g_bridge.cv.notify_all();
}

void telemetry_close() {
    {
        std::lock_guard lk(g_bridge.mu);
        g_bridge.open = false;
        g_bridge.snap.clear();
    }
    g_bridge.cv.notify_all();
}

}  // namespace ep
