// Response rate limiting (RRL) as Knot DNS and NSD do it: answers to one
// source prefix (/24 for IPv4, /56 for IPv6 by default) of one kind for one
// name come out of a token bucket of `rate` answers per second; an answer
// over the rate is dropped, except every `slip`-th one, which is sent
// truncated (TC, the question only) so a real client behind a spoofed
// address retries over TCP, where no one can spoof it (TCP is never
// limited). What a reflection attack with a victim's source address gets
// out of us is then a trickle of 12-byte-plus-question packets.
//
// The bucket key follows Knot's: (source prefix, response class, name)
// where the name is the query's for answers and NODATA, and empty for
// NXDOMAIN, errors and referrals, so a flood of random names under one
// zone shares one bucket instead of getting a fresh one per name.
//
// Pure: time comes in as nanoseconds; one table per queue, no locks.
// Buckets are a fixed, direct-mapped table: a colliding key takes the slot
// over with a full bucket (Knot's table also forgets under pressure; an
// attacker spreading over many prefixes gets the rate per prefix anyway).
#pragma once

#include <cstdint>
#include <memory>

namespace ep::dns {

struct RrlConfig {
    uint32_t rate = 0;  // answers per second per bucket; 0: RRL off
    uint32_t slip = 2;  // every slip-th limited answer is sent truncated; 0: none, 1: all
    uint8_t v4_prefix = 24;
    uint8_t v6_prefix = 56;
    uint32_t buckets = 16384;  // per queue, a power of two
};

enum class RrlVerdict { pass, drop, slip };

class Rrl {
  public:
    // Control side: allocates the table. False on a bad config.
    bool init(const RrlConfig &cfg);
    bool enabled() const { return cfg_.rate != 0; }

    // One answer of class `cls` with name hash `name` to `addr` (4 or 16
    // bytes, `family` 1 or 2) at now_ns. Fast path: no allocation.
    RrlVerdict check(uint16_t family, const uint8_t *addr, uint8_t cls, uint64_t name,
                     uint64_t now_ns);

  private:
    struct Bucket {
        uint64_t key = 0;
        uint64_t last_ns = 0;
        uint64_t tokens_q = 0;  // tokens in 1/2^20, up to rate (one second's worth)
        uint32_t limited = 0;   // limited answers so far, for the slip count
    };
    RrlConfig cfg_;
    std::unique_ptr<Bucket[]> table_;
    uint32_t mask_ = 0;
};

// Applies `rrl` to the response out[0, len) for a query from `addr`:
// returns len (send it), the truncated length (slip: TC set, the sections
// dropped, the question kept), or -1 (drop). Counts in `c`'s rrl_* fields.
struct Counters;
int rrl_apply(Rrl &rrl, uint8_t *out, int len, uint16_t family, const uint8_t *addr,
              uint64_t now_ns, Counters &c);

}  // namespace ep::dns
