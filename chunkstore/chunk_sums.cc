#include "chunkstore/chunk_sums.h"

// XXH3_state_t on the stack needs the static-linking-only declarations; the
// x86 dispatch entry points of libxxhash pick AVX2/AVX-512 at run time (our
// build flags end in DPDK's -march=corei7, which would mean SSE2 code).
#define XXH_STATIC_LINKING_ONLY
#include <xxh_x86dispatch.h>
#include <xxhash.h>

#include "chunkstore/inet_csum.h"
#include "chunkstore/types.h"

namespace ep::chunkstore {

uint64_t payload_hash(const void *data, size_t len) {
    return XXH3_64bits_dispatch(data, len);
}

uint64_t hash_and_csum(const uint8_t *data, uint32_t len, uint16_t *prefix) {
    constexpr uint32_t kPiece = 4096;  // a multiple of kCsumBlock
    // Short chunks: one-shot hashing is cheaper than the streaming state.
    if (len <= kPiece) {
        csum_build_prefix(data, len, prefix);
        return XXH3_64bits_dispatch(data, len);
    }
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    uint32_t acc = 0, blk = 0;
    prefix[0] = 0;
    for (uint32_t off = 0; off < len; off += kPiece) {
        const uint32_t n = len - off < kPiece ? len - off : kPiece;
        XXH3_64bits_update_dispatch(&st, data + off, n);
        acc = csum_extend_prefix(data + off, n / kCsumBlock, prefix + 1 + blk, acc);
        blk += n / kCsumBlock;
    }
    return XXH3_64bits_digest(&st);
}

}  // namespace ep::chunkstore
