// libFuzzer target: IPv4 receive checks (dataplane/net/ipv4.cc) and, for what
// passes them, ICMP echo (dataplane/net/icmp.cc), as packet_path.cc chains them.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/net/icmp.h"
#include "dataplane/net/ipv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::net;
    PortAddress port;
    port.mac = {{0x02, 0, 0, 0, 0, 1}};
    port.ip = 0x0100000a;  // 10.0.0.1
    port.netmask = 0x00ffffff;
    std::vector<uint8_t> pkt(data, data + size);
    Ipv4View v;
    const ep::Drop d = parse_ipv4(pkt.data(), static_cast<uint32_t>(pkt.size()), port, &v);
    if (d != ep::Drop::none) return 0;
    // A view that passed must lie within the bytes it came from.
    if (v.header_len < 20 || v.header_len > v.total_len || v.total_len > size) std::abort();
    if (v.protocol == 1) (void)icmp_echo_reply_in_place(pkt.data(), v);
    return 0;
}
