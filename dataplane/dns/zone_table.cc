#include "dataplane/dns/zone_table.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace ep::dns {

namespace {

// An uncompressed wire name at p within n bytes; its length, or 0.
uint32_t valid_name(const uint8_t *p, uint32_t n) {
    uint32_t o = 0;
    for (;;) {
        if (o >= n || o >= kMaxName) return 0;
        const uint8_t c = p[o];
        if (c > kMaxLabel) return 0;
        o += c + 1u;
        if (o > kMaxName) return 0;
        if (c == 0) return o;
    }
}

std::string lower_name(const uint8_t *n) {
    uint8_t buf[kMaxName];
    const uint32_t len = name_lower(n, buf);
    return std::string(reinterpret_cast<const char *>(buf), len);
}

const uint8_t *u8(const std::string &s) {
    return reinterpret_cast<const uint8_t *>(s.data());
}

std::string type_name(uint16_t t) {
    switch (t) {
        case kA:
            return "A";
        case kNS:
            return "NS";
        case kCNAME:
            return "CNAME";
        case kSOA:
            return "SOA";
        case kTXT:
            return "TXT";
        case kAAAA:
            return "AAAA";
        case kDNAME:
            return "DNAME";
        default:
            return "TYPE" + std::to_string(t);
    }
}

uint32_t pow2_at_least(uint32_t n) {
    uint32_t p = 16;
    while (p < n) p <<= 1;
    return p;
}

}  // namespace

std::string name_to_text(const uint8_t *name) {
    std::string s;
    if (*name == 0) return ".";
    for (const uint8_t *p = name; *p; p += *p + 1) {
        for (uint8_t i = 1; i <= *p; ++i) {
            const uint8_t c = p[i];
            if (c == '.' || c == '\\') {
                s += '\\';
                s += static_cast<char>(c);
            } else if (c <= ' ' || c >= 0x7f) {
                char esc[8];
                std::snprintf(esc, sizeof esc, "\\%03u", c);
                s += esc;
            } else {
                s += static_cast<char>(c);
            }
        }
        s += '.';
    }
    return s;
}

bool name_from_text(const char *text, uint8_t *out, uint32_t *len) {
    // Plain dotted names only (tests, config): no escapes.
    uint32_t o = 0;
    const char *p = text;
    if (p[0] == '.' && p[1] == 0) {
        out[0] = 0;
        *len = 1;
        return true;
    }
    while (*p) {
        const char *dot = p;
        while (*dot && *dot != '.') ++dot;
        const uint32_t l = static_cast<uint32_t>(dot - p);
        if (l == 0 || l > kMaxLabel || o + l + 2 > kMaxName) return false;
        out[o++] = static_cast<uint8_t>(l);
        for (uint32_t i = 0; i < l; ++i) out[o++] = static_cast<uint8_t>(p[i]);
        p = *dot ? dot + 1 : dot;
    }
    out[o++] = 0;
    *len = o;
    return true;
}

int ZoneTable::find_zone(const uint8_t *name) const {
    // Longest suffix first: the deepest zone wins (a child zone we also
    // serve answers for itself, not the parent's delegation).
    for (const uint8_t *p = name;; p += *p + 1) {
        const uint32_t len = name_len(p);
        for (uint32_t h = name_hash(p, len) & zone_mask_;; h = (h + 1) & zone_mask_) {
            const uint32_t e = zone_index_[h];
            if (e == 0) break;
            if (name_equal(node_name(nodes_[zones_[e - 1].apex]), p))
                return static_cast<int>(e - 1);
        }
        if (*p == 0) return -1;
    }
}

const ZoneTable::Node *ZoneTable::find(uint32_t z, const uint8_t *name, uint32_t len) const {
    for (uint32_t h = probe(name_hash(name, len, z));; h = (h + 1) & mask_) {
        const uint32_t e = index_[h];
        if (e == 0) return nullptr;
        const Node &n = nodes_[e - 1];
        if (n.zone == z && name_equal(node_name(n), name)) return &n;
    }
}

const ZoneTable::RRset *ZoneTable::rrset(const Node &n, uint16_t type) const {
    for (uint32_t i = 0; i < n.n_rrsets; ++i)
        if (rrsets_[n.rrsets + i].type == type) return &rrsets_[n.rrsets + i];
    return nullptr;
}

bool ZoneBuilder::begin_zone(const uint8_t *apex, std::string *err) {
    const std::string a = lower_name(apex);
    for (const PendingZone &z : zones_)
        if (z.apex == a) {
            *err = "zone " + name_to_text(apex) + " is loaded twice";
            return false;
        }
    zones_.push_back({a, {}});
    return true;
}

bool ZoneBuilder::add(const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                      uint32_t rdlen, std::string *err) {
    if (zones_.empty()) {
        *err = "record before any zone";
        return false;
    }
    PendingZone &z = zones_.back();
    if (!name_is_under(owner, u8(z.apex))) {
        *err = name_to_text(owner) + " is outside the zone " + name_to_text(u8(z.apex));
        return false;
    }
    // The answer builder walks the names in these RDATA: check their shape.
    bool ok = true;
    switch (type) {
        case kA:
            ok = rdlen == 4;
            break;
        case kAAAA:
            ok = rdlen == 16;
            break;
        case kNS:
        case kCNAME:
            ok = valid_name(rdata, rdlen) == rdlen;
            break;
        case kSOA: {
            const uint32_t m = valid_name(rdata, rdlen);
            const uint32_t r = m ? valid_name(rdata + m, rdlen - m) : 0;
            ok = m && r && m + r + 20 == rdlen;
            break;
        }
        case kDNAME:
            *err = "DNAME is not supported";
            return false;
        case kOPT:
            *err = "OPT is not a zone record";
            return false;
        default:
            break;
    }
    if (!ok || rdlen > 65535) {
        *err = "malformed " + type_name(type) + " RDATA";
        return false;
    }
    z.recs.push_back(
        {lower_name(owner), type, ttl, std::string(reinterpret_cast<const char *>(rdata), rdlen)});
    return true;
}

std::unique_ptr<ZoneTable> ZoneBuilder::compile(std::string *err) {
    auto t = std::make_unique<ZoneTable>();
    struct Set {
        uint32_t ttl = 0;
        std::vector<std::string> rdata;
    };
    uint32_t total_nodes = 0;
    std::vector<std::map<std::string, std::map<uint16_t, Set>>> per_zone(zones_.size());
    for (size_t zi = 0; zi < zones_.size(); ++zi) {
        const PendingZone &z = zones_[zi];
        auto &owners = per_zone[zi];
        owners[z.apex];  // the apex is a node even before its SOA is seen
        for (const Rec &r : z.recs) {
            // Every ancestor up to the apex is a node (empty non-terminals).
            for (const uint8_t *p = u8(r.owner);; p += *p + 1) {
                const std::string anc(reinterpret_cast<const char *>(p), name_len(p));
                if (anc.size() <= z.apex.size()) break;
                owners[anc];
            }
            Set &s = owners[r.owner][r.type];
            if (std::find(s.rdata.begin(), s.rdata.end(), r.rdata) != s.rdata.end())
                continue;  // RFC 2181 5: an RRset holds no duplicates
            // RFC 2181 5.2: one TTL per RRset; the lowest is the safe one.
            s.ttl = s.rdata.empty() ? r.ttl : std::min(s.ttl, r.ttl);
            s.rdata.push_back(r.rdata);
        }
        const auto &apex = owners[z.apex];
        auto soa = apex.find(kSOA);
        if (soa == apex.end() || soa->second.rdata.size() != 1) {
            *err = "zone " + name_to_text(u8(z.apex)) + ": needs exactly one SOA at the apex";
            return nullptr;
        }
        for (const auto &[owner, sets] : owners) {
            auto cn = sets.find(kCNAME);
            if (cn == sets.end()) continue;
            // RFC 1034 3.6.2 / RFC 2181 10.1: a CNAME owner has nothing else.
            if (sets.size() > 1 || cn->second.rdata.size() > 1) {
                *err = "zone " + name_to_text(u8(z.apex)) + ": " + name_to_text(u8(owner)) +
                       " has a CNAME and other data";
                return nullptr;
            }
        }
        total_nodes += static_cast<uint32_t>(owners.size());
        if (zones_.size() > 65535) {
            *err = "too many zones";
            return nullptr;
        }
    }

    auto put_blob = [&](const std::string &s) {
        const uint32_t off = static_cast<uint32_t>(t->blob_.size());
        t->blob_.insert(t->blob_.end(), s.begin(), s.end());
        return off;
    };
    const uint32_t slots = pow2_at_least(total_nodes * 2);
    t->index_.assign(slots, 0);
    t->mask_ = slots - 1;
    const uint32_t zslots = pow2_at_least(static_cast<uint32_t>(zones_.size()) * 2);
    t->zone_index_.assign(zslots, 0);
    t->zone_mask_ = zslots - 1;

    for (size_t zi = 0; zi < zones_.size(); ++zi) {
        const PendingZone &z = zones_[zi];
        ZoneTable::Zone zone;
        for (const auto &[owner, sets] : per_zone[zi]) {
            if (sets.size() > 255) {
                *err = name_to_text(u8(owner)) + ": more than 255 types at one name";
                return nullptr;
            }
            ZoneTable::Node n;
            n.name = put_blob(owner);
            n.zone = static_cast<uint16_t>(zi);
            n.rrsets = static_cast<uint32_t>(t->rrsets_.size());
            n.n_rrsets = static_cast<uint8_t>(sets.size());
            const bool is_apex = owner == z.apex;
            if (is_apex) n.flags |= ZoneTable::kApex;
            if (!is_apex && sets.count(kNS)) n.flags |= ZoneTable::kCut;
            for (const auto &[type, s] : sets) {
                if (s.rdata.size() > 65535) {
                    *err = name_to_text(u8(owner)) + ": RRset too large";
                    return nullptr;
                }
                ZoneTable::RRset rs;
                rs.type = type;
                rs.ttl = s.ttl;
                rs.count = static_cast<uint16_t>(s.rdata.size());
                rs.rdata = static_cast<uint32_t>(t->blob_.size());
                for (const std::string &rd : s.rdata) {
                    t->blob_.push_back(static_cast<uint8_t>(rd.size() >> 8));
                    t->blob_.push_back(static_cast<uint8_t>(rd.size()));
                    t->blob_.insert(t->blob_.end(), rd.begin(), rd.end());
                }
                zone.records += rs.count;
                if (is_apex && type == kSOA) {
                    zone.soa = static_cast<uint32_t>(t->rrsets_.size());
                    const std::string &rd = s.rdata[0];
                    const uint8_t *tail = u8(rd) + rd.size() - 20;
                    zone.serial = get32(tail);
                    zone.neg_ttl = std::min(s.ttl, get32(tail + 16));  // RFC 2308 5
                }
                t->rrsets_.push_back(rs);
            }
            const uint32_t idx = static_cast<uint32_t>(t->nodes_.size());
            if (is_apex) zone.apex = idx;
            t->nodes_.push_back(n);
            uint32_t h = name_hash(u8(owner), static_cast<uint32_t>(owner.size()),
                                   static_cast<uint32_t>(zi)) &
                         t->mask_;
            while (t->index_[h]) h = (h + 1) & t->mask_;
            t->index_[h] = idx + 1;
        }
        t->zones_.push_back(zone);
        uint32_t h = name_hash(u8(z.apex), static_cast<uint32_t>(z.apex.size())) & t->zone_mask_;
        while (t->zone_index_[h]) h = (h + 1) & t->zone_mask_;
        t->zone_index_[h] = static_cast<uint32_t>(zi) + 1;
    }
    return t;
}

}  // namespace ep::dns
