// The HTTP tracker (BEP 3/23/7/48): the query parser field by field and
// error by error, and the bencoded replies decoded strictly (so key order
// and canonical integers are checked too) over the swarm table the UDP
// tracker shares.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dataplane/swarm/bencode.h"
#include "dataplane/swarm/http_tracker.h"
#include "dataplane/swarm/metainfo.h"

namespace ep::swarm {
namespace {

using httpt::QueryError;
constexpr int64_t kNow = 1'800'000'000;

Addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port = 40000) {
    Addr x;
    x.ip[0] = a, x.ip[1] = b, x.ip[2] = c, x.ip[3] = d;
    x.port = port;
    return x;
}

// Every byte value that matters: unreserved ASCII, '%', '&', '=', '+', NUL, 0xff.
const uint8_t kHash[20] = {'a',  '-', '%', '&', '=', '+', 0, 0xff, '~', '.',
                           0x80, 1,   2,   3,   4,   5,   6, 7,    8,   9};
const uint8_t kPeer[20] = {'-', 'q', 'B', '4', '5', '2', '0', '-', 'x', 'y',
                           'z', 0,   1,   2,   3,   4,   5,   6,   7,   8};

std::string enc(const uint8_t *b, size_t n = 20) {
    return percent_encode({reinterpret_cast<const char *>(b), n});
}

std::string query(const uint8_t ih[20], uint16_t port, uint64_t left,
                  const std::string &extra = "") {
    return "info_hash=" + enc(ih) + "&peer_id=" + enc(kPeer) + "&port=" + std::to_string(port) +
           "&uploaded=0&downloaded=0&left=" + std::to_string(left) + extra;
}

TEST(HttpTrackerQuery, ParsesEveryFieldWithBinaryInfoHash) {
    httpt::Announce a;
    const std::string q = query(kHash, 6881, 123456789012ull,
                                "&event=started&numwant=20&compact=1&key=abc&ip=10.1.2.3"
                                "&supportcrypto=1&uploaded=77");
    ASSERT_EQ(httpt::parse_announce(q, &a), QueryError::ok);
    EXPECT_EQ(std::memcmp(a.info_hash, kHash, 20), 0);
    EXPECT_EQ(std::memcmp(a.peer_id, kPeer, 20), 0);
    EXPECT_EQ(a.port, 6881);
    EXPECT_EQ(a.left, 123456789012ull);
    EXPECT_TRUE(a.has_left);
    EXPECT_EQ(a.uploaded, 77u);  // the last one given
    EXPECT_EQ(a.event, udpt::Event::kStarted);
    EXPECT_EQ(a.numwant, 20);
    EXPECT_TRUE(a.compact);
    ASSERT_TRUE(a.has_ip);
    EXPECT_EQ(a.ip.ip[0], 10);
    EXPECT_EQ(a.ip.ip[3], 3);
    // Lower-case escapes, and unreserved bytes sent as they are.
    std::string lower = "info_hash=";
    for (int i = 0; i < 20; ++i) {
        char b[4];
        std::snprintf(b, sizeof b, "%%%02x", kHash[i]);
        lower += b;
    }
    ASSERT_EQ(httpt::parse_announce(lower + "&peer_id=-AB0000-abcdefghijkl&port=1", &a),
              QueryError::ok);
    EXPECT_EQ(std::memcmp(a.info_hash, kHash, 20), 0);
    EXPECT_EQ(std::memcmp(a.peer_id, "-AB0000-abcdefghijkl", 20), 0);
    EXPECT_FALSE(a.has_left);
    EXPECT_EQ(a.numwant, -1);
    EXPECT_FALSE(a.has_ip);
}

TEST(HttpTrackerQuery, EventsNumwantAndCompact) {
    httpt::Announce a;
    const std::pair<const char *, udpt::Event> events[] = {{"started", udpt::Event::kStarted},
                                                           {"completed", udpt::Event::kCompleted},
                                                           {"stopped", udpt::Event::kStopped},
                                                           {"", udpt::Event::kNone},
                                                           {"paused", udpt::Event::kNone}};
    for (const auto &[name, ev] : events) {
        ASSERT_EQ(httpt::parse_announce(query(kHash, 1, 0, std::string("&event=") + name), &a),
                  QueryError::ok)
            << name;
        EXPECT_EQ(a.event, ev) << name;
    }
    ASSERT_EQ(httpt::parse_announce(query(kHash, 1, 0, "&numwant=-1&compact=0"), &a),
              QueryError::ok);
    EXPECT_EQ(a.numwant, -1);
    EXPECT_FALSE(a.compact);
    ASSERT_EQ(httpt::parse_announce(query(kHash, 1, 0, "&numwant=99999999999"), &a),
              QueryError::ok);
    EXPECT_EQ(a.numwant, INT32_MAX);
}

TEST(HttpTrackerQuery, EveryMalformedRequestHasItsNamedError) {
    httpt::Announce a;
    const std::string ih = "info_hash=" + enc(kHash), pid = "&peer_id=" + enc(kPeer);
    const std::pair<std::string, QueryError> cases[] = {
        {"", QueryError::missing_info_hash},
        {pid + "&port=1", QueryError::missing_info_hash},
        {ih + "&port=1", QueryError::missing_peer_id},
        {ih + pid, QueryError::missing_port},
        {"info_hash=abc" + pid + "&port=1", QueryError::bad_info_hash},
        {ih + "%00" + pid + "&port=1", QueryError::bad_info_hash},  // 21 bytes
        {ih + "&" + ih + pid + "&port=1", QueryError::repeated_info_hash},
        {"info_hash=%zz" + pid + "&port=1", QueryError::bad_escape},
        {"info_hash=%4" + pid + "&port=1", QueryError::bad_escape},
        {ih + "&peer_id=short&port=1", QueryError::bad_peer_id},
        {ih + pid + "&port=0", QueryError::bad_port},
        {ih + pid + "&port=65536", QueryError::bad_port},
        {ih + pid + "&port=12a", QueryError::bad_port},
        {ih + pid + "&port=", QueryError::bad_port},
        {ih + pid + "&port=1&left=-5", QueryError::bad_number},
        {ih + pid + "&port=1&uploaded=18446744073709551616", QueryError::bad_number},
        {ih + pid + "&port=1&numwant=x", QueryError::bad_number},
        {ih + pid + "&port=1&event=begun", QueryError::bad_event},
        {ih + pid + "&port=1&ip=" + std::string(70, '1'), QueryError::bad_value},
    };
    for (const auto &[q, want] : cases) EXPECT_EQ(httpt::parse_announce(q, &a), want) << q;
}

TEST(HttpTrackerQuery, ScrapeTakesRepeatedInfoHashesUpToTheLimit) {
    httpt::Scrape s;
    ASSERT_EQ(httpt::parse_scrape("", &s), QueryError::ok);
    EXPECT_EQ(s.count, 0u);
    uint8_t h2[20];
    std::memcpy(h2, kHash, 20);
    h2[19] = 42;
    ASSERT_EQ(httpt::parse_scrape("info_hash=" + enc(kHash) + "&x=1&info_hash=" + enc(h2), &s),
              QueryError::ok);
    ASSERT_EQ(s.count, 2u);
    EXPECT_EQ(std::memcmp(s.info_hash[1], h2, 20), 0);
    std::string many;
    for (uint32_t i = 0; i <= httpt::kMaxScrapeHashes; ++i) many += "&info_hash=" + enc(kHash);
    EXPECT_EQ(httpt::parse_scrape(many, &s), QueryError::too_many_hashes);
    EXPECT_EQ(httpt::parse_scrape("info_hash=12", &s), QueryError::bad_info_hash);
    EXPECT_EQ(httpt::query_of("/announce?a=1&b=2#frag"), "a=1&b=2");
    EXPECT_EQ(httpt::query_of("/announce"), "");
}

// ---- the tracker over the table ----

struct Fixture {
    explicit Fixture(uint32_t shards = 2, bool open = false) : table({shards, 64, 64}) {
        cfg.open = open;
        for (uint32_t s = 0; s < shards; ++s) {
            http.emplace_back(cfg, &ours, &table, s, 99 + s);
            udp.emplace_back(cfg, &ids, &ours, &table, s, 1234 + s);
        }
    }
    TrackerConfig cfg;
    udpt::ConnIds ids{1, 2};
    TorrentSet ours{1024};
    SwarmTable table;
    std::vector<HttpTracker> http;
    std::vector<Tracker> udp;
};

// A decoded reply: strict bencoding, a dict at the top.
struct Decoded {
    std::string body;
    BNode nodes[512];
    uint32_t n = 0;
    bool ok = false;
    const BNode *get(std::string_view k, uint32_t d = 0) const {
        const uint32_t i = bdict_find(nodes, d, k);
        return i ? &nodes[i] : nullptr;
    }
    uint32_t index(std::string_view k, uint32_t d = 0) const { return bdict_find(nodes, d, k); }
    std::string failure() const {
        const BNode *f = get("failure reason");
        return f ? std::string(f->s) : "";
    }
};

std::unique_ptr<Decoded> ask(HttpTracker &t, HttpTracker::Route r, const std::string &q,
                             const Addr &src, int64_t now = kNow, size_t room = 2600) {
    std::vector<char> buf(room);
    const size_t n = t.handle(r, q, src, now, buf.data(), room);
    auto d = std::make_unique<Decoded>();
    d->body.assign(buf.data(), n);
    d->ok =
        bdecode(d->body, d->nodes, 512, &d->n) == BError::kOk && d->nodes[0].type == BType::kDict;
    EXPECT_TRUE(d->ok) << d->body;
    return d;
}

std::unique_ptr<Decoded> announce(HttpTracker &t, const uint8_t ih[20], const Addr &src,
                                  uint64_t left, const std::string &extra = "",
                                  int64_t now = kNow) {
    return ask(t, HttpTracker::Route::kAnnounce, query(ih, src.port, left, extra), src, now);
}

TEST(HttpTracker, AnnounceReturnsTheOthersCompactWithCountsAndIntervals) {
    Fixture f;
    f.ours.insert(kHash);
    HttpTracker &t = f.http[0];
    const Addr a = v4(10, 0, 0, 1, 6881), b = v4(10, 0, 0, 2, 6882);
    auto r = announce(t, kHash, a, 1000, "&event=started");
    ASSERT_EQ(r->failure(), "");
    EXPECT_EQ(r->get("interval")->i, 1800);
    EXPECT_EQ(r->get("min interval")->i, 300);
    EXPECT_EQ(r->get("incomplete")->i, 1);
    EXPECT_EQ(r->get("complete")->i, 0);
    EXPECT_EQ(r->get("peers")->s.size(), 0u);  // alone: not even itself
    EXPECT_EQ(r->get("peers6"), nullptr);
    r = announce(t, kHash, b, 0);
    ASSERT_EQ(r->get("peers")->s.size(), 6u);
    const std::string_view p = r->get("peers")->s;
    EXPECT_EQ(std::memcmp(p.data(), a.ip, 4), 0);
    EXPECT_EQ((uint8_t(p[4]) << 8) | uint8_t(p[5]), 6881);
    EXPECT_EQ(r->get("complete")->i, 1);
    EXPECT_EQ(r->get("incomplete")->i, 1);
    EXPECT_EQ(t.counters().announces, 2u);
    EXPECT_EQ(t.counters().peers_added, 2u);
    EXPECT_EQ(t.counters().peers_returned, 1u);
    // A client without "left" is a leecher; compact=0 still gets compact.
    const Addr c = v4(10, 0, 0, 3, 7000);
    r = ask(t, HttpTracker::Route::kAnnounce,
            "info_hash=" + enc(kHash) + "&peer_id=" + enc(kPeer) + "&port=7000&compact=0", c);
    EXPECT_EQ(r->get("incomplete")->i, 2);
    EXPECT_EQ(r->get("peers")->s.size(), 12u);
}

TEST(HttpTracker, SharesTheSwarmWithTheUdpTrackerAcrossLcores) {
    Fixture f(3);
    f.ours.insert(kHash);
    // A announces over UDP through lcore 0, B over HTTP through lcore 1.
    const Addr a = v4(10, 0, 0, 1, 6881), b = v4(10, 0, 0, 2, 6882);
    uint8_t req[98], pid[20] = {};
    udpt::write_connect_request(req, 1);
    ASSERT_EQ(f.udp[0].handle(req, 16, 98, a, kNow), 16);
    const uint64_t cid = udpt::get64(req + 8);
    udpt::write_announce_request(req, cid, 5, kHash, pid, 100, udpt::Event::kStarted, -1, a.port);
    ASSERT_EQ(f.udp[0].handle(req, 98, 98, a, kNow), 20);
    auto r = announce(f.http[1], kHash, b, 0, "&event=started");
    ASSERT_EQ(r->get("peers")->s.size(), 6u);
    EXPECT_EQ(std::memcmp(r->get("peers")->s.data(), a.ip, 4), 0);
    EXPECT_EQ(r->get("complete")->i, 1);
    EXPECT_EQ(r->get("incomplete")->i, 1);
    // And the UDP announce on lcore 2 sees B (HTTP) and A.
    udpt::write_connect_request(req, 1);
    const Addr c = v4(10, 0, 0, 3, 6883);
    ASSERT_EQ(f.udp[2].handle(req, 16, 98, c, kNow), 16);
    udpt::write_announce_request(req, udpt::get64(req + 8), 5, kHash, pid, 100,
                                 udpt::Event::kStarted, -1, c.port);
    uint8_t big[512];
    std::memcpy(big, req, 98);
    ASSERT_EQ(f.udp[2].handle(big, 98, sizeof big, c, kNow), 20 + 2 * 6);
    std::set<uint8_t> last;
    for (int i = 0; i < 2; ++i) last.insert(big[20 + 6 * i + 3]);
    EXPECT_EQ(last, (std::set<uint8_t>{1, 2}));
}

TEST(HttpTracker, NumwantDefaultAndCapAre50RandomPeers) {
    Fixture f(1, true);
    HttpTracker &t = f.http[0];
    for (int i = 0; i < 60; ++i) announce(t, kHash, v4(10, 1, 0, static_cast<uint8_t>(i + 1)), 5);
    const Addr me = v4(10, 2, 0, 1);
    EXPECT_EQ(announce(t, kHash, me, 5)->get("peers")->s.size(), 50u * 6);
    EXPECT_EQ(announce(t, kHash, me, 5, "&numwant=1000")->get("peers")->s.size(), 50u * 6);
    EXPECT_EQ(announce(t, kHash, me, 5, "&numwant=3")->get("peers")->s.size(), 3u * 6);
    EXPECT_EQ(announce(t, kHash, me, 5, "&numwant=0")->get("peers")->s.size(), 0u);
    std::set<uint8_t> seen;
    for (int k = 0; k < 10; ++k) {
        const auto r = announce(t, kHash, me, 5);
        for (int i = 0; i < 50; ++i)
            seen.insert(static_cast<uint8_t>(r->get("peers")->s[6 * i + 3]));
    }
    EXPECT_GT(seen.size(), 50u);  // random subsets, not always the same 50
    EXPECT_EQ(announce(t, kHash, me, 5)->get("incomplete")->i, 61);
}

TEST(HttpTracker, EventsStoppedCompletedAndExpiry) {
    Fixture f(1, true);
    HttpTracker &t = f.http[0];
    const Addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
    announce(t, kHash, a, 100, "&event=started");
    announce(t, kHash, b, 100, "&event=started");
    announce(t, kHash, a, 0, "&event=completed");
    SwarmCounts c = f.table.counts(kHash);
    EXPECT_EQ(c.seeders, 1u);
    EXPECT_EQ(c.leechers, 1u);
    EXPECT_EQ(c.completed, 1u);
    EXPECT_EQ(t.counters().completed_events, 1u);
    auto r = announce(t, kHash, a, 0, "&event=stopped");
    EXPECT_EQ(r->get("peers")->s.size(), 0u);  // a leaving wants nobody
    EXPECT_EQ(t.counters().peers_removed, 1u);
    EXPECT_EQ(announce(t, kHash, b, 100, "", kNow + 100)->get("peers")->s.size(), 0u);
    // a again, then silent: past its TTL b (which announced later) no
    // longer gets it, and b's announce frees its slot on the way.
    announce(t, kHash, a, 100);
    const int64_t later = kNow + peer_ttl(f.cfg) + 1;
    r = announce(t, kHash, b, 100, "", later);
    EXPECT_EQ(r->get("peers")->s.size(), 0u);
    EXPECT_EQ(r->get("incomplete")->i, 1);
    EXPECT_EQ(t.counters().peers_expired, 1u);
}

TEST(HttpTracker, FailureReasonsForMalformedAndUnknownAreCounted) {
    Fixture f;
    HttpTracker &t = f.http[0];
    const Addr a = v4(10, 0, 0, 1);
    // Closed mode: not one of our torrents.
    EXPECT_EQ(announce(t, kHash, a, 1)->failure(), "unknown torrent");
    EXPECT_EQ(t.counters().unknown_torrent, 1u);
    EXPECT_EQ(f.table.counts(kHash).leechers, 0u);  // and not added
    f.ours.insert(kHash);
    EXPECT_EQ(announce(t, kHash, a, 1)->failure(), "");
    const auto ann = HttpTracker::Route::kAnnounce;
    EXPECT_EQ(ask(t, ann, "port=1", a)->failure(), "announce without info_hash");
    EXPECT_EQ(ask(t, ann, "info_hash=%GG", a)->failure(), "a '%' not followed by two hex digits");
    EXPECT_EQ(ask(t, ann, query(kHash, 1, 0, "&event=x"), a)->failure(),
              "event not started, completed, stopped, paused or empty");
    EXPECT_EQ(t.counters().missing_info_hash, 1u);
    EXPECT_EQ(t.counters().bad_escape, 1u);
    EXPECT_EQ(t.counters().bad_event, 1u);
    EXPECT_EQ(t.counters().failures_sent, 4u);
    EXPECT_EQ(t.counters().announces, 1u);
    // Open mode tracks anything.
    Fixture open(1, true);
    EXPECT_EQ(announce(open.http[0], kHash, a, 1)->failure(), "");
    // A buffer too small for anything but a failure.
    EXPECT_EQ(t.handle(ann, query(kHash, 1, 0), a, kNow, nullptr, 10), 0u);
}

TEST(HttpTracker, Peers6CarriesIpv6PeersInBep7Entries) {
    Fixture f(1, true);
    Addr six;
    six.family = 6;
    for (int i = 0; i < 16; ++i) six.ip[i] = static_cast<uint8_t>(0x20 + i);
    six.port = 5555;
    ASSERT_EQ(f.table.upsert(0, kHash, six, true, false, false, kNow + 100, kNow),
              SwarmTable::Upsert::kAdded);
    announce(f.http[0], kHash, v4(10, 0, 0, 1), 5);
    const auto r = announce(f.http[0], kHash, v4(10, 0, 0, 2), 5);
    ASSERT_NE(r->get("peers6"), nullptr);
    const std::string_view p6 = r->get("peers6")->s;
    ASSERT_EQ(p6.size(), 18u);
    EXPECT_EQ(std::memcmp(p6.data(), six.ip, 16), 0);
    EXPECT_EQ((uint8_t(p6[16]) << 8) | uint8_t(p6[17]), 5555);
    EXPECT_EQ(r->get("peers")->s.size(), 6u);
    EXPECT_EQ(f.http[0].counters().peers6_returned, 2u);  // both announces got it
    // An IPv6 client gets its own family in peers6 first, IPv4 in peers.
    Addr me6 = six;
    me6.ip[15] = 0x99;
    const auto r6 = ask(f.http[0], HttpTracker::Route::kAnnounce, query(kHash, 1, 5), me6);
    EXPECT_EQ(r6->get("peers6")->s.size(), 18u);
    EXPECT_EQ(r6->get("peers")->s.size(), 12u);
}

TEST(HttpTracker, ScrapeCountsSortedFilesAndRefusals) {
    Fixture f;
    uint8_t h2[20];
    std::memcpy(h2, kHash, 20);
    h2[0] = 0;  // sorts before kHash
    f.ours.insert(kHash);
    f.ours.insert(h2);
    HttpTracker &t = f.http[0];
    announce(t, kHash, v4(10, 0, 0, 1), 0, "&event=completed");
    announce(f.http[1], kHash, v4(10, 0, 0, 2), 7, "&event=started");
    const auto scr = HttpTracker::Route::kScrape;
    uint8_t unknown[20] = {9};
    auto r = ask(t, scr,
                 "info_hash=" + enc(kHash) + "&info_hash=" + enc(unknown) +
                     "&info_hash=" + enc(h2) + "&info_hash=" + enc(kHash),
                 v4(10, 0, 0, 5));
    ASSERT_TRUE(r->ok);  // strict decode: the files keys came out sorted and unique
    const uint32_t files = r->index("files");
    ASSERT_NE(files, 0u);
    EXPECT_EQ(r->nodes[files].count, 2u);  // the unknown one left out
    const uint32_t e = bdict_find(r->nodes, files, {reinterpret_cast<const char *>(kHash), 20});
    ASSERT_NE(e, 0u);
    EXPECT_EQ(r->get("complete", e)->i, 1);
    EXPECT_EQ(r->get("incomplete", e)->i, 1);
    EXPECT_EQ(r->get("downloaded", e)->i, 1);
    const uint32_t e2 = bdict_find(r->nodes, files, {reinterpret_cast<const char *>(h2), 20});
    ASSERT_NE(e2, 0u);
    EXPECT_EQ(r->get("complete", e2)->i, 0);
    EXPECT_EQ(t.counters().scrapes, 1u);
    EXPECT_EQ(t.counters().unknown_torrent, 1u);
    EXPECT_EQ(ask(t, scr, "info_hash=" + enc(unknown), v4(10, 0, 0, 5))->failure(),
              "unknown torrent");
    EXPECT_EQ(ask(t, scr, "", v4(10, 0, 0, 5))->failure(), "full scrape not supported");
    EXPECT_EQ(t.counters().full_scrape, 1u);
    // The most a scrape may name fits the reply buffer the HTTP glue gives.
    Fixture open(1, true);
    std::string many;
    for (uint32_t i = 0; i < httpt::kMaxScrapeHashes; ++i) {
        uint8_t h[20] = {};
        h[0] = static_cast<uint8_t>(i);
        many += "&info_hash=" + enc(h);
    }
    r = ask(open.http[0], scr, many, v4(10, 0, 0, 5), kNow, 2048);
    EXPECT_EQ(r->nodes[r->index("files")].count, httpt::kMaxScrapeHashes);
}

TEST(BBufWriter, StopsAtTheEndAndSaysSo) {
    char buf[10];
    BBufWriter w(buf, sizeof buf);
    w.begin_dict();
    w.key("ab"), w.integer(-12);
    EXPECT_FALSE(w.overflow());
    EXPECT_EQ(std::string(buf, w.size()), "d2:abi-12e");
    w.end();
    EXPECT_TRUE(w.overflow());
    EXPECT_EQ(w.size(), 10u);
    BBufWriter w3(buf, sizeof buf);
    EXPECT_EQ(w3.str_space(9), nullptr);  // "9:" + 9 bytes > 10
    std::string s;
    BWriter bw(&s);
    bw.integer(-12);
    char b2[16];
    BBufWriter w2(b2, sizeof b2);
    w2.integer(-12);
    EXPECT_EQ(std::string(b2, w2.size()), s);
}

}  // namespace
}  // namespace ep::swarm
