// payload_partial_sum against a direct rte_raw_cksum of the same bytes.
#include <rte_ip.h>

#include <memory>
#include <random>

#include <gtest/gtest.h>

#include "chunkstore/chunk.h"
#include "chunkstore/chunk_sums.h"
#include "tests/chunkstore/test_util.h"

using namespace ep::chunkstore;

namespace {

// Both are ones-complement values: equal modulo 0xffff.
uint32_t norm(uint32_t s) {
    return csum_fold(s) % 0xffff;
}

std::unique_ptr<Chunk> make_chunk(std::vector<uint8_t> &bytes) {
    auto c = std::make_unique<Chunk>();
    c->data = bytes.data();
    c->len = static_cast<uint32_t>(bytes.size());
    csum_build_prefix(c->data, c->len, c->csum_prefix);
    return c;
}

}  // namespace

// Under ASan at -O0 (the sanitizer pass, scripts/test.sh) the 100,000
// checksums of up to 256 KiB took over a minute: the sanitizer checks the
// same accesses with a twentieth of the ranges (every edge case is in the
// other tests; the random ranges are for the arithmetic, checked at full
// count in the normal build).
#if defined(__SANITIZE_ADDRESS__)
constexpr int kRandomRanges = 1000;
#else
constexpr int kRandomRanges = 20000;
#endif

TEST(InetCsum, RandomRangesMatchRawCksum) {
    for (uint32_t len : {kChunkSize, kChunkSize - 1, 100000u, 63u, 1u}) {
        auto bytes = test::random_bytes(len, len);
        auto c = make_chunk(bytes);
        std::mt19937 rng(len);
        for (int i = 0; i < kRandomRanges; ++i) {
            uint32_t off = rng() % len;
            uint32_t n = rng() % (len - off + 1);
            if (i % 4 == 0) n = std::min<uint32_t>(n, 1 + rng() % 200);  // short, edge-only
            ASSERT_EQ(norm(payload_partial_sum(c.get(), off, n)),
                      norm(rte_raw_cksum(bytes.data() + off, n)))
                << "len " << len << " off " << off << " n " << n;
            ASSERT_EQ(payload_partial_sum16(c.get(), off, n) % 0xffff,
                      norm(rte_raw_cksum(bytes.data() + off, n)));
        }
    }
}

TEST(InetCsum, SegmentSizesAtEveryAlignment) {
    auto bytes = test::random_bytes(kChunkSize, 7);
    auto c = make_chunk(bytes);
    for (uint32_t off = 0; off < 200; ++off)
        for (uint32_t n : {0u, 1u, 2u, 63u, 64u, 65u, 127u, 1448u, 1460u, 8960u, 65535u}) {
            ASSERT_EQ(norm(payload_partial_sum(c.get(), off, n)),
                      norm(rte_raw_cksum(bytes.data() + off, n)))
                << off << " " << n;
            uint32_t back = kChunkSize - n - off;  // ranges ending near the end
            ASSERT_EQ(norm(payload_partial_sum(c.get(), back, n)),
                      norm(rte_raw_cksum(bytes.data() + back, n)));
        }
}

TEST(InetCsum, CombinesIntoAValidTcpChecksum) {
    // Payload sum + header sum, folded and inverted, verifies to 0xffff.
    auto bytes = test::random_bytes(kChunkSize, 9);
    auto c = make_chunk(bytes);
    const uint32_t off = 12345, n = 1448;
    uint8_t hdr[20];
    for (int i = 0; i < 20; ++i) hdr[i] = static_cast<uint8_t>(i * 7);
    uint32_t sum = rte_raw_cksum(hdr, sizeof(hdr)) + payload_partial_sum(c.get(), off, n);
    uint16_t cks = static_cast<uint16_t>(~csum_fold(sum));
    uint32_t check = rte_raw_cksum(hdr, sizeof(hdr)) + rte_raw_cksum(bytes.data() + off, n) + cks;
    EXPECT_EQ(csum_fold(check), 0xffff);
}

TEST(InetCsum, OnePassSumsEqualTheSeparateOnes) {
    for (uint32_t len : {0u, 1u, 63u, 4096u, 4097u, 100000u, kChunkSize - 3, kChunkSize}) {
        auto bytes = test::random_bytes(len, len + 1);
        std::vector<uint16_t> a(kCsumBlocks + 1), b(kCsumBlocks + 1);
        csum_build_prefix(bytes.data(), len, a.data());
        EXPECT_EQ(hash_and_csum(bytes.data(), len, b.data()), XXH3_64bits(bytes.data(), len));
        EXPECT_TRUE(std::equal(a.begin(), a.begin() + len / kCsumBlock + 1, b.begin())) << len;
    }
}
