// DNS wire-format constants and name helpers (RFC 1035 3.1, 4.1; RFC 6895).
// Pure: no DPDK, no allocation. Names are kept in uncompressed wire form
// (length-prefixed labels ending in the root's zero byte), at most 255 bytes
// (RFC 1035 2.3.4); "canonical" means ASCII lower-cased (RFC 4034 6.2).
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/net/byte_order.h"

namespace ep::dns {

inline constexpr uint32_t kHeaderLen = 12;
inline constexpr uint32_t kMaxName = 255;
inline constexpr uint32_t kMaxLabel = 63;
inline constexpr uint32_t kClassicUdp = 512;  // RFC 1035 4.2.1, without EDNS

enum Type : uint16_t {
    kA = 1,
    kNS = 2,
    kCNAME = 5,
    kSOA = 6,
    kPTR = 12,
    kMX = 15,
    kTXT = 16,
    kAAAA = 28,
    kDNAME = 39,
    kOPT = 41,
    kDS = 43,
    kIXFR = 251,
    kAXFR = 252,
    kANY = 255,
};

inline constexpr uint16_t kClassIN = 1;

enum Rcode : uint16_t {
    kNoError = 0,
    kFormErr = 1,
    kServFail = 2,
    kNxDomain = 3,
    kNotImp = 4,
    kRefused = 5,
    kBadVers = 16,  // extended (RFC 6891 9): upper 8 bits in OPT TTL, low 4 in the header
};

// Header flag bits in the second 16-bit word (RFC 1035 4.1.1, RFC 4035 3.2).
inline constexpr uint16_t kFlagQR = 0x8000;
inline constexpr uint16_t kFlagAA = 0x0400;
inline constexpr uint16_t kFlagTC = 0x0200;
inline constexpr uint16_t kFlagRD = 0x0100;
inline constexpr uint16_t kFlagCD = 0x0010;

inline constexpr uint16_t kEdnsDo = 0x8000;  // RFC 3225, in the OPT TTL's low word
inline constexpr uint16_t kOptEcs = 8;       // RFC 7871 6

// Network-order loads and stores, shared with the rest of the data plane.
using net::get16;
using net::get32;
using net::put16;
using net::put32;

inline uint8_t lower(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c | 0x20) : c;
}

// Length in bytes of a well-formed uncompressed wire name, root byte included.
inline uint32_t name_len(const uint8_t *n) {
    const uint8_t *p = n;
    while (*p) p += *p + 1;
    return static_cast<uint32_t>(p - n + 1);
}

inline uint32_t label_count(const uint8_t *n) {
    uint32_t k = 0;
    for (const uint8_t *p = n; *p; p += *p + 1) ++k;
    return k;
}

// Eight name bytes at once (the answer path compares and hashes names on
// every query; a byte at a time was a fifth of a query's instructions).
inline uint64_t load8(const uint8_t *p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

// ASCII upper case to lower in eight bytes at once (SWAR): a byte in
// 'A'..'Z' gets 0x20; bytes with the high bit set are left alone, as
// lower() does. No carry crosses a byte: the sums stay under 0x100.
inline uint64_t lower8(uint64_t x) {
    constexpr uint64_t ones = 0x0101010101010101ull;
    const uint64_t y = x & (0x7f * ones);
    const uint64_t ge_a = y + (0x80 - 'A') * ones;      // high bit: y >= 'A'
    const uint64_t gt_z = y + (0x80 - 'Z' - 1) * ones;  // high bit: y > 'Z'
    return x | ((ge_a & ~gt_z & ~x & (0x80 * ones)) >> 2);
}

// Case-insensitive equality of two uncompressed wire names (RFC 4343).
// Same length and the same bytes lower-cased is the same labels: length
// bytes are under 64, never in 'A'..'Z', and both are read from the start.
inline bool name_equal(const uint8_t *a, const uint8_t *b) {
    const uint32_t len = name_len(a);
    if (len != name_len(b)) return false;
    if (len < 8) {
        for (uint32_t i = 0; i < len; ++i)
            if (lower(a[i]) != lower(b[i])) return false;
        return true;
    }
    for (uint32_t i = 0; i + 8 < len; i += 8)
        if (lower8(load8(a + i)) != lower8(load8(b + i))) return false;
    // The last word overlaps the one before instead of reading past the name.
    return lower8(load8(a + len - 8)) == lower8(load8(b + len - 8));
}

// Copies `n` lower-cased into `out` (kMaxName bytes); returns the length.
inline uint32_t name_lower(const uint8_t *n, uint8_t *out) {
    const uint32_t len = name_len(n);
    for (uint32_t i = 0; i < len; ++i) out[i] = lower(n[i]);
    // Length bytes are < 64 and so never in 'A'..'Z': lower() left them alone.
    return len;
}

// True when `n` is `zone` or below it (both wire, any case).
inline bool name_is_under(const uint8_t *n, const uint8_t *zone) {
    const uint32_t ln = name_len(n), lz = name_len(zone);
    if (lz > ln) return false;
    // Walk n's labels until the remaining suffix has zone's length; it must
    // start at a label boundary to count.
    const uint8_t *p = n;
    while (static_cast<uint32_t>(ln - (p - n)) > lz) p += *p + 1;
    return static_cast<uint32_t>(ln - (p - n)) == lz && name_equal(p, zone);
}

// A hash of the lower-cased name, eight bytes a step (the key of the zone
// table's index, RRL's name): words mixed by a multiply and a fold
// (MurmurHash3's finalizer constant); the last word overlaps the one before.
inline uint32_t name_hash(const uint8_t *n, uint32_t len, uint32_t seed = 0) {
    uint64_t h = (0x9e3779b97f4a7c15ull ^ seed) + len;
    const auto mix = [&h](uint64_t w) {
        h = (h ^ lower8(w)) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    };
    if (len < 8) {
        uint64_t w = 0;
        for (uint32_t i = 0; i < len; ++i) w |= uint64_t{n[i]} << (8 * i);
        mix(w);
    } else {
        for (uint32_t i = 0; i + 8 < len; i += 8) mix(load8(n + i));
        mix(load8(n + len - 8));
    }
    return static_cast<uint32_t>(h ^ (h >> 29));
}

}  // namespace ep::dns
