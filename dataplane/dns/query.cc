#include "dataplane/dns/query.h"

#include <cstring>

namespace ep::dns {

namespace {

// An uncompressed name at msg[*off]: copied lower-cased to out (when given),
// *off moved past it.
Parse parse_name(const uint8_t *msg, uint32_t len, uint32_t *off, uint8_t *out, uint32_t *nlen) {
    uint32_t o = *off, n = 0;
    for (;;) {
        if (o >= len) return Parse::malformed_truncated;
        const uint8_t c = msg[o];
        if ((c & 0xc0) == 0xc0) return Parse::malformed_pointer;
        // 01 (extended, RFC 6891 5 deprecates its only use) and 10 (reserved).
        if (c & 0xc0) return Parse::malformed_label;
        if (n + c + 1 > kMaxName) return Parse::malformed_name_too_long;
        if (o + 1 + c > len) return Parse::malformed_truncated;
        n += c + 1;
        o += c + 1;
        if (c == 0) break;
    }
    // The whole name, checked, lower-cased eight bytes at a time (length
    // bytes are under 64: lower8 leaves them); the last word overlaps the
    // one before rather than writing past the name.
    if (out) {
        const uint8_t *in = msg + *off;
        if (n < 8) {
            for (uint32_t i = 0; i < n; ++i) out[i] = lower(in[i]);
        } else {
            for (uint32_t i = 0; i + 8 < n; i += 8) {
                const uint64_t w = lower8(load8(in + i));
                std::memcpy(out + i, &w, 8);
            }
            const uint64_t w = lower8(load8(in + n - 8));
            std::memcpy(out + n - 8, &w, 8);
        }
    }
    *off = o;
    *nlen = n;
    return Parse::ok;
}

// RFC 7871 6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, ADDRESS of
// exactly ceil(SOURCE / 8) bytes; 7.1.1: anything else is FORMERR.
Parse parse_ecs(const uint8_t *p, uint32_t n, Ecs *e) {
    if (e->present || n < 4) return Parse::malformed_ecs;
    e->family = get16(p);
    e->source = p[2];
    e->scope = p[3];
    const uint32_t max = e->family == 1 ? 32 : e->family == 2 ? 128 : 0;
    if (max == 0 || e->source > max) return Parse::malformed_ecs;
    const uint32_t alen = (e->source + 7u) / 8u;
    if (n - 4 != alen) return Parse::malformed_ecs;
    e->addr_len = static_cast<uint8_t>(alen);
    for (uint32_t i = 0; i < alen; ++i) e->addr[i] = p[4 + i];
    e->present = true;
    return Parse::ok;
}

// The OPT pseudo-RR's fixed part is already checked; rd points at its RDATA.
Parse parse_opt(const uint8_t *rr, const uint8_t *rd, uint32_t rdlen, Query *q) {
    q->edns = true;
    q->udp_payload = get16(rr + 2);
    // TTL: EXTENDED-RCODE, VERSION, DO|Z (RFC 6891 6.1.3).
    q->edns_version = rr[5];
    q->do_bit = get16(rr + 6) & kEdnsDo;
    Parse ecs = Parse::ok;
    for (uint32_t o = 0; o < rdlen;) {
        if (rdlen - o < 4) return Parse::malformed_opt;
        const uint16_t code = get16(rd + o), olen = get16(rd + o + 2);
        if (olen > rdlen - o - 4) return Parse::malformed_opt;
        // Unknown options are ignored (RFC 6891 6.1.2); a version we do not
        // speak gets BADVERS whatever its options hold.
        if (code == kOptEcs && q->edns_version == 0 && ecs == Parse::ok)
            ecs = parse_ecs(rd + o + 4, olen, &q->ecs);
        o += 4u + olen;
    }
    return ecs;
}

}  // namespace

Parse parse_query(const uint8_t *msg, uint32_t len, Query *q) {
    if (len < kHeaderLen) return Parse::drop_short_header;
    q->id = get16(msg);
    q->flags = get16(msg + 2);
    q->opcode = static_cast<uint8_t>(q->flags >> 11 & 0xf);
    if (q->flags & kFlagQR) return Parse::drop_response;
    if (q->opcode != 0) {
        // The question is echoed when there is one we can read (as Knot
        // does); nothing else of another opcode's message is looked at.
        uint32_t off = kHeaderLen, nlen = 0;
        if (get16(msg + 4) == 1 && parse_name(msg, len, &off, q->lname, &nlen) == Parse::ok &&
            len - off >= 4) {
            q->qname_len = nlen;
            q->question_end = off + 4;
        }
        return Parse::notimp;
    }
    if (get16(msg + 4) != 1) return Parse::malformed_qdcount;
    const uint32_t arcount = get16(msg + 10);

    uint32_t off = kHeaderLen, nlen = 0;
    if (Parse p = parse_name(msg, len, &off, q->lname, &nlen); p != Parse::ok) return p;
    if (len - off < 4) return Parse::malformed_truncated;
    q->qname_len = nlen;
    q->qtype = get16(msg + off);
    q->qclass = get16(msg + off + 2);
    off += 4;
    // From here on the question is known: a FORMERR can echo it.
    q->question_end = off;
    if (get16(msg + 6) != 0 || get16(msg + 8) != 0) return Parse::malformed_counts;

    Parse deferred = Parse::ok;  // malformed ECS: reported after the whole message parsed
    for (uint32_t i = 0; i < arcount; ++i) {
        const uint32_t owner = off;
        if (Parse p = parse_name(msg, len, &off, nullptr, &nlen); p != Parse::ok) return p;
        if (len - off < 10) return Parse::malformed_truncated;
        const uint8_t *rr = msg + off;  // TYPE CLASS TTL RDLENGTH
        const uint32_t rdlen = get16(rr + 8);
        if (len - off - 10 < rdlen) return Parse::malformed_truncated;
        if (get16(rr) == kOPT) {
            // RFC 6891 6.1.1: one OPT, owned by the root.
            if (q->edns || msg[owner] != 0) return Parse::malformed_opt;
            const Parse p = parse_opt(rr, rr + 10, rdlen, q);
            if (p == Parse::malformed_opt) return p;
            if (p != Parse::ok) deferred = p;
        }
        // Other additional records (TSIG, SIG(0)) are not acted on.
        off += 10 + rdlen;
    }
    if (off != len) return Parse::malformed_trailing;
    return deferred;
}

}  // namespace ep::dns
