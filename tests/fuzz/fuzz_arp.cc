// libFuzzer target: ARP reception (dataplane/net/arp.cc) against a table that
// persists across inputs, as it does on a port.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/net/arp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::net;
    static ArpTable table;
    static uint64_t now = 0;
    PortAddress port;
    port.mac = {{0x02, 0, 0, 0, 0, 1}};
    port.ip = 0x0100000a;  // 10.0.0.1 in network order
    port.netmask = 0x00ffffff;
    std::vector<uint8_t> frame(data, data + size);
    const ArpVerdict v =
        process_arp(frame.data(), static_cast<uint32_t>(frame.size()), port, table, ++now);
    if ((v.action == ArpAction::drop) != (v.reason != ep::Drop::none)) std::abort();
    if (v.action == ArpAction::reply) {
        // The reply leaves from us, to the requester, and is still ARP.
        if (std::memcmp(frame.data() + 6, &port.mac, 6) != 0) std::abort();
        if (std::memcmp(frame.data(), data + 6, 6) != 0) std::abort();
    }
    return 0;
}
