// The UDP tracker (BEP 15) driven as a client would: connect, announce,
// scrape, errors; connection IDs that cannot be forged; the swarm table
// shared by several lcores' trackers (each the writer of its own shard).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "dataplane/swarm/tracker.h"

namespace ep::swarm {
namespace {

using namespace udpt;

constexpr int64_t kNow = 1'800'000'000;

Addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port = 40000) {
    Addr x;
    x.ip[0] = a, x.ip[1] = b, x.ip[2] = c, x.ip[3] = d;
    x.port = port;
    return x;
}

struct Fixture {
    explicit Fixture(uint32_t shards = 2, bool open = false) : table({shards, 64, 64}) {
        cfg.open = open;
        for (uint32_t s = 0; s < shards; ++s)
            trackers.emplace_back(cfg, &ids, &ours, &table, s, 1234 + s);
    }
    TrackerConfig cfg;
    ConnIds ids{0x0123456789abcdefull, 0xfedcba9876543210ull};
    TorrentSet ours{1024};
    SwarmTable table;
    std::vector<Tracker> trackers;
};

// The answer is built in the request's buffer, at most a 1500-byte
// datagram; a test request may be longer (an oversized scrape: 16 + 75 * 20
// bytes), so the buffer holds it (the sanitizer pass found the overflow
// when it was 1500 bytes).
constexpr size_t kReplyCap = 1500;
struct Reply {
    int len = -1;
    uint8_t buf[2048] = {};
};

Reply send(Tracker &t, const uint8_t *req, size_t n, const Addr &src, int64_t now = kNow) {
    Reply r;
    EXPECT_LE(n, sizeof r.buf);
    n = std::min(n, sizeof r.buf);
    std::memcpy(r.buf, req, n);
    r.len = t.handle(r.buf, n, std::max(n, kReplyCap), src, now);
    return r;
}

uint64_t connect(Tracker &t, const Addr &src, int64_t now = kNow) {
    uint8_t req[16];
    write_connect_request(req, 0xCAFE);
    const Reply r = send(t, req, sizeof req, src, now);
    EXPECT_EQ(r.len, 16);
    EXPECT_EQ(get32(r.buf), kActionConnect);
    EXPECT_EQ(get32(r.buf + 4), 0xCAFEu);
    return get64(r.buf + 8);
}

Reply announce(Tracker &t, uint64_t cid, const uint8_t ih[20], const Addr &src, uint64_t left,
               Event ev = Event::kStarted, int32_t want = -1, int64_t now = kNow) {
    uint8_t req[98], pid[20] = {};
    write_announce_request(req, cid, 77, ih, pid, left, ev, want, src.port);
    return send(t, req, sizeof req, src, now);
}

uint8_t kHash[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

TEST(UdpTracker, ConnectAnnounceAndAPeerListOfTheOthers) {
    Fixture f;
    f.ours.insert(kHash);
    Tracker &t = f.trackers[0];
    const Addr a = v4(10, 0, 0, 1, 6881), b = v4(10, 0, 0, 2, 6882);
    Reply r = announce(t, connect(t, a), kHash, a, 1000);
    ASSERT_EQ(r.len, 20);  // alone in the swarm: no peers, not even itself
    EXPECT_EQ(get32(r.buf), kActionAnnounce);
    EXPECT_EQ(get32(r.buf + 4), 77u);
    EXPECT_EQ(get32(r.buf + 8), f.cfg.interval_s);
    EXPECT_EQ(get32(r.buf + 12), 1u);  // leechers
    EXPECT_EQ(get32(r.buf + 16), 0u);  // seeders
    r = announce(t, connect(t, b), kHash, b, 0);
    ASSERT_EQ(r.len, 26);
    EXPECT_EQ(get32(r.buf + 12), 1u);
    EXPECT_EQ(get32(r.buf + 16), 1u);
    EXPECT_EQ(std::memcmp(r.buf + 20, a.ip, 4), 0);
    EXPECT_EQ(r.buf[24] << 8 | r.buf[25], 6881);
    EXPECT_EQ(t.counters().connects, 2u);
    EXPECT_EQ(t.counters().announces, 2u);
    EXPECT_EQ(t.counters().peers_added, 2u);
}

TEST(UdpTracker, ConnectionIdsCannotBeForgedAndExpire) {
    Fixture f;
    f.ours.insert(kHash);
    Tracker &t = f.trackers[0];
    const Addr a = v4(10, 0, 0, 1), other = v4(10, 0, 0, 9);
    const uint64_t cid = connect(t, a);
    // Another address cannot use it (the ID is keyed to the source address).
    EXPECT_EQ(announce(t, cid, kHash, other, 1).len, -1);
    EXPECT_EQ(t.counters().bad_connection_id, 1u);
    // A guessed or altered ID is refused.
    EXPECT_EQ(announce(t, cid ^ 1, kHash, a, 1).len, -1);
    EXPECT_EQ(announce(t, 0, kHash, a, 1).len, -1);
    EXPECT_EQ(announce(t, kProtocolId, kHash, a, 1).len, -1);
    // A different secret gives different IDs: no state, only the key.
    ConnIds other_key(1, 2);
    EXPECT_NE(other_key.issue(a, kNow), cid);
    EXPECT_TRUE(f.ids.valid(cid, a, kNow));
    // Valid for at least two minutes (BEP 15), gone after three epochs.
    EXPECT_GT(announce(t, cid, kHash, a, 1, Event::kNone, -1, kNow + 119).len, 0);
    EXPECT_EQ(announce(t, cid, kHash, a, 1, Event::kNone, -1, kNow + 181).len, -1);
    // The source port does not matter (NAT may change it between requests).
    Addr a2 = a;
    a2.port = 1;
    EXPECT_TRUE(f.ids.valid(cid, a2, kNow));
    EXPECT_EQ(t.counters().bad_connection_id, 5u);
}

TEST(UdpTracker, ClosedModeAnswersUnknownTorrentsWithAnError) {
    Fixture f;
    Tracker &t = f.trackers[0];
    const Addr a = v4(10, 0, 0, 1);
    const Reply r = announce(t, connect(t, a), kHash, a, 1);
    ASSERT_GT(r.len, 8);
    EXPECT_EQ(get32(r.buf), kActionError);
    EXPECT_EQ(get32(r.buf + 4), 77u);
    EXPECT_EQ(std::string(reinterpret_cast<const char *>(r.buf + 8), r.len - 8), "unknown torrent");
    EXPECT_EQ(t.counters().unknown_torrent, 1u);
    Fixture open(1, true);
    EXPECT_EQ(announce(open.trackers[0], connect(open.trackers[0], a), kHash, a, 1).len, 20);
}

TEST(UdpTracker, NumwantDefaultAndCapAre50RandomPeers) {
    Fixture f(1, true);
    Tracker &t = f.trackers[0];
    for (int i = 0; i < 60; ++i) {
        const Addr p = v4(10, 1, 0, static_cast<uint8_t>(i + 1));
        ASSERT_GT(announce(t, connect(t, p), kHash, p, 5).len, 0);
    }
    const Addr me = v4(10, 2, 0, 1);
    const uint64_t cid = connect(t, me);
    Reply r = announce(t, cid, kHash, me, 5, Event::kNone, -1);
    EXPECT_EQ(r.len, 20 + 50 * 6);
    r = announce(t, cid, kHash, me, 5, Event::kNone, 1000);
    EXPECT_EQ(r.len, 20 + 50 * 6);
    r = announce(t, cid, kHash, me, 5, Event::kNone, 3);
    EXPECT_EQ(r.len, 20 + 3 * 6);
    EXPECT_EQ(get32(r.buf + 12), 61u);
    // Random: two replies of 50 out of 60 differ in who is in them.
    std::set<uint8_t> seen;
    for (int k = 0; k < 10; ++k) {
        r = announce(t, cid, kHash, me, 5, Event::kNone, 50);
        for (int i = 0; i < 50; ++i) seen.insert(r.buf[20 + 6 * i + 3]);
    }
    EXPECT_GT(seen.size(), 50u);
}

TEST(UdpTracker, EventsStoppedCompletedAndExpiry) {
    Fixture f(1, true);
    Tracker &t = f.trackers[0];
    const Addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
    const uint64_t ca = connect(t, a), cb = connect(t, b);
    announce(t, ca, kHash, a, 100);
    announce(t, cb, kHash, b, 100, Event::kStarted, -1, kNow + 100);
    announce(t, ca, kHash, a, 0, Event::kCompleted);
    SwarmCounts c = f.table.counts(kHash);
    EXPECT_EQ(c.seeders, 1u);
    EXPECT_EQ(c.leechers, 1u);
    EXPECT_EQ(c.completed, 1u);
    // a stops: gone from b's reply and the counts.
    announce(t, ca, kHash, a, 0, Event::kStopped);
    EXPECT_EQ(t.counters().peers_removed, 1u);
    Reply r = announce(t, cb, kHash, b, 100, Event::kNone, -1, kNow + 100);
    EXPECT_EQ(r.len, 20);
    // a comes back, then stops announcing: after its TTL b no longer gets it,
    // even before the sweep (the announce that meets it frees it).
    announce(t, ca, kHash, a, 100);
    const int64_t later = kNow + t.ttl() + 1;
    const uint64_t cb2 = connect(t, b, later);
    r = announce(t, cb2, kHash, b, 100, Event::kNone, -1, later);
    EXPECT_EQ(r.len, 20);
    EXPECT_EQ(t.counters().peers_expired, 1u);  // freed on the way by b's announce
    // A peer that went silent with nobody announcing is freed by the sweep.
    const Addr c3 = v4(10, 0, 0, 3);
    announce(t, connect(t, c3, later), kHash, c3, 100, Event::kStarted, -1, later);
    const int64_t much_later = later + t.ttl() + 1;
    t.sweep(much_later, 1'000'000);
    EXPECT_EQ(t.counters().peers_expired, 3u);  // b and c3
    c = f.table.counts(kHash);
    EXPECT_EQ(c.leechers + c.seeders, 0u);
}

TEST(UdpTracker, ScrapeCountsAndUnknownHashes) {
    Fixture f;
    f.ours.insert(kHash);
    Tracker &t = f.trackers[0];
    const Addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
    announce(t, connect(t, a), kHash, a, 0);
    announce(f.trackers[1], connect(f.trackers[1], b), kHash, b, 7);  // another lcore
    uint8_t hashes[40];
    std::memcpy(hashes, kHash, 20);
    std::memset(hashes + 20, 0x77, 20);  // not ours
    uint8_t req[16 + 40];
    const size_t n = write_scrape_request(req, connect(t, a), 5, hashes, 2);
    const Reply r = send(t, req, n, a);
    ASSERT_EQ(r.len, 8 + 24);
    EXPECT_EQ(get32(r.buf), kActionScrape);
    EXPECT_EQ(get32(r.buf + 4), 5u);
    EXPECT_EQ(get32(r.buf + 8), 1u);   // seeders (both shards)
    EXPECT_EQ(get32(r.buf + 12), 0u);  // completed
    EXPECT_EQ(get32(r.buf + 16), 1u);  // leechers
    EXPECT_EQ(get32(r.buf + 20), 0u);
    EXPECT_EQ(t.counters().unknown_torrent, 1u);
    // 0 hashes, a partial hash, 75 hashes: refused.
    uint8_t big[16 + 75 * 20] = {};
    const uint64_t cid = connect(t, a);
    for (size_t len : {size_t{16}, size_t{16 + 19}, sizeof big}) {
        write_scrape_request(big, cid, 5, big + 16, 0);
        EXPECT_EQ(send(t, big, len, a).len, -1);
    }
    EXPECT_EQ(t.counters().bad_scrape_length, 3u);
}

TEST(UdpTracker, MalformedRequestsAreCountedByName) {
    Fixture f;
    Tracker &t = f.trackers[0];
    const Addr a = v4(10, 0, 0, 1);
    uint8_t req[98] = {};
    EXPECT_EQ(send(t, req, 15, a).len, -1);  // short
    write_connect_request(req, 1);
    req[0] ^= 1;
    EXPECT_EQ(send(t, req, 16, a).len, -1);  // protocol id
    write_connect_request(req, 1);
    put32(req + 8, 9);
    EXPECT_EQ(send(t, req, 16, a).len, -1);  // action
    const uint64_t cid = connect(t, a);
    uint8_t pid[20] = {};
    write_announce_request(req, cid, 1, kHash, pid, 0, Event::kNone, -1, 1);
    EXPECT_EQ(send(t, req, 97, a).len, -1);  // short announce
    put32(req + 80, 4);
    EXPECT_EQ(send(t, req, 98, a).len, -1);  // event
    const TrackerCounters &c = t.counters();
    EXPECT_EQ(c.short_packet, 2u);
    EXPECT_EQ(c.bad_protocol_id, 1u);
    EXPECT_EQ(c.bad_action, 1u);
    EXPECT_EQ(c.bad_event, 1u);
}

TEST(UdpTracker, Ipv6PeersGet18ByteEntriesOfTheirFamilyOnly) {
    // BEP 7 / BEP 15: over IPv6 the reply lists IPv6 peers, 16 + 2 bytes each.
    Fixture f(1, true);
    Tracker &t = f.trackers[0];
    Addr a6, b6;
    a6.family = b6.family = 6;
    a6.ip[0] = b6.ip[0] = 0x20, a6.ip[1] = b6.ip[1] = 0x01;
    a6.ip[15] = 1, b6.ip[15] = 2;
    a6.port = 6881, b6.port = 6882;
    const Addr v = v4(10, 0, 0, 1);
    announce(t, connect(t, v), kHash, v, 1);
    announce(t, connect(t, a6), kHash, a6, 1);
    const Reply r = announce(t, connect(t, b6), kHash, b6, 1);
    ASSERT_EQ(r.len, 20 + 18);
    EXPECT_EQ(std::memcmp(r.buf + 20, a6.ip, 16), 0);
    EXPECT_EQ(r.buf[36] << 8 | r.buf[37], 6881);
    // An ID issued to the IPv4 address with the same leading bytes is not
    // valid for an IPv6 one: the family is part of what is keyed.
    Addr v6same;
    v6same.family = 6;
    std::memcpy(v6same.ip, v.ip, 4);
    EXPECT_FALSE(f.ids.valid(f.ids.issue(v, kNow), v6same, kNow));
}

TEST(UdpTracker, AnnounceOnOneLcoreSeesPeersOfAnother) {
    Fixture f(4, true);
    for (uint32_t s = 0; s < 4; ++s) {
        const Addr p = v4(10, 0, 1, static_cast<uint8_t>(s + 1));
        announce(f.trackers[s], connect(f.trackers[s], p), kHash, p, 1);
    }
    const Addr me = v4(10, 0, 2, 1);
    const Reply r = announce(f.trackers[2], connect(f.trackers[2], me), kHash, me, 1);
    ASSERT_EQ(r.len, 20 + 4 * 6);  // the four peers of the four shards (not me)
    EXPECT_EQ(get32(r.buf + 12), 5u);
}

// One writer per shard, readers on other threads: every peer a reader copies
// out is one that was written whole (port = f(address)), never a torn mix.
TEST(UdpTracker, ConcurrentWritersAndReadersNeverSeeTornPeers) {
    SwarmTable table({2, 16, 64});
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> bad{0}, seen{0};
    auto writer = [&](uint32_t shard) {
        for (uint32_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
            const uint8_t k = static_cast<uint8_t>(i % 200);
            Addr a =
                v4(10, static_cast<uint8_t>(shard), k, k, static_cast<uint16_t>(k * 257 + shard));
            table.upsert(shard, kHash, a, i & 1, (i / 200) % 3 == 2, false,
                         static_cast<uint32_t>(kNow + 100), static_cast<uint32_t>(kNow));
        }
    };
    std::thread w0(writer, 0), w1(writer, 1);
    std::thread r([&] {
        uint64_t rng = 1;
        PeerView out[64];
        // Until enough peers were read mid-write to judge (the writers may not
        // have run yet when the reader starts); 10 s at most, then the
        // count below fails honestly.
        const auto hard_end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (seen.load() < 200000 && std::chrono::steady_clock::now() < hard_end) {
            const uint32_t n =
                table.pick(kHash, 4, Addr{}, static_cast<uint32_t>(kNow), out, 64, &rng);
            for (uint32_t i = 0; i < n; ++i) {
                const Addr &a = out[i].addr;
                seen.fetch_add(1);
                if (a.ip[2] != a.ip[3] || a.port != a.ip[2] * 257 + a.ip[1] || a.ip[0] != 10)
                    bad.fetch_add(1);
            }
        }
        stop = true;
    });
    r.join(), w0.join(), w1.join();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GE(seen.load(), 200000u);
}

}  // namespace
}  // namespace ep::swarm
