#include "control/top.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <thread>
#include <vector>

#include "control/admin_socket.h"

namespace ep {

TopSnapshot parse_top_snapshot(const std::string &text) {
    TopSnapshot s;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t nl = text.find('\n', at);
        if (nl == std::string::npos) nl = text.size();
        const std::string line = text.substr(at, nl - at);
        at = nl + 1;
        const std::size_t sp = line.rfind(' ');
        if (sp == std::string::npos || sp == 0) continue;
        s[line.substr(0, sp)] += std::strtod(line.c_str() + sp + 1, nullptr);
    }
    return s;
}

namespace {

double get(const TopSnapshot &s, const std::string &key) {
    const auto it = s.find(key);
    return it == s.end() ? 0 : it->second;
}
double rate(const TopSnapshot &prev, const TopSnapshot &cur, const std::string &key, double secs) {
    if (prev.empty() || secs <= 0) return 0;
    const double d = get(cur, key) - get(prev, key);
    return d > 0 ? d / secs : 0;  // a counter reset (daemon restarted) shows 0, not a spike
}

struct Key {
    std::string section, name, lcore;
};
Key split(const std::string &k) {
    const std::size_t a = k.find(' '), b = k.rfind(' ');
    if (a == std::string::npos || a == b) return {k, "", ""};
    return {k.substr(0, a), k.substr(a + 1, b - a - 1), k.substr(b + 1)};
}

std::string human(double v, const char *unit) {
    static constexpr const char *kPrefix[] = {"", "k", "M", "G", "T"};
    int i = 0;
    while (v >= 1000 && i < 4) v /= 1000, ++i;
    char b[32];
    const bool space = i > 0 || *unit;
    std::snprintf(b, sizeof b, i ? "%.1f%s%s%s" : "%.0f%s%s%s", v, space ? " " : "", kPrefix[i],
                  unit);
    return b;
}

std::string mib(double bytes) {
    char b[32];
    std::snprintf(b, sizeof b, "%.0f", bytes / (1 << 20));
    return b;
}

// Sections that are not services (they get their own block).
const std::set<std::string> kNotServices = {"lcore",      "tcp",        "port", "cache",
                                            "chunkstore", "access_log", "title"};
// What a service counts as its requests: the first of these it has.
const char *const kRequestCounters[] = {"requests",  "queries",  "announces",
                                        "datagrams", "connects", "connections"};

}  // namespace

std::string render_top(const TopSnapshot &prev, const TopSnapshot &cur, double secs) {
    std::string o;
    char line[256];
    const time_t now = time(nullptr);
    tm local{};
    localtime_r(&now, &local);
    char ts[16];
    std::strftime(ts, sizeof ts, "%H:%M:%S", &local);
    std::snprintf(line, sizeof line,
                  "\x1b[1medgeplane top\x1b[0m  %s  (every %.1f s, Ctrl-C quits)\n\n", ts,
                  secs > 0 ? secs : 1.0);
    o += line;

    // Per lcore.
    std::vector<std::string> lcores;
    std::set<std::string> services;
    for (const auto &[k, v] : cur) {
        const Key key = split(k);
        if (key.section == "lcore" && key.name == "rx_packets") lcores.push_back(key.lcore);
        if (!kNotServices.count(key.section) && !key.lcore.empty() && k.rfind("title ", 0) != 0)
            services.insert(key.section);
    }
    std::snprintf(line, sizeof line, "\x1b[7m%-6s %12s %12s %14s %14s %7s %10s\x1b[0m\n", "lcore",
                  "rx pkt/s", "tx pkt/s", "rx bit/s", "tx bit/s", "busy %", "drops/s");
    o += line;
    for (const std::string &l : lcores) {
        const std::string p = "lcore ", s = " " + l;
        const double busy = get(cur, p + "busy_cycles" + s) - get(prev, p + "busy_cycles" + s);
        const double idle = get(cur, p + "idle_cycles" + s) - get(prev, p + "idle_cycles" + s);
        double drops = 0;
        for (const auto &[k, v] : cur)
            if (k.rfind("lcore drops.", 0) == 0 && k.size() > s.size() &&
                k.compare(k.size() - s.size(), s.size(), s) == 0)
                drops += rate(prev, cur, k, secs);
        std::snprintf(line, sizeof line, "%-6s %12s %12s %14s %14s %7.1f %10s\n", l.c_str(),
                      human(rate(prev, cur, p + "rx_packets" + s, secs), "").c_str(),
                      human(rate(prev, cur, p + "tx_packets" + s, secs), "").c_str(),
                      human(8 * rate(prev, cur, p + "rx_bytes" + s, secs), "b").c_str(),
                      human(8 * rate(prev, cur, p + "tx_bytes" + s, secs), "b").c_str(),
                      prev.empty() || busy + idle <= 0 ? 0.0 : 100.0 * busy / (busy + idle),
                      human(drops, "").c_str());
        o += line;
    }

    // Per service, summed over lcores.
    std::snprintf(line, sizeof line, "\n\x1b[7m%-12s %12s %12s %14s\x1b[0m\n", "service", "req/s",
                  "new conn/s", "open conns");
    o += line;
    auto sum_over_lcores = [&](const TopSnapshot &s, const std::string &sec,
                               const std::string &name) {
        double t = 0;
        const std::string head = sec + " " + name + " ";
        for (auto it = s.lower_bound(head); it != s.end() && it->first.rfind(head, 0) == 0; ++it)
            t += it->second;
        return t;
    };
    auto svc_rate = [&](const std::string &sec, const std::string &name) {
        if (prev.empty() || secs <= 0) return 0.0;
        const double d = sum_over_lcores(cur, sec, name) - sum_over_lcores(prev, sec, name);
        return d > 0 ? d / secs : 0.0;
    };
    auto has = [&](const std::string &sec, const std::string &name) {
        const std::string head = sec + " " + name + " ";
        const auto it = cur.lower_bound(head);
        return it != cur.end() && it->first.rfind(head, 0) == 0;
    };
    for (const std::string &svc : services) {
        std::string req = "-";
        for (const char *c : kRequestCounters)
            if (has(svc, c)) {
                req = human(svc_rate(svc, c), "");
                break;
            }
        const std::string conns =
            has(svc, "connections") ? human(svc_rate(svc, "connections"), "") : "-";
        const std::string open = has(svc, "connections_open")
                                     ? human(sum_over_lcores(cur, svc, "connections_open"), "")
                                     : "-";
        std::snprintf(line, sizeof line, "%-12s %12s %12s %14s\n", svc.c_str(), req.c_str(),
                      conns.c_str(), open.c_str());
        o += line;
    }
    std::snprintf(line, sizeof line, "%-12s %12s %12s %14s\n", "tcp (all)", "-", "-",
                  human(sum_over_lcores(cur, "tcp", "connections_open"), "").c_str());
    o += line;

    // Cache and store.
    const double hits = svc_rate("cache", "hits");
    const double misses = svc_rate("cache", "ram_misses") + svc_rate("cache", "misses");
    const double ratio =
        hits + misses > 0 ? 100 * hits / (hits + misses) : 100 * get(cur, "cache hit_ratio -");
    std::snprintf(
        line, sizeof line,
        "\n\x1b[7mcache\x1b[0m hit ratio %.1f %%%s   RAM %s/%s MiB   disk %s/%s MiB   "
        "evictions/s %s   objects %.0f\n",
        ratio, hits + misses > 0 ? "" : " (since start)",
        mib(get(cur, "chunkstore ram_bytes_used -")).c_str(),
        mib(get(cur, "chunkstore ram_capacity_bytes -")).c_str(),
        mib(get(cur, "chunkstore disk_bytes_used -")).c_str(),
        mib(get(cur, "chunkstore disk_capacity_bytes -")).c_str(),
        human(svc_rate("cache", "evictions") + svc_rate("cache", "object_evictions"), "").c_str(),
        get(cur, "chunkstore objects -"));
    o += line;

    // Titles by bytes served (the access log's tally).
    std::vector<std::pair<double, std::string>> titles;
    for (const auto &[k, v] : cur)
        if (k.rfind("title ", 0) == 0) titles.emplace_back(v, k.substr(6));
    std::sort(titles.rbegin(), titles.rend());
    if (titles.empty()) {
        o += "\ntitles: start edgeplane with --access-log to see titles by bytes served\n";
    } else {
        std::snprintf(line, sizeof line, "\n\x1b[7m%-32s %14s %14s\x1b[0m\n", "title", "bytes",
                      "bit/s");
        o += line;
        for (std::size_t i = 0; i < titles.size() && i < 10; ++i) {
            std::snprintf(
                line, sizeof line, "%-32.32s %14s %14s\n", titles[i].second.c_str(),
                human(titles[i].first, "B").c_str(),
                human(8 * rate(prev, cur, "title " + titles[i].second, secs), "b").c_str());
            o += line;
        }
    }
    return o;
}

int run_top(const std::string &socket, double interval_s, unsigned frames) {
    TopSnapshot prev;
    auto prev_t = std::chrono::steady_clock::now();
    for (unsigned n = 0; frames == 0 || n < frames; ++n) {
        std::string text, err;
        if (!admin_request(
                socket, "top", [&](std::string_view c) { text.append(c); }, &err)) {
            std::fprintf(stderr, "edgectl: %s\n", err.c_str());
            return 2;
        }
        if (text.rfind("error:", 0) == 0) {
            std::fputs(text.c_str(), stderr);
            return 1;
        }
        const auto now = std::chrono::steady_clock::now();
        const double secs = std::chrono::duration<double>(now - prev_t).count();
        TopSnapshot cur = parse_top_snapshot(text);
        // Home and clear, then the frame: a terminal without ANSI support
        // just sees the frames one after the other.
        const std::string frame = "\x1b[H\x1b[J" + render_top(prev, cur, secs);
        std::fwrite(frame.data(), 1, frame.size(), stdout);
        std::fflush(stdout);
        prev = std::move(cur);
        prev_t = now;
        if (frames == 0 || n + 1 < frames)
            std::this_thread::sleep_for(std::chrono::duration<double>(interval_s));
    }
    return 0;
}

}  // namespace ep
