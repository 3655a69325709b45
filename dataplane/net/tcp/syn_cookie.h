// SYN cookies (RFC 4987 section 3.6): the ISN of a stateless SYN-ACK encodes a
// 64-second time counter (5 bits), an MSS table index (3 bits) and a 24-bit
// keyed hash (XXH3 with a secret seed) of the 4-tuple, the peer ISN, counter
// and index. Window scale and SACK-permitted ride in the low 6 bits of our
// TSval when the peer sent timestamps (as Linux does).
#pragma once

#include <cstdint>

#include "dataplane/net/tcp/addr.h"
#include "dataplane/net/tcp/seq.h"

namespace ep::tcp {

class SynCookies {
  public:
    static constexpr uint16_t kMssTable[8] = {536, 1220, 1360, 1440, 1460, 4312, 8960, 8960};
    static constexpr uint64_t kPeriodNs = 64'000'000'000ull;

    void init(uint64_t secret) { secret_ = secret; }

    static uint8_t mss_index(uint16_t mss);
    uint32_t make(const FlowKey &k, Seq peer_isn, uint8_t mss_idx, uint64_t now_ns) const;
    // Checks `cookie` (= SEG.ACK - 1). Accepts the current and previous period.
    bool check(const FlowKey &k, Seq peer_isn, uint32_t cookie, uint64_t now_ns,
               uint8_t *mss_idx) const;

    // Option bits carried in TSval: wscale (4 bits, 15 = none), SACK (bit 4).
    static uint32_t encode_ts_opts(bool has_ws, uint8_t ws, bool sack) {
        return (has_ws ? ws : 0xfu) | (sack ? 0x10u : 0u);
    }
    static constexpr uint32_t kTsOptMask = 0x3f;

  private:
    uint32_t hash24(const FlowKey &k, Seq peer_isn, uint32_t counter, uint8_t idx) const;
    uint64_t secret_ = 0;
};

}  // namespace ep::tcp
