#include "dataplane/dns_steering.h"

#include <rte_errno.h>

#include <atomic>
#include <cstring>

namespace ep {

namespace {

std::atomic<uint32_t> fib_seq{0};  // rte_fib names are global to the process

// The largest next hop a DIR24_8 / TRIE entry of `bytes` holds (one bit of
// each entry marks an extension to the next level).
uint64_t max_nh(unsigned bytes) {
    return (uint64_t{1} << (bytes * 8 - 1)) - 1;
}

}  // namespace

std::unique_ptr<FibSteering> FibSteering::build(const dns::SteerPlan &plan, int socket,
                                                std::string *err) {
    std::unique_ptr<FibSteering> s(new FibSteering());
    s->v4_regions_ = plan.v4_regions;
    s->nowners_ = static_cast<uint32_t>(plan.owners.size());
    for (const std::string &o : plan.owners) {
        s->owner_off_.push_back(static_cast<uint32_t>(s->names_.size()));
        s->names_.insert(s->names_.end(), o.begin(), o.end());
    }
    s->cells_ = plan.cells;
    for (const auto &set : plan.sets) {
        Set x{set.ttl, static_cast<uint32_t>(s->addrs_.size()),
              static_cast<uint32_t>(set.v4.size() / 4), 0, 0};
        s->addrs_.insert(s->addrs_.end(), set.v4.begin(), set.v4.end());
        x.v6_off = static_cast<uint32_t>(s->addrs_.size());
        x.v6_n = static_cast<uint32_t>(set.v6.size() / 16);
        s->addrs_.insert(s->addrs_.end(), set.v6.begin(), set.v6.end());
        s->sets_.push_back(x);
    }
    const uint32_t seq = fib_seq.fetch_add(1);
    if (plan.v4_regions) {
        rte_fib_conf conf{};
        conf.type = RTE_FIB_DIR24_8;
        const unsigned bytes = plan.v4_regions < max_nh(1)   ? 1
                               : plan.v4_regions < max_nh(2) ? 2
                                                             : 4;
        conf.dir24_8.nh_sz = bytes == 1   ? RTE_FIB_DIR24_8_1B
                             : bytes == 2 ? RTE_FIB_DIR24_8_2B
                                          : RTE_FIB_DIR24_8_4B;
        s->miss4_ = conf.default_nh = max_nh(bytes);
        conf.max_routes = static_cast<int>(plan.v4_regions);
        uint32_t long_routes = 0;  // each prefix over /24 may need a 256-entry group
        for (uint32_t g = 0; g < plan.v4_regions; ++g) long_routes += plan.regions[g].prefix > 24;
        conf.dir24_8.num_tbl8 = long_routes + 1;
        const std::string name = "dnsst4_" + std::to_string(seq);
        s->v4_ = rte_fib_create(name.c_str(), socket, &conf);
        if (!s->v4_) {
            *err = "steering: cannot create the IPv4 FIB: " + std::string(rte_strerror(rte_errno));
            return nullptr;
        }
        for (uint32_t g = 0; g < plan.v4_regions; ++g) {
            const auto &r = plan.regions[g];
            uint32_t ip;
            std::memcpy(&ip, r.net, 4);
            if (rte_fib_add(s->v4_, __builtin_bswap32(ip), r.prefix, g) != 0) {
                *err = "steering: IPv4 FIB add failed (out of memory)";
                return nullptr;
            }
        }
    }
    if (plan.v6_regions) {
        rte_fib6_conf conf{};
        conf.type = RTE_FIB6_TRIE;
        const bool two = plan.v6_regions < max_nh(2);
        conf.trie.nh_sz = two ? RTE_FIB6_TRIE_2B : RTE_FIB6_TRIE_4B;
        s->miss6_ = conf.default_nh = max_nh(two ? 2 : 4);
        conf.max_routes = static_cast<int>(plan.v6_regions);
        uint32_t groups = 1;  // a prefix over /24 takes a group per byte past 24 bits
        for (uint32_t g = plan.v4_regions; g < plan.regions.size(); ++g)
            if (plan.regions[g].prefix > 24) groups += (plan.regions[g].prefix - 24 + 7) / 8;
        conf.trie.num_tbl8 = groups;
        const std::string name = "dnsst6_" + std::to_string(seq);
        s->v6_ = rte_fib6_create(name.c_str(), socket, &conf);
        if (!s->v6_) {
            *err = "steering: cannot create the IPv6 FIB: " + std::string(rte_strerror(rte_errno));
            return nullptr;
        }
        for (uint32_t g = plan.v4_regions; g < plan.regions.size(); ++g) {
            const auto &r = plan.regions[g];
            if (rte_fib6_add(s->v6_, r.net, r.prefix, g - plan.v4_regions) != 0) {
                *err = "steering: IPv6 FIB add failed (out of memory)";
                return nullptr;
            }
        }
    }
    return s;
}

FibSteering::~FibSteering() {
    rte_fib_free(v4_);
    rte_fib6_free(v6_);
}

bool FibSteering::steer(const uint8_t *owner, uint16_t qtype, const dns::Client &c,
                        dns::SteerResult *out) const {
    // A handful of steered owners: a scan of their names beats hashing the
    // query's name again.
    uint32_t o = 0;
    while (o < nowners_ && !dns::name_equal(names_.data() + owner_off_[o], owner)) ++o;
    if (o == nowners_) return false;
    uint64_t nh;
    uint32_t region;
    if (c.family == 1) {
        if (!v4_) return false;
        uint32_t ip;
        std::memcpy(&ip, c.addr, 4);
        ip = __builtin_bswap32(ip);
        if (c.prefix < 32) ip &= c.prefix ? ~uint32_t{0} << (32 - c.prefix) : 0;  // ECS host bits
        rte_fib_lookup_bulk(v4_, &ip, &nh, 1);
        if (nh == miss4_) return false;
        region = static_cast<uint32_t>(nh);
    } else {
        if (!v6_) return false;
        uint8_t ip[1][16];
        std::memcpy(ip[0], c.addr, 16);
        for (uint32_t i = c.prefix; i < 128; ++i)
            ip[0][i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
        rte_fib6_lookup_bulk(v6_, ip, &nh, 1);
        if (nh == miss6_) return false;
        region = v4_regions_ + static_cast<uint32_t>(nh);
    }
    const dns::SteerPlan::Cell &cell = cells_[size_t{region} * nowners_ + o];
    if (cell.set == dns::SteerPlan::kNone) return false;
    const Set &s = sets_[cell.set];
    const uint32_t n = qtype == dns::kA ? s.v4_n : s.v6_n;
    if (n == 0) return false;  // no addresses of this type: the zone's records answer
    out->scope = cell.scope;
    out->ttl = s.ttl;
    out->count = static_cast<uint16_t>(n);
    out->addrs = addrs_.data() + (qtype == dns::kA ? s.v4_off : s.v6_off);
    return true;
}

}  // namespace ep
