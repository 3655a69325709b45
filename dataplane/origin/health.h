// Origin server health (issue 14: "health checks and failover"). Pure and
// fixed-size, per data lcore: the rise/fall state machine the active checks
// and failed fills feed, what a check's answer means, and which server of a
// route a fill tries next.
//
// The thresholds are haproxy's `rise`/`fall` (nginx plus's `passes`/`fails`):
// a server is marked down after `fall` consecutive failures and up again
// after `rise` consecutive passes. Every server starts up (as both do), so a
// fill at start does not wait for a first check.
#pragma once

#include <cstdint>

namespace ep::origin {

struct HealthRule {
    uint8_t rise = 2;
    uint8_t fall = 3;
};

// What the last check (or failed fill) saw.
enum class CheckResult : uint8_t {
    none,         // never checked
    pass,         // an HTTP answer below 500
    refused,      // connection refused or reset before an answer
    timeout,      // no answer within the check's timeout
    bad_status,   // 5xx
    bad_answer,   // not HTTP, or cut short before the status line
    fill_failed,  // passive: a fill from it failed (connect, timeout, bad answer)
};

inline const char *check_result_name(CheckResult r) {
    switch (r) {
        case CheckResult::none:
            return "-";
        case CheckResult::pass:
            return "pass";
        case CheckResult::refused:
            return "refused";
        case CheckResult::timeout:
            return "timeout";
        case CheckResult::bad_status:
            return "5xx";
        case CheckResult::bad_answer:
            return "bad-answer";
        case CheckResult::fill_failed:
            return "fill-failed";
    }
    return "?";
}

struct ServerHealth {
    bool up = true;
    uint8_t passes = 0;  // consecutive
    uint8_t fails = 0;   // consecutive
    CheckResult last = CheckResult::none;
    uint16_t last_status = 0;  // the last check's HTTP status (0: none)
};

// One result in: true when the server's state flipped (up -> down or back).
inline bool record(ServerHealth &h, bool ok, const HealthRule &r) {
    if (ok) {
        h.fails = 0;
        if (h.passes < 255) ++h.passes;
        if (!h.up && h.passes >= r.rise) return h.up = true;
        return false;
    }
    h.passes = 0;
    if (h.fails < 255) ++h.fails;
    if (h.up && h.fails >= r.fall) {
        h.up = false;
        return true;
    }
    return false;
}

// A check's HTTP answer: below 500 the server is serving (2xx, 3xx, and 4xx:
// a 404 for the check path, or a 403 for a directory, is still an answering
// server); 5xx says it is failing.
inline bool status_up(uint16_t status) {
    return status >= 200 && status < 500;
}

// Which server of a route (n of them) a fill tries next, given the ones it
// tried already (bit i: server i): the first untried one that is resolved
// and up, in the route's order; if every untried resolved one is down, the
// first of those anyway (all down: try them as if there were no checks);
// -1 when none is left (or none has an address).
template <class Resolved, class Up>
int pick_server(uint8_t n, uint8_t tried, Resolved &&resolved, Up &&up) {
    int fallback = -1;
    for (uint8_t i = 0; i < n; ++i) {
        if (tried >> i & 1 || !resolved(i)) continue;
        if (up(i)) return i;
        if (fallback < 0) fallback = i;
    }
    return fallback;
}

}  // namespace ep::origin
