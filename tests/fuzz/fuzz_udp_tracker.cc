// libFuzzer target: the UDP tracker (dataplane/swarm/tracker.cc) over a
// swarm table that persists across inputs (2 shards, open mode). Byte 0
// picks the shard, the source address and whether the harness puts a valid
// connection ID in place (the fuzzer cannot guess one: that is the point);
// byte 1 moves the clock. The reply must fit the room given.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/swarm/tracker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::swarm;
    static TorrentSet ours(64);
    static SwarmTable table({2, 16, 8});
    static const udpt::ConnIds ids(11, 22);
    static TrackerConfig cfg = [] {
        TrackerConfig c;
        c.open = true;
        return c;
    }();
    static Tracker trackers[2] = {{cfg, &ids, &ours, &table, 0, 1},
                                  {cfg, &ids, &ours, &table, 1, 2}};
    static int64_t now = 1'800'000'000;
    if (size < 2) return 0;
    Addr src;
    src.ip[0] = 10, src.ip[3] = static_cast<uint8_t>(data[0] >> 2 & 7);
    src.port = static_cast<uint16_t>(1000 + (data[0] >> 5));
    now += data[1] * 7;
    Tracker &t = trackers[data[0] & 1];
    const size_t n = size - 2;
    const size_t room = 1500;
    std::vector<uint8_t> buf(data + 2, data + size);
    buf.resize(n > room ? n : room);
    if ((data[0] & 2) && n >= 16) udpt::put64(buf.data(), ids.issue(src, now));
    const int r = t.handle(buf.data(), n, room, src, now);
    if (r > static_cast<int>(room)) std::abort();
    if (r >= 8) {
        const uint32_t action = udpt::get32(buf.data());
        if (action > 3) std::abort();
    }
    t.sweep(now, 16);
    return 0;
}
