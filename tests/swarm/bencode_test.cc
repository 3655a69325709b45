// Bencoding (BEP 3): canonical forms only, bounded depth and node count.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/swarm/bencode.h"

namespace ep::swarm {
namespace {

BError decode(std::string_view s, uint32_t cap = 64, BLimits lim = {}) {
    BNode nodes[64];
    uint32_t n = 0;
    return bdecode(s, nodes, cap, &n, lim);
}

TEST(Bencode, DecodesEveryTypeAndFindsKeys) {
    const std::string in = "d3:agei-42e4:listli1ei2e3:xyze4:name4:spam5:zzzzzdee";
    BNode nodes[32];
    uint32_t n = 0;
    ASSERT_EQ(bdecode(in, nodes, 32, &n), BError::kOk);
    EXPECT_EQ(nodes[0].type, BType::kDict);
    EXPECT_EQ(nodes[0].count, 4u);
    EXPECT_EQ(nodes[0].s, in);
    const uint32_t age = bdict_find(nodes, 0, "age");
    ASSERT_NE(age, 0u);
    EXPECT_EQ(nodes[age].i, -42);
    const uint32_t list = bdict_find(nodes, 0, "list");
    ASSERT_NE(list, 0u);
    EXPECT_EQ(nodes[list].type, BType::kList);
    EXPECT_EQ(nodes[list].count, 3u);
    EXPECT_EQ(nodes[list].s, "li1ei2e3:xyze");
    EXPECT_EQ(nodes[bdict_find(nodes, 0, "name")].s, "spam");
    const uint32_t z = bdict_find(nodes, 0, "zzzzz");
    EXPECT_EQ(nodes[z].type, BType::kDict);
    EXPECT_EQ(nodes[z].count, 0u);
    EXPECT_EQ(bdict_find(nodes, 0, "missing"), 0u);
}

TEST(Bencode, IntegersAtTheEdges) {
    EXPECT_EQ(decode("i0e"), BError::kOk);
    EXPECT_EQ(decode("i9223372036854775807e"), BError::kOk);
    EXPECT_EQ(decode("i-9223372036854775808e"), BError::kOk);
    EXPECT_EQ(decode("i9223372036854775808e"), BError::kBadInt);
    EXPECT_EQ(decode("i99999999999999999999e"), BError::kBadInt);
}

TEST(Bencode, RejectsNonCanonicalForms) {
    EXPECT_EQ(decode("i03e"), BError::kBadInt);
    EXPECT_EQ(decode("i-0e"), BError::kBadInt);
    EXPECT_EQ(decode("ie"), BError::kBadInt);
    EXPECT_EQ(decode("i-e"), BError::kBadInt);
    EXPECT_EQ(decode("i1x"), BError::kBadInt);
    EXPECT_EQ(decode("03:abc"), BError::kBadLength);
    EXPECT_EQ(decode("d1:bi1e1:ai2ee"), BError::kUnsortedKeys);
    EXPECT_EQ(decode("d1:ai1e1:ai2ee"), BError::kUnsortedKeys);  // duplicate
    EXPECT_EQ(decode("di1ei2ee"), BError::kKeyNotString);
    EXPECT_EQ(decode("i1ei2e"), BError::kTrailing);
    EXPECT_EQ(decode("x"), BError::kBadByte);
    EXPECT_EQ(decode("e"), BError::kBadByte);
}

TEST(Bencode, RawByteOrderOfKeys) {
    // "Z" (0x5A) sorts before "a" (0x61) as raw bytes; "ab" after "a".
    EXPECT_EQ(decode("d1:Zi1e1:ai1e2:abi1ee"), BError::kOk);
    EXPECT_EQ(decode("d1:ai1e1:Zi1ee"), BError::kUnsortedKeys);
}

TEST(Bencode, TruncatedInputs) {
    for (std::string s : {"", "i12", "5:abc", "l", "li1e", "d1:a", "d1:ai1e", "10:"})
        EXPECT_EQ(decode(s), BError::kTruncated) << s;
    EXPECT_EQ(decode("d1:ae"), BError::kTruncated);  // a key with no value
}

TEST(Bencode, DepthAndNodeLimits) {
    BLimits lim;
    lim.max_depth = 4;
    EXPECT_EQ(decode("lllleeee", 64, lim), BError::kOk);
    EXPECT_EQ(decode("llllleeeee", 64, lim), BError::kTooDeep);
    // A deep input never recurses: 100000 levels fail at the limit.
    const std::string deep = std::string(100000, 'l') + std::string(100000, 'e');
    EXPECT_EQ(decode(deep), BError::kTooDeep);
    EXPECT_EQ(decode("li1ei2ei3ee", 3), BError::kTooManyNodes);
    EXPECT_EQ(decode("li1ei2ei3ee", 4), BError::kOk);
    lim = {};
    lim.max_string = 3;
    EXPECT_EQ(decode("4:abcd", 64, lim), BError::kBadLength);
}

TEST(Bencode, WriterOutputDecodesStrictlyAndRoundTrips) {
    std::string out;
    BWriter w(&out);
    w.begin_dict();
    w.key("a"), w.integer(-7);
    w.key("b"), w.begin_list(), w.integer(0), w.str(""), w.str(std::string(300, 'x')), w.end();
    w.key("c"), w.integer(INT64_MIN);
    w.end();
    EXPECT_EQ(out.substr(0, 12), "d1:ai-7e1:bl");
    BNode nodes[16];
    uint32_t n = 0;
    ASSERT_EQ(bdecode(out, nodes, 16, &n), BError::kOk);
    EXPECT_EQ(nodes[bdict_find(nodes, 0, "c")].i, INT64_MIN);
    EXPECT_EQ(nodes[bdict_find(nodes, 0, "b") + 3].s.size(), 300u);
}

TEST(Bencode, PrefixDecodeReportsWhereTheValueEnds) {
    BNode nodes[8];
    uint32_t n = 0;
    size_t used = 0;
    ASSERT_EQ(bdecode_prefix("d1:ai1eeRAW", nodes, 8, &n, &used), BError::kOk);
    EXPECT_EQ(used, 8u);
}

}  // namespace
}  // namespace ep::swarm
