// libFuzzer target: UDP receive checks (dataplane/net/udp/udp.cc) behind the
// IPv4 checks, then, for what passes, the in-place echo reply and the ICMP
// port unreachable, as packet_path.cc chains them.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/net/icmp.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/net/udp/udp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::net;
    PortAddress port;
    port.mac = {{0x02, 0, 0, 0, 0, 1}};
    port.ip = 0x0100000a;  // 10.0.0.1
    port.netmask = 0x00ffffff;
    // Room behind the datagram, as an mbuf has, for the ICMP error's headers.
    std::vector<uint8_t> pkt(data, data + size);
    pkt.resize(size + 64);
    Ipv4View v;
    if (parse_ipv4(pkt.data(), static_cast<uint32_t>(size), port, &v) != ep::Drop::none) return 0;
    if (v.protocol != 17) return 0;
    udp::View u;
    if (udp::parse(pkt.data(), v, &u) != ep::Drop::none) return 0;
    // A view that passed must lie within the IP payload.
    if (u.payload_off < v.header_len + udp::kHeaderLen || u.payload_off + u.payload_len > v.total_len) std::abort();
    std::vector<uint8_t> copy = pkt;
    (void)icmp_port_unreachable_in_place(copy.data(), v, static_cast<uint32_t>(copy.size()));
    udp::strip_ip_options(pkt.data(), &v, &u);
    (void)udp::reply_in_place(pkt.data(), u, u.payload_len);
    return 0;
}
