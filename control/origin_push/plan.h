// The off-peak push's decisions (issue 14, docs/origin.md "Off-peak push"):
// the origin's popularity list, and which of its titles to push. Pure: the
// store and the routes are asked through callbacks, the budget is numbers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::push {

// One listed title: a request path on an origin route, and its size in
// bytes when the list says (0: unknown, learned from its first chunk).
struct Entry {
    std::string path;
    uint64_t size = 0;
};

// The popularity list, most popular first: a JSON array whose elements are
// "PATH" strings or {"path": "PATH", "size": BYTES} objects (other keys
// ignored), or an object with such an array under "titles". At most
// kMaxEntries are kept.
constexpr size_t kMaxEntries = 4096;
bool parse_list(std::string_view json, std::vector<Entry> *out, std::string *err);

#define EP_PUSH_SKIPS(X)                                                                  \
    X(none, "pushed")                                                                     \
    X(bad_path, "not a request path (want /PATH, at most the store's name length)")       \
    X(duplicate, "listed twice (the first, more popular, place counts)")                  \
    X(no_route, "no --origin route for this path")                                        \
    X(stored, "already stored")                                                           \
    X(share, "does not fit the push share of the store")                                  \
    X(budget, "does not fit the bandwidth budget: the window ends before it would be in") \
    X(outside_window, "outside the window: the window closed before it was reached")      \
    X(failed, "the origin failed it (its fetches gave up)")

enum class Skip : uint8_t {
#define EP_X(name, text) name,
    EP_PUSH_SKIPS(EP_X)
#undef EP_X
        count_
};
const char *skip_name(Skip s);
const char *skip_text(Skip s);

// What pushing `size` bytes costs the share: the store keeps whole 256 KiB
// RAM slots, so a partial last chunk takes a whole one.
uint64_t slot_bytes(uint64_t size);

// May an object of `size` bytes (known) be pushed with this much of the
// share and of the bandwidth budget (cap * seconds left in the window)
// left? none, share or budget.
Skip fit(uint64_t size, uint64_t share_left, uint64_t budget_left);

struct PlanInput {
    uint64_t share_left = 0;   // slot bytes pushed objects may still take
    uint64_t budget_left = 0;  // bytes the cap lets through before the window ends
    std::function<bool(std::string_view path)> routed;  // an --origin route matches
    std::function<bool(std::string_view path)> stored;  // the store holds it whole
    size_t max_name = 0;                                // longest store name (path minus '/')
};

// In rank order: every entry's decision. Greedy, most popular first: an
// entry that does not fit is skipped and the next, smaller one may still
// fit. An entry of unknown size is planned (none) and judged with fit()
// once its first chunk told the size; it takes no share until then.
std::vector<Skip> plan(const std::vector<Entry> &entries, const PlanInput &in);

}  // namespace ep::push
