// Unit tests of the engine's building blocks.
#include <gtest/gtest.h>

#include <vector>

#include "dataplane/net/tcp/checksum.h"
#include "dataplane/net/tcp/flow_table.h"
#include "dataplane/net/tcp/options.h"

namespace ep::tcp {
namespace {

TEST(Options, RoundTrip) {
    TcpOptions o;
    o.has_mss = true;
    o.mss = 1460;
    o.sack_permitted = true;
    o.has_ts = true;
    o.ts_val = 123;
    o.ts_ecr = 456;
    o.has_wscale = true;
    o.wscale = 7;
    uint8_t buf[kMaxOptionBytes];
    size_t n = write_options(o, buf);
    EXPECT_EQ(n, 20u);
    EXPECT_EQ(n, options_length(o));
    TcpOptions p;
    ASSERT_TRUE(parse_options(buf, n, p));
    EXPECT_EQ(p.mss, 1460);
    EXPECT_TRUE(p.sack_permitted);
    EXPECT_EQ(p.ts_val, 123u);
    EXPECT_EQ(p.ts_ecr, 456u);
    EXPECT_EQ(p.wscale, 7);
}

}  // namespace
}  // namespace ep::tcp
