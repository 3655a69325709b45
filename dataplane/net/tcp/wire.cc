#include "dataplane/net/tcp/wire.h"

#include <cstring>

namespace ep::tcp {

namespace {
uint16_t rd16(const uint8_t *p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
uint32_t rd32(const uint8_t *p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
void wr16(uint8_t *p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void wr32(uint8_t *p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}
}  // namespace

ParseError parse_header(const uint8_t *p, size_t len, SegmentIn &s) {
    if (len < kTcpHeaderMin) return ParseError::kTooShort;
    size_t off = static_cast<size_t>(p[12] >> 4) * 4;
    if (off < kTcpHeaderMin || off > len) return ParseError::kBadDataOffset;
    s.sport = rd16(p);
    s.dport = rd16(p + 2);
    s.seq = rd32(p + 4);
    s.ack = rd32(p + 8);
    s.flags = p[13];
    s.window = rd16(p + 14);
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
    wr16(out, s.sport);
    wr16(out + 2, s.dport);
    wr32(out + 4, s.seq);
    wr32(out + 8, s.ack);
    out[12] = static_cast<uint8_t>((hlen / 4) << 4);
    out[13] = s.flags;
    wr16(out + 14, s.window);
    wr16(out + 16, 0);  // checksum: filled by the glue or the NIC
    wr16(out + 18, 0);  // urgent pointer
    return hlen;
}

}  // namespace ep::tcp
