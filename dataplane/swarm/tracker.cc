#include "dataplane/swarm/tracker.h"

#include <cstring>

namespace ep::swarm {

int Tracker::error(uint8_t *buf, size_t room, uint32_t tid, const char *msg) {
    const size_t n = udpt::write_error(buf, room, tid, msg);
    if (!n) {
        ++c_.no_room;
        return -1;
    }
    ++c_.errors_sent;
    return static_cast<int>(n);
}

int Tracker::handle(uint8_t *buf, size_t len, size_t room, const Addr &src, int64_t now) {
    udpt::Request r;
    const udpt::ReqError e = udpt::parse_request(buf, len, *ids_, src, now, &r);
    switch (e) {
        case udpt::ReqError::ok:
            break;
#define EP_X(n, h)          \
    case udpt::ReqError::n: \
        ++c_.n;             \
        return -1;
            EP_UDPT_ERRORS(EP_X)
#undef EP_X
    }
    const uint32_t tid = r.transaction_id;
    const uint32_t now32 = static_cast<uint32_t>(now);
    switch (r.action) {
        case udpt::kActionConnect: {
            const size_t n = udpt::write_connect(buf, room, tid, ids_->issue(src, now));
            if (!n) return ++c_.no_room, -1;
            ++c_.connects;
            return static_cast<int>(n);
        }
        case udpt::kActionAnnounce: {
            uint8_t ih[20];
            std::memcpy(ih, r.info_hash, 20);  // the reply overwrites the request
            if (!tracked(ih)) return ++c_.unknown_torrent, error(buf, room, tid, "unknown torrent");
            // The peer is the datagram's source address with the announced port
            // (the IP field is ignored: BEP 15 lets trackers, and trusting it
            // would let anyone add a third party to a swarm).
            Addr peer = src;
            peer.port = r.port;
            const bool stopped = r.event == udpt::Event::kStopped;
            const bool completed = r.event == udpt::Event::kCompleted;
            if (completed) ++c_.completed_events;
            uint32_t expired = 0;
            const auto up = table_->upsert(shard_, ih, peer, r.left == 0, stopped, completed,
                                           now32 + ttl(), now32, &expired);
            c_.peers_expired += expired;
            switch (up) {
                case SwarmTable::Upsert::kAdded:
                    ++c_.peers_added;
                    break;
                case SwarmTable::Upsert::kRemoved:
                    ++c_.peers_removed;
                    break;
                case SwarmTable::Upsert::kSwarmsFull:
                    return ++c_.swarms_full, error(buf, room, tid, "tracker full");
                case SwarmTable::Upsert::kPeersFull:
                    return ++c_.peers_full, error(buf, room, tid, "swarm full");
                default:
                    break;
            }
            uint32_t want =
                r.num_want < 0 ? cfg_.numwant_default : static_cast<uint32_t>(r.num_want);
            if (want > cfg_.numwant_max) want = cfg_.numwant_max;
            if (stopped) want = 0;
            const size_t entry = udpt::peer_entry_len(src.family);
            if (room < 20) return ++c_.no_room, -1;
            if (want > (room - 20) / entry) want = static_cast<uint32_t>((room - 20) / entry);
            PeerView picked[64];
            if (want > 64) want = 64;
            const uint32_t n = table_->pick(ih, src.family, peer, now32, picked, want, &rng_);
            const SwarmCounts cnt = table_->counts(ih);
            size_t off = udpt::write_announce_head(buf, room, tid, cfg_.interval_s, cnt.leechers,
                                                   cnt.seeders);
            for (uint32_t i = 0; i < n; ++i) off += udpt::write_peer(buf + off, picked[i].addr);
            ++c_.announces;
            c_.peers_returned += n;
            return static_cast<int>(off);
        }
        case udpt::kActionScrape: {
            // The reply (8 + 12 per hash) is shorter than the request (16 + 20
            // per hash) and written ahead of it: hash i is read before entry i
            // overwrites bytes up to 8 + 12(i+1) < 16 + 20i + 20.
            const uint32_t count = r.scrape_count;
            if (room < 8 + size_t{count} * 12) return ++c_.no_room, -1;
            uint8_t tmp[20];
            size_t off = 8;
            for (uint32_t i = 0; i < count; ++i) {
                std::memcpy(tmp, buf + 16 + size_t{i} * 20, 20);
                SwarmCounts cnt{};
                if (tracked(tmp))
                    cnt = table_->counts(tmp);
                else
                    ++c_.unknown_torrent;
                off +=
                    udpt::write_scrape_entry(buf + off, cnt.seeders, cnt.completed, cnt.leechers);
            }
            udpt::write_scrape_head(buf, tid);
            ++c_.scrapes;
            return static_cast<int>(off);
        }
    }
    return -1;
}

}  // namespace ep::swarm
