// Addresses and the 4-tuple. Addresses are 16 bytes (IPv4 is stored IPv4-mapped,
// ::ffff:a.b.c.d, RFC 4291 section 2.5.5.2) so the engine is ready for IPv6.
#pragma once

#include <cstdint>
#include <cstring>

namespace ep::tcp {

struct IpAddr {
    uint8_t b[16] = {};

    static IpAddr v4(uint32_t host_order) {
        IpAddr a;
        a.b[10] = 0xff;
        a.b[11] = 0xff;
        a.b[12] = static_cast<uint8_t>(host_order >> 24);
        a.b[13] = static_cast<uint8_t>(host_order >> 16);
        a.b[14] = static_cast<uint8_t>(host_order >> 8);
        a.b[15] = static_cast<uint8_t>(host_order);
        return a;
    }
    static IpAddr v4(uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3) {
        return v4((uint32_t{a0} << 24) | (uint32_t{a1} << 16) | (uint32_t{a2} << 8) | a3);
    }
    static IpAddr v6(const uint8_t bytes[16]) {
        IpAddr a;
        std::memcpy(a.b, bytes, 16);
        return a;
    }
    bool is_v4() const {
        static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return std::memcmp(b, kPrefix, 12) == 0;
    }
    uint32_t v4_host() const {
        return (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
    }
    bool operator==(const IpAddr &o) const { return std::memcmp(b, o.b, 16) == 0; }
};

// Key of the flow table: seen from this stack (local = our side).
struct FlowKey {
    IpAddr local;
    IpAddr remote;
    uint16_t lport = 0;
    uint16_t rport = 0;

    bool operator==(const FlowKey &o) const {
        return lport == o.lport && rport == o.rport && local == o.local && remote == o.remote;
    }
};
static_assert(sizeof(FlowKey) == 36, "FlowKey must be packed for hashing");

}  // namespace ep::tcp
