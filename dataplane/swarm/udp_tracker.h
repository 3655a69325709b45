// The UDP tracker protocol (BEP 15) with BEP 7's IPv6 peer format: request
// parsing, reply building and the connection IDs. Pure: bytes, addresses and
// time in, bytes out.
//
// Connection IDs (BEP 15 "connect"): the ID for a source address in minute
// E is SipHash-2-4 under a key derived from a boot-time secret and E, so an
// ID cannot be forged without the secret, the tracker keeps no state per
// connect, every lcore checks any ID, and the key rotates every minute by
// itself. IDs of the last kConnIdEpochs minutes are accepted: BEP 15 asks
// trackers to accept an ID until two minutes after sending it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/net/byte_order.h"

namespace ep::swarm::udpt {

inline constexpr uint64_t kProtocolId = 0x41727101980ull;  // BEP 15 magic
inline constexpr uint32_t kActionConnect = 0, kActionAnnounce = 1, kActionScrape = 2,
                          kActionError = 3;
inline constexpr size_t kConnectLen = 16, kAnnounceLen = 98, kScrapeHeadLen = 16;
inline constexpr uint32_t kMaxScrapeHashes = 74;  // BEP 15: "up to about 74"
inline constexpr int64_t kConnIdEpochSeconds = 60;
inline constexpr int kConnIdEpochs = 3;  // current and two before: 120 to 180 s

enum class Event : uint32_t { kNone = 0, kCompleted = 1, kStarted = 2, kStopped = 3 };

#define EP_UDPT_ERRORS(X)                                               \
    X(short_packet, "shorter than its action's fixed fields")           \
    X(bad_protocol_id, "connect without BEP 15's protocol id")          \
    X(bad_action, "action not connect/announce/scrape")                 \
    X(bad_connection_id, "connection id not issued by us (or expired)") \
    X(bad_event, "announce event not 0..3")                             \
    X(bad_scrape_length, "scrape: no info hash, too many, or a partial one")

enum class ReqError : uint8_t {
    ok,
#define EP_X(n, h) n,
    EP_UDPT_ERRORS(EP_X)
#undef EP_X
};
const char *req_error_name(ReqError e);

// A source address, IPv4 or IPv6 (BEP 7), in network order.
struct Addr {
    uint8_t family = 4;  // 4 or 6
    uint8_t ip[16] = {};
    uint16_t port = 0;  // host order
};

struct Request {
    uint32_t action = 0;
    uint32_t transaction_id = 0;  // echoed as received (opaque bytes)
    uint64_t connection_id = 0;
    // announce
    const uint8_t *info_hash = nullptr;  // 20 bytes; scrape: count * 20
    const uint8_t *peer_id = nullptr;
    uint64_t downloaded = 0, left = 0, uploaded = 0;
    Event event = Event::kNone;
    uint32_t ip = 0, key = 0;
    int32_t num_want = -1;
    uint16_t port = 0;
    uint32_t scrape_count = 0;
};

class ConnIds {
  public:
    ConnIds(uint64_t k0, uint64_t k1) : k0_(k0), k1_(k1) {}
    uint64_t issue(const Addr &src, int64_t unix_s) const { return id(src, epoch(unix_s)); }
    bool valid(uint64_t cid, const Addr &src, int64_t unix_s) const {
        const int64_t e = epoch(unix_s);
        for (int i = 0; i < kConnIdEpochs; ++i)
            if (id(src, e - i) == cid) return true;
        return false;
    }

  private:
    static int64_t epoch(int64_t unix_s) { return unix_s / kConnIdEpochSeconds; }
    uint64_t id(const Addr &src, int64_t epoch) const;
    uint64_t k0_, k1_;
};

// Parses a datagram; for announce and scrape also checks the connection ID.
ReqError parse_request(const uint8_t *p, size_t n, const ConnIds &ids, const Addr &src,
                       int64_t unix_s, Request *out);

// Reply writers; each returns the length written (0 if `room` is too small).
size_t write_connect(uint8_t *out, size_t room, uint32_t tid, uint64_t cid);
// Head of an announce reply (20 bytes); peers follow as peer_entry()s.
size_t write_announce_head(uint8_t *out, size_t room, uint32_t tid, uint32_t interval,
                           uint32_t leechers, uint32_t seeders);
// A peer: 6 bytes for IPv4, 18 for IPv6 (BEP 7); the reply's family is the
// request's transport.
inline size_t peer_entry_len(uint8_t family) {
    return family == 6 ? 18 : 6;
}
size_t write_peer(uint8_t *out, const Addr &a);
size_t write_scrape_entry(uint8_t *out, uint32_t seeders, uint32_t completed, uint32_t leechers);
size_t write_scrape_head(uint8_t *out, uint32_t tid);  // 8 bytes
size_t write_error(uint8_t *out, size_t room, uint32_t tid, const char *msg);

// Client side, for tests and the load generator.
size_t write_connect_request(uint8_t *out, uint32_t tid);
size_t write_announce_request(uint8_t *out, uint64_t cid, uint32_t tid, const uint8_t ih[20],
                              const uint8_t peer_id[20], uint64_t left, Event ev, int32_t num_want,
                              uint16_t port);
size_t write_scrape_request(uint8_t *out, uint64_t cid, uint32_t tid, const uint8_t *hashes,
                            uint32_t count);

// Network-order loads and stores (dataplane/net/byte_order.h), named here
// for the tests and the fuzz target that speak this protocol.
using net::get32;
using net::get64;
using net::put32;
using net::put64;

}  // namespace ep::swarm::udpt
