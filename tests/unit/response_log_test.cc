// The access log's ring (full: drop and count, never block; sampling) and
// the exact bytes of its lines.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "control/response_log_format.h"
#include "dataplane/response_log.h"

namespace ep {
namespace {

ResponseRecord sample_record() {
    ResponseRecord r;
    r.unix_s = 1'796'143'467;  // 2026-12-01T16:44:27Z
    r.duration_us = 12'345;
    r.bytes = 200;
    r.head_bytes = 310;
    r.client_ip = (10u << 24) | (78u << 16) | 1;
    r.client_port = 40000;
    r.status = 206;
    r.cache = CacheResult::kFill;
    r.lcore = 1;
    r.set_method("GET");
    r.set_path("/title/seg 1.m4s?q=\"x\"");
    r.set_range("bytes=0-199");
    return r;
}

TEST(ResponseLog, FullRingDropsAndCountsWithoutBlocking) {
    const uint32_t count = 16;
    void *mem = std::aligned_alloc(64, (ResponseLog::memsize(count) + 63) / 64 * 64);
    uint64_t drops = 0;
    ResponseLog log;
    ASSERT_TRUE(log.init(mem, count, 1, 3, &drops));
    for (int i = 0; i < 40; ++i) {
        ResponseRecord r = sample_record();
        r.status = static_cast<uint16_t>(200 + i);
        ASSERT_TRUE(log.wanted());
        log.push(r);
    }
    const uint32_t capacity = rte_ring_get_capacity(log.ring());
    EXPECT_EQ(drops, 40u - capacity);
    std::vector<ResponseRecord> out(64);
    ASSERT_EQ(log.drain(out.data(), 64), capacity);
    EXPECT_EQ(out[0].status, 200);  // oldest first
    EXPECT_EQ(out[0].lcore, 3);
    std::free(mem);
}

TEST(ResponseLog, SamplingKeepsOneInN) {
    const uint32_t count = 16;
    void *mem = std::aligned_alloc(64, (ResponseLog::memsize(count) + 63) / 64 * 64);
    uint64_t drops = 0;
    ResponseLog log;
    ASSERT_TRUE(log.init(mem, count, 5, 0, &drops));
    int kept = 0;
    for (int i = 0; i < 100; ++i) kept += log.wanted();
    EXPECT_EQ(kept, 20);
    std::free(mem);
}

TEST(ResponseLog, LongPathIsCutAndFlagged) {
    ResponseRecord r;
    r.set_path(std::string(500, 'a'));
    EXPECT_EQ(r.path_view().size(), kLogPathBytes);
    EXPECT_TRUE(r.flags & ResponseRecord::kPathTruncated);
    r.set_method("VERYLONGMETHOD");
    EXPECT_EQ(std::string(r.method), "VERYLONGM");
}

TEST(ResponseLogFormat, CombinedLine) {
    std::string s;
    format_access_line(sample_record(), AccessLogFormat::kCombined, &s);
    EXPECT_EQ(s,
              "10.78.0.1 - - [01/Dec/2026:16:44:27 +0000] \"GET /title/seg\\x201.m4s?q=\\x22x\\x22 "
              "HTTP/1.1\" 206 200 \"-\" \"-\" rt=0.012 cache=fill range=\"bytes=0-199\" svc=http "
              "lcore=1\n");
}

TEST(ResponseLogFormat, JsonLine) {
    std::string s;
    ResponseRecord r = sample_record();
    r.flags |= ResponseRecord::kPathTruncated;
    format_access_line(r, AccessLogFormat::kJson, &s);
    EXPECT_EQ(
        s,
        "{\"time\":\"2026-12-01T16:44:27Z\",\"client\":\"10.78.0.1\",\"client_port\":40000,"
        "\"service\":\"http\",\"method\":\"GET\",\"path\":\"/title/seg 1.m4s?q=\\u0022x\\u0022\","
        "\"protocol\":\"HTTP/1.1\",\"status\":206,\"bytes\":200,\"head_bytes\":310,"
        "\"range\":\"bytes=0-199\",\"duration_ms\":12.345,\"cache\":\"fill\",\"lcore\":1,"
        "\"path_truncated\":true}\n");
}

TEST(ResponseLogFormat, IncompleteResponseIsMarked) {
    ResponseRecord r = sample_record();
    r.flags |= ResponseRecord::kIncomplete;
    std::string c, j;
    format_access_line(r, AccessLogFormat::kCombined, &c);
    format_access_line(r, AccessLogFormat::kJson, &j);
    EXPECT_NE(c.find(" svc=http lcore=1 incomplete=1\n"), std::string::npos) << c;
    EXPECT_NE(j.find(",\"complete\":false}"), std::string::npos) << j;
}

TEST(ResponseLogFormat, SwarmAndDnsLinesNameTheirService) {
    ResponseRecord r;
    r.unix_s = 1'796'143'467;
    r.duration_us = 2'500'000;
    r.service = LogService::kSwarm;
    r.client_ip = (10u << 24) | (78u << 16) | 1;
    r.status = 200;
    r.bytes = 1'311'719;
    r.count = 81;
    r.lcore = 1;
    r.set_method("PEER");
    r.set_path("/0123456789abcdef0123456789abcdef01234567");
    r.set_detail("peer closed");  // a space is not kept: one token
    std::string s;
    format_access_line(r, AccessLogFormat::kCombined, &s);
    EXPECT_EQ(s,
              "10.78.0.1 - - [01/Dec/2026:16:44:27 +0000] \"PEER "
              "/0123456789abcdef0123456789abcdef01234567 BT/1.0\" 200 1311719 \"-\" \"-\" "
              "rt=2.500 cache=- range=\"\" svc=swarm lcore=1 count=81 detail=peer_closed\n");
    r.service = LogService::kDns;
    r.set_method("SUMMARY");
    r.set_path("/");
    r.set_detail("noerror:6,nxdomain:3");
    r.count = 9;
    r.bytes = 0;
    s.clear();
    format_access_line(r, AccessLogFormat::kJson, &s);
    EXPECT_NE(s.find("\"service\":\"dns\",\"method\":\"SUMMARY\""), std::string::npos) << s;
    EXPECT_NE(s.find("\"protocol\":\"DNS\""), std::string::npos) << s;
    EXPECT_NE(s.find(",\"count\":9,\"detail\":\"noerror:6,nxdomain:3\"}\n"), std::string::npos)
        << s;
}

}  // namespace
}  // namespace ep
