#include "dataplane/swarm/udp_tracker.h"

#include <cstring>

#include "dataplane/swarm/siphash.h"

namespace ep::swarm::udpt {

const char *req_error_name(ReqError e) {
    switch (e) {
        case ReqError::ok:
            return "ok";
#define EP_X(n, h)    \
    case ReqError::n: \
        return #n;
            EP_UDPT_ERRORS(EP_X)
#undef EP_X
    }
    return "?";
}

uint64_t ConnIds::id(const Addr &src, int64_t epoch) const {
    // Key for this minute: SipHash of the epoch under the boot secret; then
    // the address under that key. Family and address only: a NATed client
    // may announce from another port than it connected from.
    uint8_t e[8];
    put64(e, static_cast<uint64_t>(epoch));
    const uint64_t ek0 = siphash24(k0_, k1_, e, 8);
    const uint64_t ek1 = siphash24(k1_, k0_, e, 8);
    uint8_t m[17];
    m[0] = src.family;
    std::memcpy(m + 1, src.ip, 16);
    return siphash24(ek0, ek1, m, src.family == 6 ? 17 : 5);
}

ReqError parse_request(const uint8_t *p, size_t n, const ConnIds &ids, const Addr &src,
                       int64_t unix_s, Request *r) {
    *r = Request{};
    if (n < 16) return ReqError::short_packet;
    r->connection_id = get64(p);
    r->action = get32(p + 8);
    r->transaction_id = get32(p + 12);
    switch (r->action) {
        case kActionConnect:
            if (r->connection_id != kProtocolId) return ReqError::bad_protocol_id;
            return ReqError::ok;
        case kActionAnnounce:
            // BEP 41 options may follow the 98 bytes: ignored.
            if (n < kAnnounceLen) return ReqError::short_packet;
            if (!ids.valid(r->connection_id, src, unix_s)) return ReqError::bad_connection_id;
            r->info_hash = p + 16;
            r->peer_id = p + 36;
            r->downloaded = get64(p + 56);
            r->left = get64(p + 64);
            r->uploaded = get64(p + 72);
            if (get32(p + 80) > 3) return ReqError::bad_event;
            r->event = static_cast<Event>(get32(p + 80));
            r->ip = get32(p + 84);
            r->key = get32(p + 88);
            r->num_want = static_cast<int32_t>(get32(p + 92));
            r->port = net::get16(p + 96);
            return ReqError::ok;
        case kActionScrape: {
            if (!ids.valid(r->connection_id, src, unix_s)) return ReqError::bad_connection_id;
            const size_t body = n - kScrapeHeadLen;
            if (body == 0 || body % 20 != 0 || body / 20 > kMaxScrapeHashes)
                return ReqError::bad_scrape_length;
            r->info_hash = p + 16;
            r->scrape_count = static_cast<uint32_t>(body / 20);
            return ReqError::ok;
        }
        default:
            return ReqError::bad_action;
    }
}

size_t write_connect(uint8_t *out, size_t room, uint32_t tid, uint64_t cid) {
    if (room < 16) return 0;
    put32(out, kActionConnect), put32(out + 4, tid), put64(out + 8, cid);
    return 16;
}
size_t write_announce_head(uint8_t *out, size_t room, uint32_t tid, uint32_t interval,
                           uint32_t leechers, uint32_t seeders) {
    if (room < 20) return 0;
    put32(out, kActionAnnounce), put32(out + 4, tid), put32(out + 8, interval);
    put32(out + 12, leechers), put32(out + 16, seeders);
    return 20;
}
size_t write_peer(uint8_t *out, const Addr &a) {
    const size_t n = a.family == 6 ? 16 : 4;
    std::memcpy(out, a.ip, n);
    out[n] = static_cast<uint8_t>(a.port >> 8), out[n + 1] = static_cast<uint8_t>(a.port);
    return n + 2;
}
size_t write_scrape_head(uint8_t *out, uint32_t tid) {
    put32(out, kActionScrape), put32(out + 4, tid);
    return 8;
}
size_t write_scrape_entry(uint8_t *out, uint32_t seeders, uint32_t completed, uint32_t leechers) {
    put32(out, seeders), put32(out + 4, completed), put32(out + 8, leechers);
    return 12;
}
size_t write_error(uint8_t *out, size_t room, uint32_t tid, const char *msg) {
    const size_t len = std::strlen(msg);
    if (room < 8 + len) return 0;
    put32(out, kActionError), put32(out + 4, tid);
    std::memcpy(out + 8, msg, len);
    return 8 + len;
}

size_t write_connect_request(uint8_t *out, uint32_t tid) {
    put64(out, kProtocolId), put32(out + 8, kActionConnect), put32(out + 12, tid);
    return 16;
}
size_t write_announce_request(uint8_t *out, uint64_t cid, uint32_t tid, const uint8_t ih[20],
                              const uint8_t peer_id[20], uint64_t left, Event ev, int32_t num_want,
                              uint16_t port) {
    put64(out, cid), put32(out + 8, kActionAnnounce), put32(out + 12, tid);
    std::memcpy(out + 16, ih, 20), std::memcpy(out + 36, peer_id, 20);
    put64(out + 56, 0), put64(out + 64, left), put64(out + 72, 0);
    put32(out + 80, static_cast<uint32_t>(ev)), put32(out + 84, 0), put32(out + 88, 0);
    put32(out + 92, static_cast<uint32_t>(num_want));
    out[96] = static_cast<uint8_t>(port >> 8), out[97] = static_cast<uint8_t>(port);
    return kAnnounceLen;
}
size_t write_scrape_request(uint8_t *out, uint64_t cid, uint32_t tid, const uint8_t *hashes,
                            uint32_t count) {
    put64(out, cid), put32(out + 8, kActionScrape), put32(out + 12, tid);
    std::memcpy(out + 16, hashes, size_t{count} * 20);
    return 16 + size_t{count} * 20;
}

}  // namespace ep::swarm::udpt
