#include "dataplane/http_steer_table.h"

#include <rte_errno.h>
#include <rte_memory.h>

#include <atomic>
#include <cstring>

namespace ep {

namespace {

std::atomic<uint32_t> fib_seq{0};  // rte_fib names are global to the process

// The largest next hop an entry of `bytes` holds (one bit of each entry
// marks an extension to the next level): the "no route" default. Next hops
// as small as the route count allows: the IPv4 FIB's first level is 2^24
// entries (16 MiB at 1 byte, 64 MiB at 4) and two live during a publication.
uint64_t max_nh(unsigned bytes) {
    return (uint64_t{1} << (bytes * 8 - 1)) - 1;
}

}  // namespace

std::unique_ptr<HttpSteerTable> HttpSteerTable::build(const http::SteerMap &map, std::string *err) {
    std::unique_ptr<HttpSteerTable> t(new HttpSteerTable());
    t->version_ = map.version;
    t->self_ = map.self;
    for (const auto &c : map.clusters) {
        t->names_.push_back(c.name);
        t->hosts_.push_back(c.host);
    }
    for (std::size_t i = 0; i < map.clusters.size(); ++i)
        t->clusters_.push_back({t->names_[i], t->hosts_[i], map.clusters[i].up});
    std::vector<const http::SteerMap::Route *> v4, v6;
    for (const auto &r : map.routes) (r.family == 1 ? v4 : v6).push_back(&r);
    for (const auto *r : v4) t->rankings_.push_back(r->ranking);
    for (const auto *r : v6) t->rankings_.push_back(r->ranking);
    t->v4_routes_ = static_cast<uint32_t>(v4.size());
    const uint32_t seq = fib_seq.fetch_add(1);
    if (!v4.empty()) {
        rte_fib_conf conf{};
        conf.type = RTE_FIB_DIR24_8;
        const unsigned bytes = v4.size() < max_nh(1) ? 1 : v4.size() < max_nh(2) ? 2 : 4;
        conf.dir24_8.nh_sz = bytes == 1   ? RTE_FIB_DIR24_8_1B
                             : bytes == 2 ? RTE_FIB_DIR24_8_2B
                                          : RTE_FIB_DIR24_8_4B;
        t->miss4_ = conf.default_nh = max_nh(bytes);
        conf.max_routes = static_cast<int>(v4.size());
        uint32_t long_routes = 1;  // each prefix over /24 may need a 256-entry group
        for (const auto *r : v4) long_routes += r->prefix > 24;
        conf.dir24_8.num_tbl8 = long_routes;
        const std::string name = "httpst4_" + std::to_string(seq);
        t->v4_ = rte_fib_create(name.c_str(), SOCKET_ID_ANY, &conf);
        if (!t->v4_) {
            *err = "http steering: cannot create the IPv4 FIB: " +
                   std::string(rte_strerror(rte_errno));
            return nullptr;
        }
        for (uint32_t i = 0; i < v4.size(); ++i) {
            uint32_t ip;
            std::memcpy(&ip, v4[i]->net, 4);
            if (rte_fib_add(t->v4_, __builtin_bswap32(ip), v4[i]->prefix, i) != 0) {
                *err = "http steering: IPv4 FIB add failed (out of memory)";
                return nullptr;
            }
        }
    }
    if (!v6.empty()) {
        rte_fib6_conf conf{};
        conf.type = RTE_FIB6_TRIE;
        const bool two = v6.size() < max_nh(2);
        conf.trie.nh_sz = two ? RTE_FIB6_TRIE_2B : RTE_FIB6_TRIE_4B;
        t->miss6_ = conf.default_nh = max_nh(two ? 2 : 4);
        conf.max_routes = static_cast<int>(v6.size());
        uint32_t groups = 1;  // a prefix over /24 takes a group per byte past 24 bits
        for (const auto *r : v6)
            if (r->prefix > 24) groups += (r->prefix - 24 + 7) / 8;
        conf.trie.num_tbl8 = groups;
        const std::string name = "httpst6_" + std::to_string(seq);
        t->v6_ = rte_fib6_create(name.c_str(), SOCKET_ID_ANY, &conf);
        if (!t->v6_) {
            *err = "http steering: cannot create the IPv6 FIB: " +
                   std::string(rte_strerror(rte_errno));
            return nullptr;
        }
        for (uint32_t i = 0; i < v6.size(); ++i) {
            if (rte_fib6_add(t->v6_, v6[i]->net, v6[i]->prefix, i) != 0) {
                *err = "http steering: IPv6 FIB add failed (out of memory)";
                return nullptr;
            }
        }
    }
    return t;
}

HttpSteerTable::~HttpSteerTable() {
    rte_fib_free(v4_);
    rte_fib6_free(v6_);
}

void HttpSteerTable::view(uint8_t family, const uint8_t *addr, http::SteerView *out) const {
    out->clusters = clusters_;
    out->self = self_;
    out->client_known = false;
    uint64_t nh = 0;
    if (family == 1 && v4_) {
        uint32_t ip;
        std::memcpy(&ip, addr, 4);
        ip = __builtin_bswap32(ip);
        rte_fib_lookup_bulk(v4_, &ip, &nh, 1);
        if (nh == miss4_) return;
    } else if (family == 2 && v6_) {
        uint8_t ip[1][16];
        std::memcpy(ip[0], addr, 16);
        rte_fib6_lookup_bulk(v6_, ip, &nh, 1);
        if (nh == miss6_) return;
        nh += v4_routes_;
    } else {
        return;
    }
    if (nh >= rankings_.size()) return;
    out->client_known = true;
    out->ranking = rankings_[nh];
}

}  // namespace ep
