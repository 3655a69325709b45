// Tracker client: announce requests and reply parsers
// (dataplane/swarm/tracker_client.h; BEP 3, 23, 15).
#include "dataplane/swarm/tracker_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "dataplane/swarm/http_tracker_query.h"

namespace ep::swarm {
namespace {

AnnounceParams params() {
    AnnounceParams p;
    for (int i = 0; i < 20; ++i) {
        p.info_hash[i] = static_cast<uint8_t>(i == 3 ? '&' : i * 11);  // binary, with a '&'
        p.peer_id[i] = static_cast<uint8_t>('A' + i);
    }
    p.port = 6881;
    p.left = 1000;
    p.event = AnnounceEvent::kStarted;
    return p;
}

TEST(TrackerClient, Urls) {
    TrackerUrl u;
    ASSERT_EQ(parse_tracker_url("http://10.1.2.3:8080/announce?passkey=x", &u), UrlError::ok);
    EXPECT_FALSE(u.udp);
    EXPECT_EQ(u.ip_be, inet_addr("10.1.2.3"));
    EXPECT_EQ(u.port, 8080);
    EXPECT_EQ(u.path, "/announce?passkey=x");
    ASSERT_EQ(parse_tracker_url("http://10.1.2.3/announce", &u), UrlError::ok);
    EXPECT_EQ(u.port, 80);
    ASSERT_EQ(parse_tracker_url("udp://10.1.2.3:6969", &u), UrlError::ok);
    EXPECT_TRUE(u.udp);
    EXPECT_EQ(u.path, "/");
    EXPECT_EQ(parse_tracker_url("https://10.1.2.3/announce", &u), UrlError::url_scheme);
    EXPECT_EQ(parse_tracker_url("http://tracker.example.org/announce", &u), UrlError::url_host);
    EXPECT_EQ(parse_tracker_url("udp://10.1.2.3/announce", &u), UrlError::url_port);
    EXPECT_EQ(parse_tracker_url("http://10.1.2.3:99999/announce", &u), UrlError::url_port);
}

// Our request must be what our own HTTP tracker's query parser accepts,
// with the binary info hash percent-encoded back to its 20 bytes.
TEST(TrackerClient, HttpAnnounceIsWhatATrackerParses) {
    TrackerUrl u;
    ASSERT_EQ(parse_tracker_url("http://10.1.2.3:8080/announce", &u), UrlError::ok);
    const AnnounceParams p = params();
    char buf[1024];
    const size_t n = build_http_announce(buf, sizeof buf, u, p);
    ASSERT_GT(n, 0u);
    const std::string req(buf, n);
    ASSERT_EQ(req.rfind("GET /announce?info_hash=", 0), 0u) << req;
    EXPECT_NE(req.find(" HTTP/1.0\r\nHost: 10.1.2.3:8080\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("&event=started"), std::string::npos);
    EXPECT_NE(req.find("&compact=1"), std::string::npos);
    EXPECT_EQ(req.substr(req.size() - 4), "\r\n\r\n");
    const size_t q = req.find('?') + 1;
    const std::string query = req.substr(q, req.find(' ', q) - q);
    httpt::Announce a;
    ASSERT_EQ(httpt::parse_announce(query, &a), httpt::QueryError::ok) << query;
    EXPECT_EQ(std::memcmp(a.info_hash, p.info_hash, 20), 0);
    EXPECT_EQ(std::memcmp(a.peer_id, p.peer_id, 20), 0);
    EXPECT_EQ(a.port, 6881);
    EXPECT_EQ(a.left, 1000u);
    // Too small a buffer: 0, never a cut request.
    EXPECT_EQ(build_http_announce(buf, 40, u, p), 0u);
}

std::string http(const std::string &body, const std::string &extra = "") {
    return "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

ReplyError parse(const std::string &s, bool eof, AnnounceReply *r) {
    return parse_http_announce_reply(reinterpret_cast<const uint8_t *>(s.data()), s.size(), eof, r);
}

TEST(TrackerClient, CompactReply) {
    const std::string peers("\x0a\x00\x00\x02\x1a\xe1\x0a\x00\x00\x03\x1a\xe2", 12);
    const std::string body =
        "d8:completei1e10:incompletei0e8:intervali1800e12:min intervali60e5:peers12:" + peers + "e";
    AnnounceReply r;
    ASSERT_EQ(parse(http(body), false, &r), ReplyError::ok);
    EXPECT_EQ(r.interval, 1800u);
    EXPECT_EQ(r.min_interval, 60u);
    ASSERT_EQ(r.npeers, 2u);
    EXPECT_EQ(r.peers[0].ip_be, inet_addr("10.0.0.2"));
    EXPECT_EQ(r.peers[0].port, 6881);
    EXPECT_EQ(r.peers[1].port, 6882);
    // Byte by byte: need_more until the Content-Length is in.
    const std::string all = http(body);
    for (size_t k = 0; k < all.size(); ++k)
        ASSERT_EQ(parse(all.substr(0, k), false, &r), ReplyError::need_more) << k;
    // Cut by the end of the connection: incomplete.
    EXPECT_EQ(parse(all.substr(0, all.size() - 1), true, &r), ReplyError::reply_incomplete);
}

TEST(TrackerClient, DictPeersAndNoLength) {
    const std::string body =
        "d8:intervali900e5:peersld2:ip8:10.0.0.77:peer "
        "id20:AAAAAAAAAAAAAAAAAAAA4:porti7000eed2:ip3:::14:porti1eeee";
    const std::string resp = "HTTP/1.1 200 OK\r\n\r\n" + body;  // no Content-Length: body to EOF
    AnnounceReply r;
    EXPECT_EQ(parse(resp, false, &r), ReplyError::need_more);
    ASSERT_EQ(parse(resp, true, &r), ReplyError::ok);
    ASSERT_EQ(r.npeers, 1u);
    EXPECT_EQ(r.peers[0].ip_be, inet_addr("10.0.0.7"));
    EXPECT_EQ(r.peers[0].port, 7000);
    EXPECT_EQ(r.peers_ignored, 1u);  // IPv6
}

TEST(TrackerClient, BadReplies) {
    AnnounceReply r;
    EXPECT_EQ(parse(http("d14:failure reason12:unregisterede"), false, &r),
              ReplyError::reply_failure);
    EXPECT_STREQ(r.failure, "unregistered");
    EXPECT_EQ(parse("HTTP/1.0 404 Not Found\r\n\r\n", true, &r), ReplyError::reply_status);
    EXPECT_EQ(parse("SMTP 200\r\n\r\n", true, &r), ReplyError::reply_head);
    EXPECT_EQ(parse(http("d8:intervali0ee"), false, &r), ReplyError::reply_no_interval);
    EXPECT_EQ(parse(http("d5:peers1:x8:intervali5ee"), false, &r),
              ReplyError::reply_bencode);  // unsorted
    EXPECT_EQ(parse(http("d8:intervali5e5:peers5:abcdee"), false, &r), ReplyError::reply_peers);
    EXPECT_EQ(parse(http("le"), false, &r), ReplyError::reply_bencode);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n", false, &r),
              ReplyError::reply_head);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", false, &r),
              ReplyError::reply_head);
    // No peers key: a valid, empty answer.
    ASSERT_EQ(parse(http("d8:intervali5ee"), false, &r), ReplyError::ok);
    EXPECT_EQ(r.npeers, 0u);
}

TEST(TrackerClient, UdpConnectAndAnnounce) {
    uint8_t b[kUdpAnnounceLen];
    ASSERT_EQ(build_udp_connect(b, 0x11223344), kUdpConnectLen);
    EXPECT_EQ(b[7], 0x80);  // the protocol id's last byte (0x41727101980)
    EXPECT_EQ(b[15], 0x44);
    const uint8_t rep[16] = {0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t cid = 0;
    AnnounceReply r;
    ASSERT_EQ(parse_udp_connect_reply(rep, 16, 0x11223344, &cid, &r), ReplyError::ok);
    EXPECT_EQ(cid, 0x0102030405060708ull);
    EXPECT_EQ(parse_udp_connect_reply(rep, 16, 0x11223345, &cid, &r), ReplyError::reply_udp_txid);
    EXPECT_EQ(parse_udp_connect_reply(rep, 12, 0x11223344, &cid, &r), ReplyError::reply_udp_short);

    const AnnounceParams p = params();
    ASSERT_EQ(build_udp_announce(b, cid, 7, p), kUdpAnnounceLen);
    EXPECT_EQ(b[11], 1);  // action announce
    EXPECT_EQ(b[83], 2);  // event started (BEP 15 numbering)
    EXPECT_EQ(b[96] << 8 | b[97], 6881);
    const uint8_t ann[26] = {0, 0, 0, 1, 0, 0, 0, 7,  0, 0, 0, 60,   0,
                             0, 0, 1, 0, 0, 0, 1, 10, 0, 0, 9, 0x1a, 0xe1};
    ASSERT_EQ(parse_udp_announce_reply(ann, 26, 7, &r), ReplyError::ok);
    EXPECT_EQ(r.interval, 60u);
    ASSERT_EQ(r.npeers, 1u);
    EXPECT_EQ(r.peers[0].ip_be, inet_addr("10.0.0.9"));
    const uint8_t err[13] = {0, 0, 0, 3, 0, 0, 0, 7, 'n', 'o', 'p', 'e', '!'};
    ASSERT_EQ(parse_udp_announce_reply(err, 13, 7, &r), ReplyError::reply_failure);
    EXPECT_STREQ(r.failure, "nope!");
    EXPECT_EQ(parse_udp_announce_reply(ann, 25, 7, &r), ReplyError::reply_peers);
}

}  // namespace
}  // namespace ep::swarm
