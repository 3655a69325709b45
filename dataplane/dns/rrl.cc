#include "dataplane/dns/rrl.h"

#include <new>

#include "dataplane/dns/counters.h"
#include "dataplane/dns/wire.h"

namespace ep::dns {

namespace {

constexpr uint64_t kQ = 1 << 20;  // token fixed point

uint64_t mix(uint64_t h, uint64_t v) {
    // splitmix64's finaliser over a running value: cheap and spreads well.
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    return h ^ (h >> 31);
}

// Response classes (Knot's, fewer: the kinds an attacker would pick apart).
enum : uint8_t { kClsAnswer = 1, kClsNodata, kClsNxdomain, kClsError, kClsReferral };

}  // namespace

bool Rrl::init(const RrlConfig &cfg) {
    if (cfg.buckets == 0 || (cfg.buckets & (cfg.buckets - 1)) || cfg.v4_prefix > 32 ||
        cfg.v6_prefix > 128)
        return false;
    cfg_ = cfg;
    if (!cfg.rate) return true;
    table_.reset(new (std::nothrow) Bucket[cfg.buckets]);
    mask_ = cfg.buckets - 1;
    return table_ != nullptr;
}

RrlVerdict Rrl::check(uint16_t family, const uint8_t *addr, uint8_t cls, uint64_t name,
                      uint64_t now_ns) {
    if (!cfg_.rate) return RrlVerdict::pass;
    // The source prefix: the address with the bits past the prefix cleared.
    const uint32_t bits = family == 1 ? cfg_.v4_prefix : cfg_.v6_prefix;
    const uint32_t bytes = family == 1 ? 4 : 16;
    uint64_t h = mix(family, cls);
    uint64_t word = 0;
    for (uint32_t i = 0; i < bytes; ++i) {
        uint8_t b = addr[i];
        if (i * 8 >= bits)
            b = 0;
        else if (i * 8 + 8 > bits)
            b &= static_cast<uint8_t>(0xff << (8 - (bits - i * 8)));
        word = word << 8 | b;
        if (i % 8 == 7 || i + 1 == bytes) h = mix(h, word), word = 0;
    }
    h = mix(h, name);
    h |= 1;  // 0 marks an empty slot
    Bucket &b = table_[h & mask_];
    const uint64_t full = uint64_t{cfg_.rate} * kQ;
    if (b.key != h) {
        b.key = h;
        b.tokens_q = full;
        b.last_ns = now_ns;
        b.limited = 0;
    } else if (now_ns > b.last_ns) {
        // Refill rate tokens per second of elapsed time, up to one second's worth.
        const uint64_t dt = now_ns - b.last_ns;
        const uint64_t add =
            dt >= 1'000'000'000
                ? full
                : static_cast<uint64_t>(static_cast<unsigned __int128>(dt) * full / 1'000'000'000);
        b.tokens_q = b.tokens_q + add > full ? full : b.tokens_q + add;
        b.last_ns = now_ns;
    }
    if (b.tokens_q >= kQ) {
        b.tokens_q -= kQ;
        return RrlVerdict::pass;
    }
    ++b.limited;
    if (cfg_.slip && b.limited % cfg_.slip == 0) return RrlVerdict::slip;
    return RrlVerdict::drop;
}

int rrl_apply(Rrl &rrl, uint8_t *out, int len, uint16_t family, const uint8_t *addr,
              uint64_t now_ns, Counters &c) {
    if (!rrl.enabled() || len < 12) return len;
    // The response as written by respond(): header, then the question as
    // the query had it (no compression in a query), then the sections.
    const uint32_t n = static_cast<uint32_t>(len);
    uint32_t q = 12;
    uint64_t name = 0;
    const bool has_question = get16(out + 4) == 1;
    if (has_question) {
        while (q < n && out[q] != 0) q += out[q] + 1u;
        if (q + 5 > n) return len;  // not a question respond() wrote: not ours to judge
        name = name_hash(out + 12, q + 1 - 12);  // case-insensitive (0x20 changes nothing)
        q += 5;                                  // the root label, QTYPE, QCLASS
    }
    const uint8_t rcode = out[3] & 0x0f;
    const bool aa = out[2] & 0x04;
    uint8_t cls;
    if (rcode == kNxDomain)
        cls = kClsNxdomain, name = 0;
    else if (rcode != kNoError)
        cls = kClsError, name = 0;
    else if (!aa)
        cls = kClsReferral, name = 0;
    else if (get16(out + 6) == 0)
        cls = kClsNodata;
    else
        cls = kClsAnswer;
    switch (rrl.check(family, addr, cls, name, now_ns)) {
        case RrlVerdict::pass:
            return len;
        case RrlVerdict::drop:
            ++c.rrl_limited;
            ++c.rrl_dropped;
            return -1;
        case RrlVerdict::slip:
            break;
    }
    ++c.rrl_limited;
    ++c.rrl_slipped;
    // RFC 1035 4.1.1 TC: the header and question only; the client retries
    // over TCP. No OPT: what it advertised does not matter for a retry.
    out[2] |= 0x02;
    put16(out + 6, 0);
    put16(out + 8, 0);
    put16(out + 10, 0);
    return static_cast<int>(has_question ? q : 12);
}

}  // namespace ep::dns
