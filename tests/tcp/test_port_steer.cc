// tcp::PortSteer: every lcore's slice of the ephemeral range is its own, the
// slices cover the range, and owner() names the slice's lcore (the steering
// stage hands a segment to that lcore; outside the range nobody is named).
#include <gtest/gtest.h>

#include "dataplane/net/tcp/port_steer.h"

using ep::tcp::PortSteer;

TEST(PortSteer, OneLcoreSteersNothing) {
    PortSteer s;
    EXPECT_EQ(s.owner(40000), PortSteer::kNone);
    uint16_t a, b;
    s.slice(0, &a, &b);
    EXPECT_EQ(a, 32768);
    EXPECT_EQ(b, 60999);
}

TEST(PortSteer, SlicesAreDisjointCoverTheRangeAndNameTheirOwner) {
    for (uint16_t n : {2, 3, 5, 16}) {
        PortSteer s;
        s.lcores = n;
        uint32_t next = s.lo;
        for (uint16_t i = 0; i < n; ++i) {
            uint16_t a, b;
            s.slice(i, &a, &b);
            EXPECT_EQ(a, next) << n << " " << i;
            EXPECT_LE(a, b);
            for (uint32_t p = a; p <= b; ++p) ASSERT_EQ(s.owner(static_cast<uint16_t>(p)), i) << p;
            next = uint32_t{b} + 1;
        }
        EXPECT_EQ(next, uint32_t{s.hi} + 1);
    }
}

TEST(PortSteer, PortsOutsideTheRangeHaveNoOwner) {
    PortSteer s;
    s.lcores = 2;
    EXPECT_EQ(s.owner(80), PortSteer::kNone);
    EXPECT_EQ(s.owner(6881), PortSteer::kNone);
    EXPECT_EQ(s.owner(32767), PortSteer::kNone);
    EXPECT_EQ(s.owner(61000), PortSteer::kNone);
    EXPECT_EQ(s.owner(65535), PortSteer::kNone);
}
