// The off-peak push window (issue 14, docs/origin.md "Off-peak push"):
// "HH:MM-HH:MM" in local time, the end excluded; an end before the start
// wraps past midnight ("22:00-04:00"). Pure: the caller gives the time of
// day, so tests (and --push-clock-offset-s) choose the clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ep::push {

struct Window {
    uint32_t start_s = 0;  // seconds after local midnight
    uint32_t end_s = 0;    // excluded; < start_s: the window wraps past midnight
};

constexpr uint32_t kDaySeconds = 86400;

// "HH:MM-HH:MM" (24 h, leading zeros optional, "24:00" allowed as an end).
// False with *err on anything else, and for an empty window (start == end).
bool parse_window(std::string_view text, Window *w, std::string *err);

// Is `day_s` (seconds after local midnight, 0..86399) inside the window?
bool inside(const Window &w, uint32_t day_s);

// Seconds from `day_s` until the window closes (0 when outside it).
uint32_t seconds_left(const Window &w, uint32_t day_s);

// "02:00-06:00" again.
std::string format_window(const Window &w);

}  // namespace ep::push
