// libFuzzer target: TCP option parsing (dataplane/net/tcp/options.cc). What
// parses must write back within 40 bytes and parse again to the same values.
#include <cstdint>
#include <cstdlib>

#include "dataplane/net/tcp/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::tcp;
    if (size > kMaxOptionBytes) size = kMaxOptionBytes;  // a header holds at most 40
    TcpOptions o;
    if (!parse_options(data, size, o)) return 0;
    if (o.num_sack > kMaxSackBlocks || o.wscale > 14) std::abort();
    if (options_length(o) > 4 + 12 + 4 + 4 + 8 * kMaxSackBlocks) std::abort();
    uint8_t out[kMaxOptionBytes + 8];
    const size_t n = write_options(o, out);
    if (n > kMaxOptionBytes) std::abort();
    TcpOptions r;
    if (!parse_options(out, n, r)) std::abort();
    if (r.has_mss != o.has_mss || (o.has_mss && r.mss != o.mss)) std::abort();
    if (r.has_wscale != o.has_wscale || (o.has_wscale && r.wscale != o.wscale)) std::abort();
    if (r.sack_permitted != o.sack_permitted || r.has_ts != o.has_ts) std::abort();
    if (o.has_ts && (r.ts_val != o.ts_val || r.ts_ecr != o.ts_ecr)) std::abort();
    if (r.num_sack > o.num_sack) std::abort();  // write may drop blocks that do not fit
    for (int k = 0; k < r.num_sack; ++k)
        if (r.sack[k].start != o.sack[k].start || r.sack[k].end != o.sack[k].end) std::abort();
    return 0;
}
