#include "control/cluster/compile.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>

#include "dataplane/dns/zone_table.h"

namespace ep::cluster {

namespace {

constexpr int32_t kUnset = -1;
constexpr int32_t kMixed = -2;  // a subtree that does not answer one thing everywhere

struct Trie {
    struct Node {
        int32_t child[2] = {-1, -1};
        int32_t answer = kUnset;
    };
    std::vector<Node> nodes;
    Trie() { nodes.emplace_back(); }

    void insert(const Prefix &p, int32_t answer) {
        int32_t n = 0;
        for (unsigned b = 0; b < p.len; ++b) {
            const int bit = (p.net[b / 8] >> (7 - b % 8)) & 1;
            if (nodes[n].child[bit] < 0) {
                nodes[n].child[bit] = static_cast<int32_t>(nodes.size());
                nodes.emplace_back();  // may reallocate: index, never hold references
            }
            n = nodes[n].child[bit];
        }
        if (answer >= 0) nodes[n].answer = answer;
    }

    // What node n's whole space answers (kMixed when not one thing), given
    // `inherited` from above; rewrites the subtree to its minimal form.
    int32_t solve(int32_t n, int32_t inherited) {
        const int32_t own = nodes[n].answer >= 0 ? nodes[n].answer : inherited;
        int32_t u[2];
        for (int b = 0; b < 2; ++b) {
            const int32_t c = nodes[n].child[b];
            u[b] = c < 0 ? own : solve(c, own);
        }
        if (u[0] == u[1] && u[0] != kMixed) {
            nodes[n].child[0] = nodes[n].child[1] = -1;
            nodes[n].answer = u[0] == inherited ? kUnset : u[0];
            return u[0];
        }
        if (own == inherited) nodes[n].answer = kUnset;  // redundant: the cover says the same
        return kMixed;
    }

    void emit(int32_t n, Prefix &at, std::vector<Route> *out) const {
        if (nodes[n].answer >= 0) out->push_back({at, nodes[n].answer});
        for (int b = 0; b < 2; ++b) {
            const int32_t c = nodes[n].child[b];
            if (c < 0) continue;
            const unsigned bit = at.len;
            if (b) at.net[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
            ++at.len;
            emit(c, at, out);
            --at.len;
            at.net[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
        }
    }
};

}  // namespace

std::vector<Route> aggregate(const std::vector<Route> &in) {
    std::vector<Route> out;
    for (uint8_t family : {uint8_t{1}, uint8_t{2}}) {
        Trie t;
        bool any = false;
        for (const Route &r : in)
            if (r.prefix.family == family) t.insert(r.prefix, r.answer), any = true;
        if (!any) continue;
        t.solve(0, kUnset);
        Prefix at;
        at.family = family;
        t.emit(0, at, &out);
    }
    return out;
}

dns::SteerMap compile(const Model &m, const std::vector<std::vector<int32_t>> &answers,
                      const std::vector<uint32_t> &group_of_name, uint64_t version,
                      CompileStats *st, const std::vector<std::vector<Placed>> *placed) {
    dns::SteerMap map;
    map.version = version;
    // One answer set per (cluster, TTL, group placed on its own appliances;
    // 0 for the cluster's whole address list).
    std::map<std::tuple<int32_t, uint32_t, uint32_t>, uint32_t> set_of;
    auto set_index = [&](int32_t cluster, uint32_t ttl, uint32_t g) {
        const Placed *p = nullptr;
        if (placed && g < placed->size() && static_cast<std::size_t>(cluster) < (*placed)[g].size() &&
            !(*placed)[g][cluster].empty())
            p = &(*placed)[g][cluster];
        auto [it, fresh] = set_of.try_emplace({cluster, ttl, p ? g + 1 : 0},
                                              static_cast<uint32_t>(map.sets.size()));
        if (fresh) {
            dns::SteerMap::AnswerSet s;
            s.ttl = ttl;
            for (const auto &a : p ? p->v4 : m.clusters[cluster].v4)
                s.v4.insert(s.v4.end(), a.begin(), a.end());
            for (const auto &a : p ? p->v6 : m.clusters[cluster].v6)
                s.v6.insert(s.v6.end(), a.begin(), a.end());
            map.sets.push_back(std::move(s));
        }
        return it->second;
    };
    std::vector<std::vector<Route>> per_group(answers.size());
    std::vector<bool> done(answers.size(), false);
    *st = {};
    for (std::size_t n = 0; n < m.names.size(); ++n) {
        const uint32_t g = group_of_name[n];
        if (!done[g]) {
            std::vector<Route> in;
            in.reserve(m.clients.size());
            for (std::size_t i = 0; i < m.clients.size(); ++i)
                if (answers[g][i] >= 0) in.push_back({m.clients[i].prefix, answers[g][i]});
            st->input = in.size();
            per_group[g] = aggregate(in);
            st->routes = per_group[g].size();
            done[g] = true;
        }
        uint8_t wire[255], lower[255];
        uint32_t len = 0;
        if (!dns::name_from_text(m.names[n].owner.c_str(), wire, &len)) continue;  // validated
        dns::name_lower(wire, lower);
        const std::string owner(reinterpret_cast<const char *>(lower), len);
        for (const Route &r : per_group[g]) {
            dns::SteerMap::Route out;
            out.owner = owner;
            out.family = r.prefix.family;
            out.prefix = r.prefix.len;
            std::memcpy(out.net, r.prefix.net, 16);
            out.set = set_index(r.answer, m.names[n].ttl, g);
            map.routes.push_back(std::move(out));
        }
    }
    return map;
}

}  // namespace ep::cluster
