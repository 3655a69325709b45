// edgectl top: snapshots parse (ports summed) and a frame shows rates from
// two of them.
#include <gtest/gtest.h>

#include "control/top.h"

namespace ep {
namespace {

TEST(Top, SnapshotSumsKeysGivenPerPort) {
    const TopSnapshot s = parse_top_snapshot(
        "tcp connections_open 1 3\ntcp connections_open 1 4\ncache hit_ratio - 0.500000\n"
        "title my movie 1000\n");
    EXPECT_EQ(s.at("tcp connections_open 1"), 7);
    EXPECT_DOUBLE_EQ(s.at("cache hit_ratio -"), 0.5);
    EXPECT_EQ(s.at("title my movie"), 1000);  // the value is after the last space
}

TEST(Top, FrameShowsRatesOfTheInterval) {
    const TopSnapshot a = parse_top_snapshot(
        "lcore rx_packets 1 100\nlcore tx_packets 1 0\nlcore rx_bytes 1 0\nlcore tx_bytes 1 0\n"
        "lcore busy_cycles 1 0\nlcore idle_cycles 1 0\nhttp requests 1 0\nhttp connections 1 0\n"
        "http connections_open 1 0\ncache hits - 0\ntitle movie 0\n");
    const TopSnapshot b = parse_top_snapshot(
        "lcore rx_packets 1 2100\nlcore tx_packets 1 4000\nlcore rx_bytes 1 0\n"
        "lcore tx_bytes 1 250000000\nlcore busy_cycles 1 25\nlcore idle_cycles 1 75\n"
        "http requests 1 40\nhttp connections 1 10\nhttp connections_open 1 3\ncache hits - 9\n"
        "cache ram_misses - 1\ntitle movie 5000000\n");
    const std::string f = render_top(a, b, 2.0);
    EXPECT_NE(f.find("1.0 k"), std::string::npos) << f;    // rx: 2000 packets in 2 s
    EXPECT_NE(f.find("1.0 Gb"), std::string::npos) << f;  // tx: 250 MB in 2 s
    EXPECT_NE(f.find("25.0"), std::string::npos) << f;     // busy %
    EXPECT_NE(f.find("hit ratio 90.0 %"), std::string::npos) << f;
    EXPECT_NE(f.find("movie"), std::string::npos) << f;
    const std::size_t http = f.find("\nhttp ");
    ASSERT_NE(http, std::string::npos) << f;
    const std::string row = f.substr(http + 1, f.find('\n', http + 1) - http - 1);
    EXPECT_NE(row.find(" 20 "), std::string::npos) << row;  // 40 requests in 2 s
    EXPECT_NE(row.find(" 5 "), std::string::npos) << row;   // new connections per second
}

}  // namespace
}  // namespace ep
