// The active prober's matching of received datagrams (dataplane/probe/
// prober.h): echo replies (identifier, sequence, checksum), TCP segments to
// the reserved probe ports (SYN-ACK / RST against the ISN, the RST built
// for a SYN-ACK). Two probes are in flight to 10.0.0.1 from 10.0.0.2 (an
// ICMP echo in slot 0, a SYN to port 80 from port 61001), seed 1, so the
// seeds can answer them exactly; the input is one IPv4 datagram.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "dataplane/probe/prober.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace ep::probe;
    Config c;
    c.local_ip = 0x0200000a;  // 10.0.0.2 in network order
    c.rate_per_s = 1e6;
    c.burst = 16;
    c.seed = 1;
    Prober p(c);
    const uint32_t target = 0x0100000a;
    p.post({target, 1, 0, Method::kIcmp});
    p.post({target, 2, 80, Method::kTcp});
    uint8_t buf[Prober::kMaxLen];
    while (p.send(0, buf, sizeof buf) > 0) {
    }
    uint8_t rst[Prober::kRstLen];
    uint16_t rst_len = 0;
    const Match m = p.input(data, static_cast<uint32_t>(size), 1000, rst, &rst_len);
    if (rst_len != 0 && rst_len != Prober::kRstLen) std::abort();
    if (m == Match::kAnswer && p.in_flight() != 1) std::abort();
    p.expire(c.timeout_ns);
    Result r;
    unsigned n = 0;
    while (p.take(&r)) ++n;
    if (n != 2 || p.in_flight() != 0) std::abort();  // every probe ends in exactly one result
    return 0;
}
