#include "dataplane/net/tcp/wire.h"

#include "dataplane/net/byte_order.h"

#include <cstring>

namespace ep::tcp {

ParseError parse_header(const uint8_t *p, size_t len, SegmentIn &s) {
    if (len < kTcpHeaderMin) return ParseError::kTooShort;
    size_t off = static_cast<size_t>(p[12] >> 4) * 4;
    if (off < kTcpHeaderMin || off > len) return ParseError::kBadDataOffset;
    s.sport = net::get16(p);
    s.dport = net::get16(p + 2);
    s.seq = net::get32(p + 4);
    s.ack = net::get32(p + 8);
    s.flags = p[13];
    s.window = net::get16(p + 14);
    s.opts = TcpOptions{};
    if (off > kTcpHeaderMin && !parse_options(p + kTcpHeaderMin, off - kTcpHeaderMin, s.opts))
        return ParseError::kBadOptions;
    s.payload = p + off;
    s.payload_len = static_cast<uint32_t>(len - off);
    return ParseError::kOk;
}

size_t header_length(const SegmentOut &s) {
    return kTcpHeaderMin + ((options_length(s.opts) + 3) & ~size_t{3});
}

size_t write_header(const SegmentOut &s, uint8_t *out) {
    size_t olen = write_options(s.opts, out + kTcpHeaderMin);
    while (olen & 3) out[kTcpHeaderMin + olen++] = kOptEnd;
    size_t hlen = kTcpHeaderMin + olen;
    net::put16(out, s.sport);
    net::put16(out + 2, s.dport);
    net::put32(out + 4, s.seq);
    net::put32(out + 8, s.ack);
    out[12] = static_cast<uint8_t>((hlen / 4) << 4);
    out[13] = s.flags;
    net::put16(out + 14, s.window);
    net::put16(out + 16, 0);  // checksum: filled by the glue or the NIC
    net::put16(out + 18, 0);  // urgent pointer
    return hlen;
}

}  // namespace ep::tcp
