#include "dataplane/net/tcp/syn_cookie.h"

#include <xxhash.h>

#include <cstring>

namespace ep::tcp {

uint8_t SynCookies::mss_index(uint16_t mss) {
    uint8_t idx = 0;
    for (uint8_t i = 0; i < 7; ++i)
        if (kMssTable[i] <= mss) idx = i;
    return idx;
}

uint32_t SynCookies::hash24(const FlowKey &k, Seq peer_isn, uint32_t counter, uint8_t idx) const {
    uint8_t buf[sizeof(FlowKey) + 12];
    std::memcpy(buf, &k, sizeof(FlowKey));
    std::memcpy(buf + sizeof(FlowKey), &peer_isn, 4);
    std::memcpy(buf + sizeof(FlowKey) + 4, &counter, 4);
    uint32_t i32 = idx;
    std::memcpy(buf + sizeof(FlowKey) + 8, &i32, 4);
    return static_cast<uint32_t>(XXH3_64bits_withSeed(buf, sizeof(buf), secret_)) & 0xffffff;
}

uint32_t SynCookies::make(const FlowKey &k, Seq peer_isn, uint8_t mss_idx, uint64_t now_ns) const {
    uint32_t counter = static_cast<uint32_t>(now_ns / kPeriodNs);
    return ((counter & 31u) << 27) | (uint32_t{mss_idx} << 24) |
           hash24(k, peer_isn, counter, mss_idx);
}

bool SynCookies::check(const FlowKey &k, Seq peer_isn, uint32_t cookie, uint64_t now_ns,
                       uint8_t *mss_idx) const {
    uint32_t now_counter = static_cast<uint32_t>(now_ns / kPeriodNs);
    uint32_t c5 = cookie >> 27;
    uint8_t idx = (cookie >> 24) & 7;
    for (uint32_t age = 0; age < 2; ++age) {
        uint32_t counter = now_counter - age;
        if ((counter & 31u) != c5) continue;
        if (hash24(k, peer_isn, counter, idx) == (cookie & 0xffffff)) {
            *mss_idx = idx;
            return true;
        }
    }
    return false;
}

}  // namespace ep::tcp
