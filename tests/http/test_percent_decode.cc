// uri::percent_decode (dataplane/http/percent_decode.h): the one decoder
// behind the tracker's query, magnet links and the steering request.
#include "dataplane/http/percent_decode.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using ep::uri::percent_decode;
using ep::uri::PercentOptions;

std::string decoded(std::string_view in, PercentOptions opt = {}, std::size_t cap = 64) {
    char buf[64];
    const auto r = percent_decode(in, buf, cap, opt);
    return r.bad_escape ? "<bad>" : r.truncated ? "<full>" : std::string(buf, r.len);
}

TEST(PercentDecode, EscapesOfEitherCaseAndRawBytes) {
    EXPECT_EQ(decoded("a%41%6a%00z"), std::string("aAj\0z", 5));
    EXPECT_EQ(decoded("%ff%FE"), "\xff\xfe");
    EXPECT_EQ(decoded(""), "");
}

TEST(PercentDecode, StrictRefusesBrokenEscapes) {
    EXPECT_EQ(decoded("%4"), "<bad>");
    EXPECT_EQ(decoded("ab%"), "<bad>");
    EXPECT_EQ(decoded("%g1"), "<bad>");
    EXPECT_EQ(decoded("%41%"), "<bad>");
}

TEST(PercentDecode, LenientKeepsAStrayPercent) {
    const PercentOptions lenient{.plus_is_space = false, .strict = false};
    EXPECT_EQ(decoded("100%", lenient), "100%");
    EXPECT_EQ(decoded("%g1%41", lenient), "%g1A");
}

TEST(PercentDecode, PlusIsSpaceOnlyWhenAsked) {
    EXPECT_EQ(decoded("a+b%2B"), "a+b+");
    EXPECT_EQ(decoded("a+b%2B", {.plus_is_space = true}), "a b+");
}

TEST(PercentDecode, SaysWhenTheOutputIsFullAndKeepsWhatFit) {
    char buf[4];
    auto r = percent_decode("abcd", buf, 4);
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(r.len, 4u);
    r = percent_decode("ab%63de", buf, 3);
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(std::string(buf, r.len), "abc");
}

static_assert(ep::uri::hex_value('F') == 15 && ep::uri::hex_value('g') == -1);

}  // namespace
