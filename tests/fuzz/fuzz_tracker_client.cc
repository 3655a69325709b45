// libFuzzer target: the tracker client's parsers (dataplane/swarm/tracker_client.cc).
// Byte 0 picks the parser: HTTP announce reply (with and without EOF), UDP
// connect / announce reply, or a tracker URL; the rest is its input.
// Replies stay within their bounds (peers <= kMaxPeers, failure text
// terminated) whatever the bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "dataplane/swarm/tracker_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::swarm;
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    const size_t n = size - 1;
    AnnounceReply r;
    ReplyError e = ReplyError::ok;
    switch (data[0] % 5) {
        case 0:
            e = parse_http_announce_reply(p, n, false, &r);
            break;
        case 1:
            e = parse_http_announce_reply(p, n, true, &r);
            if (e == ReplyError::need_more) std::abort();  // EOF always decides
            break;
        case 2: {
            uint64_t cid = 0;
            e = parse_udp_connect_reply(p, n, 7, &cid, &r);
            break;
        }
        case 3:
            e = parse_udp_announce_reply(p, n, 7, &r);
            break;
        default: {
            TrackerUrl u;
            if (parse_tracker_url(std::string_view(reinterpret_cast<const char *>(p), n), &u) ==
                UrlError::ok) {
                AnnounceParams ap;
                char buf[1024];
                const size_t len = build_http_announce(buf, sizeof buf, u, ap);
                if (len > sizeof buf || (len && std::memcmp(buf, "GET ", 4) != 0)) std::abort();
            }
            return 0;
        }
    }
    if (r.npeers > AnnounceReply::kMaxPeers) std::abort();
    if (std::memchr(r.failure, 0, sizeof r.failure) == nullptr) std::abort();
    if (e == ReplyError::ok && data[0] % 5 != 2 && r.interval == 0) std::abort();  // announces
    return 0;
}
