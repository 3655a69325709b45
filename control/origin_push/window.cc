#include "control/origin_push/window.h"

#include <cstdio>

namespace ep::push {

namespace {
// "H:MM" or "HH:MM" -> seconds after midnight; 24:00 only when allow_24.
bool parse_hhmm(std::string_view t, bool allow_24, uint32_t *out) {
    const size_t colon = t.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 2 || t.size() != colon + 3)
        return false;
    uint32_t h = 0, m = 0;
    for (size_t i = 0; i < colon; ++i) {
        if (t[i] < '0' || t[i] > '9') return false;
        h = h * 10 + static_cast<uint32_t>(t[i] - '0');
    }
    for (size_t i = colon + 1; i < t.size(); ++i) {
        if (t[i] < '0' || t[i] > '9') return false;
        m = m * 10 + static_cast<uint32_t>(t[i] - '0');
    }
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24))) return false;
    *out = h * 3600 + m * 60;
    return true;
}
}  // namespace

bool parse_window(std::string_view text, Window *w, std::string *err) {
    const size_t dash = text.find('-');
    Window r;
    if (dash == std::string_view::npos || !parse_hhmm(text.substr(0, dash), false, &r.start_s) ||
        !parse_hhmm(text.substr(dash + 1), true, &r.end_s)) {
        *err = "push window '" + std::string(text) + "': want HH:MM-HH:MM (local time)";
        return false;
    }
    if (r.end_s == kDaySeconds) r.end_s = 0;  // "…-24:00" ends at midnight
    if (r.start_s == r.end_s) {
        *err = "push window '" + std::string(text) + "' is empty (start equals end)";
        return false;
    }
    *w = r;
    return true;
}

bool inside(const Window &w, uint32_t day_s) {
    day_s %= kDaySeconds;
    if (w.start_s < w.end_s) return day_s >= w.start_s && day_s < w.end_s;
    return day_s >= w.start_s || day_s < w.end_s;  // wraps past midnight
}

uint32_t seconds_left(const Window &w, uint32_t day_s) {
    day_s %= kDaySeconds;
    if (!inside(w, day_s)) return 0;
    return (w.end_s + kDaySeconds - day_s) % kDaySeconds;  // > 0: the end is excluded
}

std::string format_window(const Window &w) {
    char b[32];  // room for any uint32 fields: the compiler cannot see they are < 24 h
    const uint32_t e = w.end_s == 0 ? kDaySeconds : w.end_s;
    std::snprintf(b, sizeof b, "%02u:%02u-%02u:%02u", w.start_s / 3600, w.start_s / 60 % 60,
                  e / 3600, e / 60 % 60);
    return b;
}

}  // namespace ep::push
