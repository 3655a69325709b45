#include "bench/edgebench/syn_packet.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstring>

#include "dataplane/net/byte_order.h"
#include "dataplane/net/csum32.h"

namespace ep::bench {

void build_syn(const SynSpec &s, uint8_t *out) {
    uint8_t *ih = out, *th = out + 20;
    std::memset(out, 0, kSynPacketLen);
    ih[0] = 0x45;  // version 4, 5 words
    net::put16(ih + 2, kSynPacketLen);
    net::put16(ih + 4, s.ip_id);
    ih[8] = s.ttl;
    ih[9] = IPPROTO_TCP;
    std::memcpy(ih + 12, &s.src_be, 4);
    std::memcpy(ih + 16, &s.dst_be, 4);
    // fold_sum gives the sum in memory order: stored as is it is network order.
    const uint16_t ip_sum = static_cast<uint16_t>(~net::fold_sum(net::sum_bytes(ih, 20)));
    std::memcpy(ih + 10, &ip_sum, 2);

    net::put16(th, s.sport);
    net::put16(th + 2, s.dport);
    net::put32(th + 4, s.seq);
    th[12] = 5 << 4;  // data offset: 5 words, no options
    th[13] = 0x02;    // SYN
    net::put16(th + 14, s.window);
    const uint16_t tcp_sum = static_cast<uint16_t>(~net::fold_sum(
        net::pseudo_sum_v4(s.src_be, s.dst_be, IPPROTO_TCP, 20) + net::sum_bytes(th, 20)));
    std::memcpy(th + 16, &tcp_sum, 2);
}

bool parse_syn_source(const std::string &s, uint32_t *net, uint32_t *host_mask) {
    const size_t slash = s.find('/');
    unsigned len = 32;
    if (slash != std::string::npos) {
        char tail = 0;
        if (std::sscanf(s.c_str() + slash + 1, "%u%c", &len, &tail) != 1 || len < 8 || len > 32)
            return false;
    }
    in_addr a{};
    if (inet_pton(AF_INET, s.substr(0, slash).c_str(), &a) != 1) return false;
    *host_mask = len == 32 ? 0 : (uint32_t{1} << (32 - len)) - 1;
    *net = ntohl(a.s_addr) & ~*host_mask;
    return true;
}

}  // namespace ep::bench
