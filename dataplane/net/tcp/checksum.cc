#include "dataplane/net/tcp/checksum.h"

namespace ep::tcp {

uint32_t csum_partial(const void *data, size_t len, uint32_t sum) {
    const uint8_t *p = static_cast<const uint8_t *>(data);
    uint64_t acc = sum;
    while (len >= 2) {
        acc += (uint32_t{p[0]} << 8) | p[1];
        p += 2;
        len -= 2;
    }
    if (len) acc += uint32_t{p[0]} << 8;
    return csum_fold(acc);
}

uint32_t pseudo_header_sum(const IpAddr &src, const IpAddr &dst, uint32_t tcp_len) {
    uint64_t acc = 0;
    if (src.is_v4() && dst.is_v4()) {
        acc += csum_partial(src.b + 12, 4);
        acc += csum_partial(dst.b + 12, 4);
    } else {
        acc += csum_partial(src.b, 16);
        acc += csum_partial(dst.b, 16);
    }
    acc += 6;  // protocol
    acc += tcp_len & 0xffff;
    acc += tcp_len >> 16;
    return csum_fold(acc);
}

uint16_t tcp_checksum(uint32_t pseudo_sum, uint32_t header_sum, size_t header_len,
                      const SegmentOut &seg) {
    uint64_t acc = pseudo_sum;
    acc += csum_fold(header_sum);
    size_t off = header_len;
    for (int i = 0; i < seg.npieces; ++i) {
        const PayloadPiece &pc = seg.pieces[i];
        uint32_t s;
        if (pc.item && pc.item->ops && pc.item->ops->partial_sum)
            s = pc.item->ops->partial_sum(pc.item->ref, pc.data, pc.len);
        else
            s = csum_partial(pc.data, pc.len);
        acc = csum_add_at(acc, s, off);
        off += pc.len;
    }
    uint16_t r = static_cast<uint16_t>(~csum_fold(acc));
    return r;
}

}  // namespace ep::tcp
