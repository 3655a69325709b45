#include "dataplane/swarm/http_tracker.h"

#include <cstring>

#include "dataplane/swarm/bencode.h"

namespace ep::swarm {

HttpTracker::Route HttpTracker::route(std::string_view path) {
    if (path == "/announce") return Route::kAnnounce;
    if (path == "/scrape") return Route::kScrape;
    return Route::kNone;
}

size_t HttpTracker::handle(Route r, std::string_view query, const Addr &src, int64_t now, char *out,
                           size_t room) {
    if (room < kMinRoom) return 0;
    switch (r) {
        case Route::kAnnounce:
            return announce(query, src, static_cast<uint32_t>(now), out, room);
        case Route::kScrape:
            return scrape(query, out, room);
        case Route::kNone:
            break;
    }
    return failure("not a tracker path", out, room);
}

// BEP 3: "If the response has a failure reason key, then that maps to a
// human readable string which explains why the query failed, and no other
// keys are required." kMinRoom holds the longest of ours.
size_t HttpTracker::failure(const char *why, char *out, size_t room) {
    ++c_.failures_sent;
    BBufWriter w(out, room);
    w.begin_dict();
    w.key("failure reason"), w.str(why);
    w.end();
    return w.size();
}

// A malformed query: counted by its reason, answered with its help text.
size_t HttpTracker::refuse(httpt::QueryError e, char *out, size_t room) {
    switch (e) {
#define EP_X(n, h)             \
    case httpt::QueryError::n: \
        ++c_.n;                \
        return failure(h, out, room);
        EP_HTTPT_QUERY_ERRORS(EP_X)
#undef EP_X
        case httpt::QueryError::ok:
            break;
    }
    return failure("malformed request", out, room);
}

size_t HttpTracker::announce(std::string_view query, const Addr &src, uint32_t now, char *out,
                             size_t room) {
    httpt::Announce a;
    if (const httpt::QueryError e = httpt::parse_announce(query, &a); e != httpt::QueryError::ok)
        return refuse(e, out, room);
    if (!tracked(a.info_hash)) return ++c_.unknown_torrent, failure("unknown torrent", out, room);
    // The peer is the connection's address with the announced port. The
    // "ip" parameter is ignored, as the UDP tracker ignores its IP field:
    // trusting it would let anyone add a third party to a swarm.
    Addr peer = src;
    peer.port = a.port;
    const bool stopped = a.event == udpt::Event::kStopped;
    const bool completed = a.event == udpt::Event::kCompleted;
    if (completed) ++c_.completed_events;
    const bool seeder = a.has_left && a.left == 0;
    uint32_t expired = 0;
    const auto up = table_->upsert(shard_, a.info_hash, peer, seeder, stopped, completed,
                                   now + peer_ttl(cfg_), now, &expired);
    c_.peers_expired += expired;
    switch (up) {
        case SwarmTable::Upsert::kAdded:
            ++c_.peers_added;
            break;
        case SwarmTable::Upsert::kRemoved:
            ++c_.peers_removed;
            break;
        case SwarmTable::Upsert::kSwarmsFull:
            return ++c_.swarms_full, failure("tracker full", out, room);
        case SwarmTable::Upsert::kPeersFull:
            return ++c_.peers_full, failure("swarm full", out, room);
        default:
            break;
    }
    // numwant: default and cap 50, as the UDP tracker; split between the
    // client's own family first and the other (BEP 7 peers6), in total.
    constexpr uint32_t kPickMax = 64;
    uint32_t want = a.numwant < 0 ? cfg_.numwant_default : static_cast<uint32_t>(a.numwant);
    if (want > cfg_.numwant_max) want = cfg_.numwant_max;
    if (want > kPickMax) want = kPickMax;
    if (stopped) want = 0;
    PeerView same[kPickMax], other[kPickMax];
    const uint8_t fam = src.family == 6 ? 6 : 4;
    const uint32_t n_same = table_->pick(a.info_hash, fam, peer, now, same, want, &rng_);
    const uint32_t n_other =
        table_->pick(a.info_hash, fam == 6 ? 4 : 6, peer, now, other, want - n_same, &rng_);
    const PeerView *v4 = fam == 4 ? same : other;
    const PeerView *v6 = fam == 4 ? other : same;
    const uint32_t n4 = fam == 4 ? n_same : n_other;
    const uint32_t n6 = fam == 4 ? n_other : n_same;
    const SwarmCounts cnt = table_->counts(a.info_hash);

    // Keys in sorted order (BEP 3 bencoding): complete, incomplete,
    // interval, min interval, peers, peers6.
    BBufWriter w(out, room);
    w.begin_dict();
    w.key("complete"), w.integer(cnt.seeders);
    w.key("incomplete"), w.integer(cnt.leechers);
    w.key("interval"), w.integer(cfg_.interval_s);
    w.key("min interval"), w.integer(cfg_.min_interval_s);
    // BEP 23: 6 bytes a peer, address then port, network order; BEP 7: 18
    // for IPv6. Compact even when compact=0 was asked (BEP 23 lets a
    // tracker; we keep no peer ids to fill the dictionary form with).
    w.key("peers");
    if (char *p = w.str_space(size_t{n4} * 6))
        for (uint32_t i = 0; i < n4; ++i)
            p += udpt::write_peer(reinterpret_cast<uint8_t *>(p), v4[i].addr);
    if (n6) {
        w.key("peers6");
        if (char *p = w.str_space(size_t{n6} * 18))
            for (uint32_t i = 0; i < n6; ++i)
                p += udpt::write_peer(reinterpret_cast<uint8_t *>(p), v6[i].addr);
    }
    w.end();
    if (w.overflow()) return ++c_.no_room, failure("reply too large", out, room);
    ++c_.announces;
    c_.peers_returned += n4;
    c_.peers6_returned += n6;
    return w.size();
}

size_t HttpTracker::scrape(std::string_view query, char *out, size_t room) {
    httpt::Scrape s;
    if (const httpt::QueryError e = httpt::parse_scrape(query, &s); e != httpt::QueryError::ok)
        return refuse(e, out, room);
    // BEP 48 lets a tracker answer a scrape without info_hash with every
    // torrent; that reply is unbounded, so we refuse it.
    if (s.count == 0) return ++c_.full_scrape, failure("full scrape not supported", out, room);
    // The "files" keys are the raw hashes, and a bencoded dict needs them
    // sorted and unique: insertion sort (at most kMaxScrapeHashes).
    uint8_t(*h)[20] = s.info_hash;
    for (uint32_t i = 1; i < s.count; ++i)
        for (uint32_t j = i; j > 0 && std::memcmp(h[j - 1], h[j], 20) > 0; --j) {
            uint8_t t[20];
            std::memcpy(t, h[j], 20), std::memcpy(h[j], h[j - 1], 20), std::memcpy(h[j - 1], t, 20);
        }
    BBufWriter w(out, room);
    w.begin_dict();
    w.key("files"), w.begin_dict();
    uint32_t listed = 0;
    for (uint32_t i = 0; i < s.count; ++i) {
        if (i && std::memcmp(h[i - 1], h[i], 20) == 0) continue;
        // BEP 48: one entry per torrent the tracker has stats for; an
        // unknown hash is left out (closed mode).
        if (!tracked(h[i])) {
            ++c_.unknown_torrent;
            continue;
        }
        const SwarmCounts cnt = table_->counts(h[i]);
        w.str({reinterpret_cast<const char *>(h[i]), 20});
        w.begin_dict();
        w.key("complete"), w.integer(cnt.seeders);
        w.key("downloaded"), w.integer(cnt.completed);
        w.key("incomplete"), w.integer(cnt.leechers);
        w.end();
        ++listed;
    }
    w.end();
    w.end();
    if (!listed) return failure("unknown torrent", out, room);
    if (w.overflow()) return ++c_.no_room, failure("reply too large", out, room);
    ++c_.scrapes;
    return w.size();
}

}  // namespace ep::swarm
