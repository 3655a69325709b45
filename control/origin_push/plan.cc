#include "control/origin_push/plan.h"

#include <nlohmann/json.hpp>
#include <unordered_set>

namespace ep::push {

namespace {
constexpr uint64_t kChunk = 256 * 1024;  // chunkstore::kChunkSize (no DPDK here)
}

bool parse_list(std::string_view text, std::vector<Entry> *out, std::string *err) {
    // nlohmann's JSON (already used for etcd's bodies); no exceptions: a bad
    // list is an error line in `edgectl fill`, not a throw in the control loop.
    const nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) {
        *err = "the popularity list is not JSON";
        return false;
    }
    const nlohmann::json *arr = &j;
    if (j.is_object()) {
        auto it = j.find("titles");
        if (it == j.end()) {
            *err = "the popularity list has no \"titles\" array";
            return false;
        }
        arr = &*it;
    }
    if (!arr->is_array()) {
        *err = "the popularity list is not an array";
        return false;
    }
    out->clear();
    for (const nlohmann::json &e : *arr) {
        if (out->size() == kMaxEntries) break;
        Entry en;
        if (e.is_string()) {
            en.path = e.get<std::string>();
        } else if (e.is_object()) {
            auto p = e.find("path");
            if (p == e.end() || !p->is_string()) {
                *err = "a list entry has no \"path\" string";
                return false;
            }
            en.path = p->get<std::string>();
            auto s = e.find("size");
            if (s != e.end()) {
                if (!s->is_number_unsigned()) {
                    *err = "\"size\" of " + en.path + " is not a byte count";
                    return false;
                }
                en.size = s->get<uint64_t>();
            }
        } else {
            *err = "a list entry is neither a path nor an object";
            return false;
        }
        out->push_back(std::move(en));
    }
    return true;
}

const char *skip_name(Skip s) {
    switch (s) {
#define EP_X(name, text) \
    case Skip::name:     \
        return #name;
        EP_PUSH_SKIPS(EP_X)
#undef EP_X
        default:
            return "?";
    }
}

const char *skip_text(Skip s) {
    switch (s) {
#define EP_X(name, text) \
    case Skip::name:     \
        return text;
        EP_PUSH_SKIPS(EP_X)
#undef EP_X
        default:
            return "?";
    }
}

uint64_t slot_bytes(uint64_t size) {
    return (size + kChunk - 1) / kChunk * kChunk;
}

Skip fit(uint64_t size, uint64_t share_left, uint64_t budget_left) {
    if (slot_bytes(size) > share_left) return Skip::share;
    if (size > budget_left) return Skip::budget;
    return Skip::none;
}

std::vector<Skip> plan(const std::vector<Entry> &entries, const PlanInput &in) {
    std::vector<Skip> out;
    out.reserve(entries.size());
    std::unordered_set<std::string_view> seen;
    uint64_t share = in.share_left, budget = in.budget_left;
    for (const Entry &e : entries) {
        const std::string_view p = e.path;
        if (p.size() < 2 || p[0] != '/' || p.size() - 1 > in.max_name ||
            p.find_first_of(" \t\r\n?#") != std::string_view::npos) {
            out.push_back(Skip::bad_path);
            continue;
        }
        if (!seen.insert(p).second) {
            out.push_back(Skip::duplicate);
            continue;
        }
        if (in.routed && !in.routed(p)) {
            out.push_back(Skip::no_route);
            continue;
        }
        if (in.stored && in.stored(p)) {
            out.push_back(Skip::stored);
            continue;
        }
        if (e.size == 0) {  // judged once its first chunk tells the size
            out.push_back(Skip::none);
            continue;
        }
        const Skip s = fit(e.size, share, budget);
        out.push_back(s);
        if (s != Skip::none) continue;
        share -= slot_bytes(e.size);
        budget -= e.size;
    }
    return out;
}

}  // namespace ep::push
