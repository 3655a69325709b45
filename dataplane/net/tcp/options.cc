#include "dataplane/net/tcp/options.h"

#include "dataplane/net/byte_order.h"

namespace ep::tcp {

bool parse_options(const uint8_t *p, size_t len, TcpOptions &o) {
    // The layout of RFC 7323 Appendix A (NOP, NOP, TS), which every segment
    // of a timestamp connection without SACK blocks carries (every ACK of a
    // bulk transfer): read it without the loop, as Linux's
    // tcp_fast_parse_options does. The same result as the loop below.
    if (len == 12 && p[0] == kOptNop && p[1] == kOptNop && p[2] == kOptTimestamp && p[3] == 10) {
        o.has_ts = true;
        o.ts_val = net::get32(p + 4);
        o.ts_ecr = net::get32(p + 8);
        return true;
    }
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == kOptEnd) break;
        if (kind == kOptNop) {
            ++i;
            continue;
        }
        if (i + 1 >= len) return false;
        uint8_t olen = p[i + 1];
        if (olen < 2 || i + olen > len) return false;
        const uint8_t *v = p + i + 2;
        switch (kind) {
            case kOptMss:
                if (olen != 4) return false;
                o.has_mss = true;
                o.mss = net::get16(v);
                break;
            case kOptWscale:
                if (olen != 3) return false;
                o.has_wscale = true;
                o.wscale = v[0] > 14 ? 14 : v[0];  // RFC 7323 2.3: clamp to 14
                break;
            case kOptSackPermitted:
                if (olen != 2) return false;
                o.sack_permitted = true;
                break;
            case kOptSack: {
                if ((olen - 2) % 8 != 0) return false;
                int n = (olen - 2) / 8;
                o.num_sack = 0;
                for (int k = 0; k < n && k < kMaxSackBlocks; ++k) {
                    o.sack[k].start = net::get32(v + 8 * k);
                    o.sack[k].end = net::get32(v + 8 * k + 4);
                    ++o.num_sack;
                }
                break;
            }
            case kOptTimestamp:
                if (olen != 10) return false;
                o.has_ts = true;
                o.ts_val = net::get32(v);
                o.ts_ecr = net::get32(v + 4);
                break;
            default:
                break;  // unknown options are ignored (RFC 9293 3.2, MUST-6)
        }
        i += olen;
    }
    return true;
}

size_t options_length(const TcpOptions &o) {
    size_t n = 0;
    if (o.has_mss) n += 4;
    if (o.sack_permitted && o.has_ts) {
        n += 12;
    } else {
        if (o.sack_permitted) n += 4;
        if (o.has_ts) n += 12;
    }
    if (o.has_wscale) n += 4;
    if (o.num_sack) n += 4 + 8 * o.num_sack;
    return n;
}

size_t write_options(const TcpOptions &o, uint8_t *out) {
    size_t n = 0;
    if (o.has_mss) {
        out[n++] = kOptMss;
        out[n++] = 4;
        net::put16(out + n, o.mss);
        n += 2;
    }
    if (o.sack_permitted && o.has_ts) {
        out[n++] = kOptSackPermitted;
        out[n++] = 2;
    } else if (o.sack_permitted) {
        out[n++] = kOptNop;
        out[n++] = kOptNop;
        out[n++] = kOptSackPermitted;
        out[n++] = 2;
    }
    if (o.has_ts) {
        if (!o.sack_permitted) {
            out[n++] = kOptNop;
            out[n++] = kOptNop;
        }
        out[n++] = kOptTimestamp;
        out[n++] = 10;
        net::put32(out + n, o.ts_val);
        net::put32(out + n + 4, o.ts_ecr);
        n += 8;
    }
    if (o.has_wscale) {
        out[n++] = kOptNop;
        out[n++] = kOptWscale;
        out[n++] = 3;
        out[n++] = o.wscale;
    }
    if (o.num_sack) {
        int k = o.num_sack > kMaxSackBlocks ? kMaxSackBlocks : o.num_sack;
        if (n + 4 + 8 * k > kMaxOptionBytes) k = static_cast<int>((kMaxOptionBytes - n - 4) / 8);
        out[n++] = kOptNop;
        out[n++] = kOptNop;
        out[n++] = kOptSack;
        out[n++] = static_cast<uint8_t>(2 + 8 * k);
        for (int i = 0; i < k; ++i) {
            net::put32(out + n, o.sack[i].start);
            net::put32(out + n + 4, o.sack[i].end);
            n += 8;
        }
    }
    return n;
}

}  // namespace ep::tcp
