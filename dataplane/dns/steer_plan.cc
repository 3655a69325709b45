#include "dataplane/dns/steer_plan.h"

#include <cstring>
#include <map>
#include <tuple>
#include <utility>

namespace ep::dns {

namespace {

uint32_t max_bits(uint16_t family) {
    return family == 1 ? 32 : 128;
}

bool bit(const uint8_t *a, uint32_t i) {
    return (a[i / 8] >> (7 - i % 8)) & 1;
}
void set_bit(uint8_t *a, uint32_t i) {
    a[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
}

void clear_host_bits(uint8_t *a, uint32_t prefix) {
    for (uint32_t i = prefix; i < 128; ++i) a[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
}

// A binary trie over one owner's prefixes of one family. val is a set
// index or -1 (no answer); after push_down() only leaves carry values.
struct Trie {
    struct Node {
        int32_t child[2] = {-1, -1};
        int32_t val = -1;
    };
    std::vector<Node> n = std::vector<Node>(1);
    uint32_t bits = 32;

    void insert(const uint8_t *net, uint32_t prefix, int32_t val) {
        int32_t i = 0;
        for (uint32_t d = 0; d < prefix; ++d) {
            const int b = bit(net, d);
            if (n[i].child[b] < 0) {
                n[i].child[b] = static_cast<int32_t>(n.size());
                n.emplace_back();
            }
            i = n[i].child[b];
        }
        n[i].val = val;  // the same prefix twice: the later route wins
    }
    bool leaf(int32_t i) const { return n[i].child[0] < 0 && n[i].child[1] < 0; }

    // Makes the prefixes disjoint (an inner value moves down into the
    // children that do not have one of their own) and merges siblings that
    // ended up with the same value (a missing child is "no answer").
    void push_down(int32_t i, uint32_t depth, int32_t inherited) {
        if (n[i].val >= 0) inherited = n[i].val;
        if (leaf(i)) {
            n[i].val = inherited;
            return;
        }
        n[i].val = -1;
        for (int b = 0; b < 2; ++b) {
            if (n[i].child[b] < 0) {
                if (inherited < 0) continue;
                const auto c = static_cast<int32_t>(n.size());
                n.emplace_back();
                n[c].val = inherited;
                n[i].child[b] = c;
            } else {
                push_down(n[i].child[b], depth + 1, inherited);
            }
        }
        // -2: a child that is not a leaf, so no merge.
        auto value = [&](int32_t c) { return c < 0 ? -1 : leaf(c) ? n[c].val : -2; };
        const int32_t v0 = value(n[i].child[0]), v1 = value(n[i].child[1]);
        if (v0 != -2 && v0 == v1) {
            n[i].child[0] = n[i].child[1] = -1;  // the children stay as garbage nodes
            n[i].val = v0;
        }
    }

    template <class Fn>
    void leaves(int32_t i, uint32_t depth, uint8_t *path, Fn &&fn) const {
        if (leaf(i)) {
            if (n[i].val >= 0) fn(path, depth, n[i].val);
            return;
        }
        for (int b = 0; b < 2; ++b) {
            if (n[i].child[b] < 0) continue;
            uint8_t p[16];
            std::memcpy(p, path, 16);
            if (b) set_bit(p, depth);
            leaves(n[i].child[b], depth + 1, p, fn);
        }
    }
};

using SetKey = std::tuple<uint32_t, std::vector<uint8_t>, std::vector<uint8_t>>;

}  // namespace

SteerMap aggregate(const SteerMap &map) {
    SteerMap out;
    out.version = map.version;
    // Sets by content: the routes of two equal sets are one answer.
    std::map<SetKey, uint32_t> by_content;
    std::vector<uint32_t> remap(map.sets.size());
    for (size_t i = 0; i < map.sets.size(); ++i) {
        const SteerMap::AnswerSet &s = map.sets[i];
        auto [it, fresh] = by_content.try_emplace(SetKey{s.ttl, s.v4, s.v6},
                                                  static_cast<uint32_t>(out.sets.size()));
        if (fresh) out.sets.push_back(s);
        remap[i] = it->second;
    }
    std::map<std::pair<std::string, uint16_t>, Trie> tries;
    for (const SteerMap::Route &r : map.routes) {
        if (r.set >= map.sets.size() || (r.family != 1 && r.family != 2) ||
            r.prefix > max_bits(r.family))
            continue;  // plan_steering() reports these
        Trie &t = tries[{r.owner, r.family}];
        t.bits = max_bits(r.family);
        uint8_t net[16];
        std::memcpy(net, r.net, 16);
        clear_host_bits(net, r.prefix);
        t.insert(net, r.prefix, static_cast<int32_t>(remap[r.set]));
    }
    for (auto &entry : tries) {
        // Not a structured binding: clang 14 (the fuzz build's compiler)
        // refuses to capture one in the lambda below.
        const auto &key = entry.first;
        auto &t = entry.second;
        t.push_down(0, 0, -1);
        uint8_t root[16] = {};
        t.leaves(0, 0, root, [&](const uint8_t *net, uint32_t prefix, int32_t val) {
            SteerMap::Route r;
            r.owner = key.first;
            r.family = key.second;
            r.prefix = static_cast<uint8_t>(prefix);
            std::memcpy(r.net, net, 16);
            r.set = static_cast<uint32_t>(val);
            out.routes.push_back(std::move(r));
        });
    }
    return out;
}

bool plan_steering(const SteerMap &map, SteerPlan *out, std::string *err) {
    for (const SteerMap::Route &r : map.routes) {
        if (r.owner.empty()) return *err = "a route without an owner name", false;
        if (r.family != 1 && r.family != 2)
            return *err = "route family " + std::to_string(r.family) + " (1 or 2)", false;
        if (r.prefix > max_bits(r.family))
            return *err = "prefix length " + std::to_string(r.prefix) + " too long", false;
        if (r.set >= map.sets.size())
            return *err = "route names answer set " + std::to_string(r.set) + " of " +
                          std::to_string(map.sets.size()),
                   false;
    }
    const SteerMap agg = aggregate(map);
    *out = SteerPlan{};
    out->sets = agg.sets;
    std::map<std::string, uint32_t> owner_ix;
    for (const SteerMap::Route &r : agg.routes) owner_ix.try_emplace(r.owner, 0);
    for (auto &[name, ix] : owner_ix) {
        ix = static_cast<uint32_t>(out->owners.size());
        out->owners.push_back(name);
    }
    // (family, prefix, net) -> region; and per owner the same key -> route.
    using Key = std::tuple<uint16_t, uint8_t, std::vector<uint8_t>>;
    auto key = [](uint16_t fam, uint8_t prefix, const uint8_t *net) {
        return Key{fam, prefix, std::vector<uint8_t>(net, net + 16)};
    };
    std::map<Key, uint32_t> regions;
    std::vector<std::map<Key, const SteerMap::Route *>> per_owner(out->owners.size());
    for (const SteerMap::Route &r : agg.routes) {
        regions.try_emplace(key(r.family, r.prefix, r.net), 0);
        per_owner[owner_ix[r.owner]][key(r.family, r.prefix, r.net)] = &r;
    }
    // std::map orders by family first: IPv4 regions, then IPv6.
    for (auto &[k, ix] : regions) {
        ix = static_cast<uint32_t>(out->regions.size());
        SteerPlan::Region g;
        g.family = std::get<0>(k);
        g.prefix = std::get<1>(k);
        std::memcpy(g.net, std::get<2>(k).data(), 16);
        out->regions.push_back(g);
        (g.family == 1 ? out->v4_regions : out->v6_regions)++;
    }
    const size_t no = out->owners.size();
    out->cells.assign(out->regions.size() * no, SteerPlan::Cell{});
    for (size_t g = 0; g < out->regions.size(); ++g) {
        const SteerPlan::Region &rg = out->regions[g];
        for (size_t o = 0; o < no; ++o) {
            // The owner's prefix containing the region: its prefixes are
            // disjoint, so at most one of the region's ancestors-or-self.
            for (int len = rg.prefix; len >= 0; --len) {
                uint8_t net[16];
                std::memcpy(net, rg.net, 16);
                clear_host_bits(net, static_cast<uint32_t>(len));
                const auto it = per_owner[o].find(key(rg.family, static_cast<uint8_t>(len), net));
                if (it == per_owner[o].end()) continue;
                out->cells[g * no + o] = {it->second->set, it->second->prefix};
                break;
            }
        }
    }
    return true;
}

}  // namespace ep::dns
