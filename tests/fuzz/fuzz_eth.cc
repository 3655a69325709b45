// libFuzzer target: Ethernet II classification (dataplane/net/eth.cc).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/net/eth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    static const rte_ether_addr ours = {{0x02, 0, 0, 0, 0, 1}};
    std::vector<uint8_t> frame(data, data + size);
    const ep::net::EthVerdict v =
        ep::net::classify_eth(frame.data(), static_cast<uint32_t>(frame.size()), ours);
    // A verdict is a drop with a reason, or a protocol without one.
    if ((v.l3 == ep::net::L3::drop) != (v.reason != ep::Drop::none)) std::abort();
    if (v.l3 != ep::net::L3::drop && size < sizeof(rte_ether_hdr)) std::abort();
    return 0;
}
