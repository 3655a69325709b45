// libFuzzer target: the HTTP tracker's query parser and replies
// (dataplane/swarm/http_tracker{,_query}.cc) over a swarm table kept across
// inputs (2 shards, open mode). Byte 0 picks the shard, the route
// (announce/scrape), the client's family and address; byte 1 moves the
// clock; the rest is the query string. Every reply must be one strict
// bencoded dictionary that fits the room given, with a failure reason or
// the keys a reply of its route carries.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "dataplane/swarm/bencode.h"
#include "dataplane/swarm/http_tracker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::swarm;
    static TorrentSet ours(64);
    static SwarmTable table({2, 16, 8});
    static TrackerConfig cfg = [] {
        TrackerConfig c;
        c.open = true;
        return c;
    }();
    static HttpTracker trackers[2] = {{cfg, &ours, &table, 0, 1}, {cfg, &ours, &table, 1, 2}};
    static int64_t now = 1'800'000'000;
    if (size < 2) return 0;
    const std::string_view q(reinterpret_cast<const char *>(data + 2), size - 2);
    // The parsers alone, on every input.
    httpt::Announce a;
    httpt::Scrape s;
    (void)httpt::parse_announce(q, &a);
    (void)httpt::parse_scrape(q, &s);

    Addr src;
    src.family = (data[0] & 4) ? 6 : 4;
    src.ip[0] = 10, src.ip[3] = static_cast<uint8_t>(data[0] >> 3 & 7);
    src.port = 1000;
    now += data[1] * 7;
    HttpTracker &t = trackers[data[0] & 1];
    const auto route = (data[0] & 2) ? HttpTracker::Route::kScrape : HttpTracker::Route::kAnnounce;
    // The room varies with the input's top bits: small rooms must still
    // give a well-formed failure (or nothing below kMinRoom).
    static char out[2600];
    const size_t room = (data[0] & 0xc0) == 0xc0 ? 120 : sizeof out;
    const size_t n = t.handle(route, q, src, now, out, room);
    if (n > room) std::abort();
    if (n == 0) std::abort();  // room >= kMinRoom always gets an answer
    static BNode nodes[600];
    uint32_t nn = 0;
    if (bdecode({out, n}, nodes, 600, &nn) != BError::kOk || nodes[0].type != BType::kDict)
        std::abort();
    const bool failed = bdict_find(nodes, 0, "failure reason") != 0;
    if (!failed && route == HttpTracker::Route::kAnnounce &&
        (!bdict_find(nodes, 0, "interval") || !bdict_find(nodes, 0, "peers")))
        std::abort();
    if (!failed && route == HttpTracker::Route::kScrape && !bdict_find(nodes, 0, "files"))
        std::abort();
    table.sweep(data[0] & 1, static_cast<uint32_t>(now), 16);
    return 0;
}
