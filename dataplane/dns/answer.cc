#include "dataplane/dns/answer.h"

#include <cstring>

#include "dataplane/dns/steering.h"
#include "dataplane/dns/zone_table.h"

namespace ep::dns {

namespace {

// Writes the message with name compression (RFC 1035 4.1.4): every label
// start written so far is remembered with the length of the uncompressed
// name from there, and a name is written up to its longest suffix already
// in the message, then a pointer. Comparisons ignore case, so names the
// question spells end up pointing at the question's spelling (0x20).
class Writer {
  public:
    Writer(uint8_t *b, uint32_t cap) : b_(b), cap_(cap) {}

    uint32_t len() const { return len_; }
    void set_cap(uint32_t cap) { cap_ = cap; }
    struct Mark {
        uint32_t len, names;
    };
    Mark mark() const { return {len_, n_}; }
    void reset(Mark m) {
        len_ = m.len;
        n_ = m.names;
    }

    bool bytes(const uint8_t *p, uint32_t n) {
        if (cap_ - len_ < n) return false;
        std::memcpy(b_ + len_, p, n);
        len_ += n;
        return true;
    }
    bool u16(uint16_t v) {
        if (cap_ - len_ < 2) return false;
        put16(b_ + len_, v);
        len_ += 2;
        return true;
    }
    bool u32(uint32_t v) {
        if (cap_ - len_ < 4) return false;
        put32(b_ + len_, v);
        len_ += 4;
        return true;
    }
    uint8_t *at(uint32_t off) { return b_ + off; }

    // Makes the name already at `off` (uncompressed, e.g. the question)
    // available as a pointer target.
    void remember(uint32_t off) {
        const uint32_t total = name_len(b_ + off);
        for (uint32_t o = off; b_[o]; o += b_[o] + 1u) add(o, total - (o - off));
    }

    // The question's name, already at offset 12: what name() would find
    // there, a pointer to it, without comparing it against every name
    // remembered (most owners of an answer are the question's name).
    bool question_name() {
        if (cap_ - len_ < 2) return false;
        put16(b_ + len_, 0xc000 | kHeaderLen);
        len_ += 2;
        return true;
    }

    bool name(const uint8_t *n) {
        const uint32_t total = name_len(n);
        const uint8_t *p = n;
        int32_t ptr = -1;
        for (; *p; p += *p + 1) {
            ptr = find(p, total - static_cast<uint32_t>(p - n));
            if (ptr >= 0) break;
        }
        const uint32_t literal = static_cast<uint32_t>(p - n);
        if (cap_ - len_ < literal + (ptr >= 0 ? 2u : 1u)) return false;
        for (const uint8_t *q = n; q < p; q += *q + 1)
            add(len_ + static_cast<uint32_t>(q - n), total - static_cast<uint32_t>(q - n));
        std::memcpy(b_ + len_, n, literal);
        len_ += literal;
        if (ptr >= 0) {
            put16(b_ + len_, static_cast<uint16_t>(0xc000 | ptr));
            len_ += 2;
        } else {
            b_[len_++] = 0;
        }
        return true;
    }

  private:
    static constexpr uint32_t kNames = 64;

    void add(uint32_t off, uint32_t suffix_len) {
        if (n_ == kNames || off > 0x3fff || suffix_len <= 1) return;
        off_[n_] = static_cast<uint16_t>(off);
        slen_[n_++] = static_cast<uint8_t>(suffix_len);
    }
    // Compares the name at message offset `off` (following our own pointers,
    // which always point backwards) with `n`.
    bool equal_at(uint32_t off, const uint8_t *n) const {
        for (;;) {
            uint8_t c = b_[off];
            while ((c & 0xc0) == 0xc0) {
                off = (c & 0x3fu) << 8 | b_[off + 1];
                c = b_[off];
            }
            if (c != *n) return false;
            if (c == 0) return true;
            for (uint8_t i = 1; i <= c; ++i)
                if (lower(b_[off + i]) != lower(n[i])) return false;
            off += c + 1u;
            n += c + 1;
        }
    }
    int32_t find(const uint8_t *n, uint32_t suffix_len) const {
        for (uint32_t i = 0; i < n_; ++i)
            if (slen_[i] == suffix_len && equal_at(off_[i], n)) return off_[i];
        return -1;
    }

    uint8_t *b_;
    uint32_t cap_;
    uint32_t len_ = 0;
    uint32_t n_ = 0;
    uint16_t off_[kNames];
    uint8_t slen_[kNames];
};

enum Section { kAnswer, kAuthority, kAdditional };

struct Builder {
    const Query &q;
    const AnswerEnv &env;
    const ZoneTable *t;
    Counters &c;
    Writer w;
    uint16_t counts[3] = {0, 0, 0};
    uint16_t rcode = kNoError;
    bool aa = false;
    bool tc = false;
    uint8_t scope = 0;

    // One record; RDATA names of NS, CNAME and SOA are compressed (RFC 3597
    // 4 allows it for these well-known types only).
    bool rr(const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd, uint16_t rdlen) {
        if (!(owner == q.lname && q.qname_len > 1 ? w.question_name() : w.name(owner)) ||
            !w.u16(type) || !w.u16(kClassIN) || !w.u32(ttl) || !w.u16(0))
            return false;
        const uint32_t start = w.len();
        bool ok;
        switch (type) {
            case kNS:
            case kCNAME:
                ok = w.name(rd);
                break;
            case kSOA: {
                const uint32_t m = name_len(rd);
                const uint32_t r = name_len(rd + m);
                ok = w.name(rd) && w.name(rd + m) && w.bytes(rd + m + r, 20);
                break;
            }
            default:
                ok = w.bytes(rd, rdlen);
        }
        if (!ok) return false;
        put16(w.at(start - 2), static_cast<uint16_t>(w.len() - start));
        return true;
    }

    bool rrset(Section s, const uint8_t *owner, const ZoneTable::RRset &rs, uint32_t ttl) {
        const uint8_t *p = t->blob(rs.rdata);
        for (uint32_t i = 0; i < rs.count; ++i) {
            const uint16_t n = get16(p);
            if (!rr(owner, rs.type, ttl, p + 2, n)) return false;
            p += 2 + n;
            ++counts[s];
        }
        return true;
    }

    // The zone's SOA in the authority section with the negative TTL
    // (RFC 2308 3 and 5).
    bool soa(uint32_t z) {
        const ZoneTable::Zone *zone = t->zone(z);
        const ZoneTable::Node &apex = t->node(zone->apex);
        return rrset(kAuthority, t->node_name(apex), t->rrset_at(zone->soa), zone->neg_ttl);
    }

    // A and AAAA of the NS targets we hold, in the additional section. Glue
    // for targets under the cut is required (RFC 9471 3: TC when it does not
    // fit); anything else is added while it fits.
    bool addresses(const ZoneTable::RRset &ns, const uint8_t *cut, int zone_hint) {
        const uint8_t *p = t->blob(ns.rdata);
        for (uint32_t i = 0; i < ns.count; ++i) {
            const uint8_t *target = p + 2;
            p += 2 + get16(p);
            const int z = zone_hint >= 0 ? zone_hint : t->find_zone(target);
            if (z < 0) continue;
            const ZoneTable::Node *n = t->find(static_cast<uint32_t>(z), target, name_len(target));
            if (!n) continue;
            const bool required = cut && name_is_under(target, cut);
            for (uint16_t type : {uint16_t{kA}, uint16_t{kAAAA}}) {
                const ZoneTable::RRset *rs = t->rrset(*n, type);
                if (!rs) continue;
                const Writer::Mark m = w.mark();
                const uint16_t before = counts[kAdditional];
                if (!rrset(kAdditional, target, *rs, rs->ttl)) {
                    w.reset(m);
                    counts[kAdditional] = before;
                    if (required) return false;
                    return true;  // stop adding optional addresses
                }
            }
        }
        return true;
    }

    // Whether the ECS address says where the client is: not for /0, and not
    // for private or reserved space, which locates nobody (RFC 7871 7.1.2;
    // the resolver's own address decides instead, scope 0).
    bool ecs_usable() const {
        if (!q.ecs.present || q.ecs.source == 0) return false;
        const uint8_t *a = q.ecs.addr;
        if (q.ecs.family == 1) {
            // 0/8, 10/8, 127/8, 100.64/10, 169.254/16, 172.16/12, 192.168/16,
            // 224/4 and 240/4 (RFC 6890). Documentation ranges stay usable:
            // tests and examples need them.
            return !(a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
                     (a[0] == 100 && (a[1] & 0xc0) == 64) || (a[0] == 169 && a[1] == 254) ||
                     (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168));
        }
        // fc00::/7 unique local, fe80::/10 link-local, ff00::/8 multicast,
        // and ::/8 (loopback, unspecified, IPv4-mapped).
        return !((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff ||
                 a[0] == 0);
    }

    Client client() const {
        Client cl;
        if (ecs_usable()) {
            cl.family = q.ecs.family;
            cl.prefix = q.ecs.source;
            std::memcpy(cl.addr, q.ecs.addr, q.ecs.addr_len);
        } else {
            cl.family = 1;
            cl.prefix = 32;
            std::memcpy(cl.addr, &env.client_ip, 4);
        }
        return cl;
    }

    // The data for `name` at node n (exact or wildcard match).
    bool answer_node(uint32_t z, const uint8_t *name, const ZoneTable::Node &n) {
        if (q.qtype == kANY) {
            // RFC 1035 3.2.3: every RRset at the name (RFC 8482 would allow
            // less; a zone of a CDN edge has little at one name).
            for (uint32_t i = 0; i < n.n_rrsets; ++i) {
                const ZoneTable::RRset &rs = t->rrset_at(n.rrsets + i);
                if (!rrset(kAnswer, name, rs, rs.ttl)) return false;
            }
            if (n.n_rrsets) {
                ++c.answers;
                return true;
            }
        }
        if ((q.qtype == kA || q.qtype == kAAAA) && env.steering) {
            SteerResult r;
            if (env.steering->steer(t->node_name(n), q.qtype, client(), &r)) {
                const uint16_t alen = q.qtype == kA ? 4 : 16;
                for (uint16_t i = 0; i < r.count; ++i) {
                    if (!rr(name, q.qtype, r.ttl, r.addrs + i * alen, alen)) return false;
                    ++counts[kAnswer];
                }
                // Decided by the resolver's address (/0, private ECS): scope 0,
                // the answer is not about the ECS prefix (RFC 7871 7.1.2).
                scope = ecs_usable() ? r.scope : 0;
                ++c.answers;
                return true;
            }
        }
        const ZoneTable::RRset *rs = t->rrset(n, q.qtype);
        if (!rs) {
            ++c.nodata;
            return soa(z);
        }
        if (!rrset(kAnswer, name, *rs, rs->ttl)) return false;
        ++c.answers;
        if (q.qtype == kNS) addresses(*rs, nullptr, -1);
        return true;
    }

    // RFC 1034 4.3.2 for our zones. Returns false when the message overflowed
    // a section that must be whole (the caller truncates).
    bool lookup() {
        uint8_t chain_buf[2][kMaxName];
        const uint8_t *name = q.lname;
        for (uint32_t chain = 0;; ++chain) {
            const int zi = t ? t->find_zone(name) : -1;
            if (zi < 0) {
                if (chain == 0) {
                    rcode = kRefused;
                    ++c.refused;
                }
                return true;  // a CNAME out of our zones: the resolver goes on
            }
            const uint32_t z = static_cast<uint32_t>(zi);
            if (chain == 0) aa = true;
            const ZoneTable::Node &apex = t->node(t->zone(z)->apex);
            const uint32_t k = label_count(t->node_name(apex));
            uint32_t pos[128];
            uint32_t n = 0;
            for (uint32_t o = 0; name[o]; o += name[o] + 1u) pos[n++] = o;
            pos[n] = name_len(name) - 1;

            // Top-down from the apex: the closest encloser, or a cut on the way.
            const ZoneTable::Node *ce = &apex;
            uint32_t depth = k;
            for (; depth < n; ++depth) {
                const uint8_t *suffix = name + pos[n - depth - 1];
                const ZoneTable::Node *node = t->find(z, suffix, name_len(suffix));
                if (!node) break;
                ce = node;
                // The DS RRset of a cut belongs to the parent (RFC 4035 3.1.4.1).
                if ((node->flags & ZoneTable::kCut) && !(depth + 1 == n && q.qtype == kDS)) {
                    // A referral: not authoritative unless a CNAME led here.
                    if (chain == 0) aa = false;
                    ++c.referrals;
                    const ZoneTable::RRset *ns = t->rrset(*node, kNS);
                    const uint8_t *cut = t->node_name(*node);
                    return rrset(kAuthority, cut, *ns, ns->ttl) && addresses(*ns, cut, zi);
                }
            }
            const ZoneTable::Node *match = nullptr;
            if (depth == n) {
                match = ce;
            } else {
                // RFC 4592 3.3.1: the source of synthesis is "*" at the
                // closest encloser.
                uint8_t wc[kMaxName + 2];
                const uint8_t *cen = t->node_name(*ce);
                const uint32_t cl = name_len(cen);
                if (cl + 2 <= kMaxName) {
                    wc[0] = 1;
                    wc[1] = '*';
                    std::memcpy(wc + 2, cen, cl);
                    match = t->find(z, wc, cl + 2);
                }
            }
            if (!match) {
                rcode = kNxDomain;  // RFC 6604 2.1: the rcode of the last name
                ++c.nxdomain;
                return soa(z);
            }
            const ZoneTable::RRset *cname = t->rrset(*match, kCNAME);
            if (!cname || q.qtype == kCNAME || q.qtype == kANY) return answer_node(z, name, *match);
            if (!rrset(kAnswer, name, *cname, cname->ttl)) return false;
            if (chain + 1 == kMaxChain) return true;
            ++c.cname_chased;
            const uint8_t *target = t->blob(cname->rdata) + 2;
            uint8_t *next = chain_buf[chain & 1];
            name_lower(target, next);
            name = next;
        }
    }
};

uint32_t opt_size(const Query &q, bool with_ecs) {
    return 11 + (with_ecs && q.ecs.present ? 8u + q.ecs.addr_len : 0u);
}

bool write_opt(Writer &w, const Query &q, const AnswerEnv &env, uint16_t rcode, bool with_ecs,
               uint8_t scope) {
    const uint8_t root = 0;
    const bool ecs = with_ecs && q.ecs.present;
    // TTL: EXTENDED-RCODE, VERSION 0, DO copied (RFC 3225 3).
    const uint32_t ttl =
        uint32_t{static_cast<uint8_t>(rcode >> 4)} << 24 | (q.do_bit ? kEdnsDo : 0);
    if (!w.bytes(&root, 1) || !w.u16(kOPT) || !w.u16(env.max_udp) || !w.u32(ttl)) return false;
    if (!ecs) return w.u16(0);
    // RFC 7871 7.2.1: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as sent.
    const uint8_t head[4] = {static_cast<uint8_t>(q.ecs.family >> 8),
                             static_cast<uint8_t>(q.ecs.family), q.ecs.source, scope};
    return w.u16(static_cast<uint16_t>(8 + q.ecs.addr_len)) && w.u16(kOptEcs) &&
           w.u16(static_cast<uint16_t>(4 + q.ecs.addr_len)) && w.bytes(head, 4) &&
           w.bytes(q.ecs.addr, q.ecs.addr_len);
}

void write_header(uint8_t *out, const Query &q, uint16_t flags, uint16_t rcode, uint16_t qd,
                  const uint16_t *counts, uint16_t ar) {
    put16(out, q.id);
    // QR, the opcode, RD and CD copied (RFC 1035 4.1.1, RFC 6840 5.9).
    const uint16_t f = kFlagQR | (q.flags & (0x7800 | kFlagRD | kFlagCD)) | flags | (rcode & 0xf);
    put16(out + 2, f);
    put16(out + 4, qd);
    put16(out + 6, counts ? counts[0] : 0);
    put16(out + 8, counts ? counts[1] : 0);
    put16(out + 10, ar);
}

// The header and question, then only the OPT record: FORMERR for bad ECS,
// BADVERS, REFUSED for a class or type we do not serve, and TC.
int short_answer(const uint8_t *msg, const Query &q, uint8_t *out, uint32_t limit,
                 const AnswerEnv &env, uint16_t rcode, uint16_t flags, bool with_ecs) {
    if (out != msg) std::memmove(out, msg, q.question_end);
    Writer w(out, limit);
    w.reset({q.question_end, 0});
    if (q.edns && !write_opt(w, q, env, rcode, with_ecs, 0)) return -1;
    write_header(out, q, flags, rcode, 1, nullptr, q.edns ? 1 : 0);
    return static_cast<int>(w.len());
}

// NOTIMP and FORMERR for what did not parse: the header, and the question
// when it could be read (as Knot does; resolvers match answers by it, RFC
// 5452 4.2), nothing after it.
int error_answer(const uint8_t *msg, uint8_t *out, uint32_t cap, const Query &q, uint16_t rcode) {
    if (q.question_end == 0 || cap < q.question_end) {
        if (cap < kHeaderLen) return -1;
        write_header(out, q, 0, rcode, 0, nullptr, 0);
        return kHeaderLen;
    }
    if (out != msg) std::memmove(out, msg, q.question_end);
    write_header(out, q, 0, rcode, 1, nullptr, 0);
    return static_cast<int>(q.question_end);
}

}  // namespace

int respond(const uint8_t *msg, uint32_t len, uint8_t *out, uint32_t cap, const AnswerEnv &env,
            Counters &c) {
    ++c.queries;
    Query q;
    const Parse p = parse_query(msg, len, &q);
    switch (p) {
        case Parse::ok:
            break;
        case Parse::drop_short_header:
            ++c.drop_short_header;
            return -1;
        case Parse::drop_response:
            ++c.drop_response;
            return -1;
        case Parse::notimp:
            ++c.notimp;
            return error_answer(msg, out, cap, q, kNotImp);
#define EP_DNS_MALFORMED(name) \
    case Parse::name:          \
        ++c.name;              \
        ++c.formerr;           \
        return error_answer(msg, out, cap, q, kFormErr);
            EP_DNS_MALFORMED(malformed_qdcount)
            EP_DNS_MALFORMED(malformed_counts)
            EP_DNS_MALFORMED(malformed_pointer)
            EP_DNS_MALFORMED(malformed_label)
            EP_DNS_MALFORMED(malformed_name_too_long)
            EP_DNS_MALFORMED(malformed_truncated)
            EP_DNS_MALFORMED(malformed_trailing)
            EP_DNS_MALFORMED(malformed_opt)
#undef EP_DNS_MALFORMED
        case Parse::malformed_ecs:
            break;
    }
    if (q.edns) ++c.edns;
    if (q.ecs.present) ++c.ecs;

    // What the answer may take: the client's EDNS payload size (at least
    // 512, RFC 6891 6.2.5) capped by ours, 512 without EDNS (RFC 1035
    // 4.2.1), the buffer in any case.
    uint32_t limit = cap;
    if (!env.tcp) {
        uint32_t udp = kClassicUdp;
        if (q.edns) {
            udp = q.udp_payload < env.max_udp ? q.udp_payload : env.max_udp;
            if (udp < kClassicUdp) udp = kClassicUdp;
        }
        if (udp < limit) limit = udp;
    }
    if (limit > 65535) limit = 65535;
    if (limit < q.question_end + (q.edns ? opt_size(q, true) : 0)) {
        ++c.drop_no_room;
        return -1;
    }

    if (p == Parse::malformed_ecs) {
        ++c.malformed_ecs;
        ++c.formerr;
        return short_answer(msg, q, out, limit, env, kFormErr, 0, false);
    }
    if (q.edns && q.edns_version > 0) {
        ++c.badvers;  // RFC 6891 6.1.3
        return short_answer(msg, q, out, limit, env, kBadVers, 0, false);
    }
    if (q.qclass != kClassIN || q.qtype == kAXFR || q.qtype == kIXFR) {
        ++c.refused;
        return short_answer(msg, q, out, limit, env, kRefused, 0, true);
    }

    if (out != msg) std::memmove(out, msg, q.question_end);
    const uint32_t reserve = q.edns ? opt_size(q, true) : 0;
    Builder b{q, env, env.zones, c, Writer(out, limit - reserve)};
    b.w.reset({q.question_end, 0});
    b.w.remember(kHeaderLen);
    if (!b.lookup()) {
        ++c.truncated;
        return short_answer(msg, q, out, limit, env, b.rcode, kFlagTC | (b.aa ? kFlagAA : 0), true);
    }
    b.w.set_cap(limit);
    if (q.edns && !write_opt(b.w, q, env, b.rcode, true, b.scope)) return -1;
    write_header(out, q, b.aa ? kFlagAA : 0, b.rcode, 1, b.counts,
                 static_cast<uint16_t>(b.counts[kAdditional] + (q.edns ? 1 : 0)));
    return static_cast<int>(b.w.len());
}

}  // namespace ep::dns
