// edgebench dns's id matching (bench/edgebench/dns_ids.h).
#include "bench/edgebench/dns_ids.h"

#include <gtest/gtest.h>

namespace ep::bench {
namespace {

TEST(DnsIdsInFlight, AnswerOnlyAnIdInFlightAndOnlyOnce) {
    DnsIdsInFlight f;
    for (uint64_t s = 0; s < 4; ++s) f.sent(s);
    EXPECT_TRUE(f.answer(2));
    EXPECT_FALSE(f.answer(2)) << "a second response to one query is not an answer";
    EXPECT_FALSE(f.answer(4)) << "never sent";
    EXPECT_TRUE(f.answer(0));
    EXPECT_TRUE(f.answer(3));
    EXPECT_TRUE(f.answer(1));
}

TEST(DnsIdsInFlight, SequenceWrapsAt16Bits) {
    DnsIdsInFlight f;
    f.sent(65535);
    f.sent(65536);  // id 0
    EXPECT_EQ(DnsIdsInFlight::id_of(65536), 0);
    EXPECT_TRUE(f.answer(0));
    EXPECT_TRUE(f.answer(65535));
    EXPECT_FALSE(f.answer(0));
}

}  // namespace
}  // namespace ep::bench
