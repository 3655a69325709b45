// Randomized robustness: mutated valid requests fed at random split points.
// Asserts no crash, progress, in-bounds references and well-formed heads.
// (fuzz_http_parser.cc runs the same driver under libFuzzer with clang.)
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/http/fuzz_common.h"

namespace ep::http {
namespace {

const std::vector<std::string> kSeeds = {
    "GET /v/seg.m4s HTTP/1.1\r\nHost: h\r\nRange: bytes=0-3,5-\r\nIf-None-Match: \"a\", "
    "W/\"b\"\r\n\r\n",
    "HEAD /v/ HTTP/1.0\r\nConnection: keep-alive\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 "
    "GMT\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: h\r\nAccess-Control-Request-Headers: range, if-range\r\n\r\n",
    "GET http://e/v/seg.m4s?x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET / "
    "HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /v/seg.m4s HTTP/1.1\r\nHost: h\r\nRange: bytes=-2\r\nIf-Range: Tue, 14 Nov 2023 22:13:20 "
    "GMT\r\n\r\n",
};

TEST(FuzzTest, RandomMutationsKeepInvariants) {
    HttpConfig cfg;
    FakeCatalog cat;
    cat.add("v/seg.m4s", "0123456789abcdefghijklmnopqrstuvwxyz");
    cat.add("v/index.html", "<html/>");
    cat.add("index.html", "<html/>");
    HttpContext ctx(cfg, cat);
    auto s = std::make_unique<HttpSession>(ctx);
    std::mt19937 rng(12345);
    const char kAlphabet[] = "\r\n :,;-=/%.\"*0123456789GETHOSabcdefW\t\x00\x7f\xff";
    const int iterations = 20000;
    for (int it = 0; it < iterations; ++it) {
        std::string in;
        const int parts = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < parts; ++k) in += kSeeds[rng() % kSeeds.size()];
        const int muts = static_cast<int>(rng() % 6);
        for (int m = 0; m < muts && !in.empty(); ++m) {
            const std::size_t at = rng() % in.size();
            switch (rng() % 4) {
                case 0:
                    in[at] = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
                    break;
                case 1:
                    in.erase(at, 1 + rng() % 4);
                    break;
                case 2:
                    in.insert(at, 1, kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
                    break;
                case 3:
                    in.insert(at, in.substr(rng() % in.size(), rng() % 16));
                    break;
            }
        }
        s->start(Now{0, 0});
        const char *why = nullptr;
        ASSERT_TRUE(test::drive_session(*s, cat, reinterpret_cast<const uint8_t *>(in.data()),
                                        in.size(), static_cast<uint32_t>(rng()), &why))
            << why << " input: " << ::testing::PrintToString(in);
    }
    EXPECT_EQ(ctx.counters.connections, static_cast<uint64_t>(iterations));
    EXPECT_GT(ctx.counters.requests, 0u);
    uint64_t errors = 0;
    for (uint64_t e : ctx.counters.parse_errors) errors += e;
    EXPECT_GT(errors, 0u);
}

}  // namespace
}  // namespace ep::http
