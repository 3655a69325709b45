// The off-peak push's parsers (control/origin_push/): the popularity list
// (JSON from the origin, so untrusted) and the plan over it, and the window
// text. The first byte picks the share and budget; the rest is the list,
// its first line also tried as a window.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control/origin_push/plan.h"
#include "control/origin_push/window.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace ep::push;
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char *>(data + 1), size - 1);
    Window w;
    std::string err;
    if (parse_window(text.substr(0, text.find('\n')), &w, &err)) {
        for (uint32_t s = 0; s < kDaySeconds; s += 997) {
            const bool in = inside(w, s);
            if (in != (seconds_left(w, s) > 0)) __builtin_trap();
        }
        Window again;
        if (!parse_window(format_window(w), &again, &err) || again.start_s != w.start_s ||
            again.end_s != w.end_s)
            __builtin_trap();
    }
    std::vector<Entry> entries;
    if (!parse_list(text, &entries, &err)) return 0;
    PlanInput in;
    in.share_left = uint64_t{data[0]} << 18;
    in.budget_left = uint64_t{data[0]} % 16 << 20;
    in.max_name = 64;
    in.routed = [](std::string_view p) { return p.size() > 2 && p[1] != 'x'; };
    in.stored = [](std::string_view p) { return p.size() % 7 == 0; };
    const std::vector<Skip> d = plan(entries, in);
    if (d.size() != entries.size()) __builtin_trap();
    uint64_t share = 0;
    for (size_t i = 0; i < d.size(); ++i) {
        (void)skip_text(d[i]);
        if (d[i] == Skip::none) share += slot_bytes(entries[i].size);
    }
    if (share > in.share_left) __builtin_trap();  // never planned past the share
    return 0;
}
