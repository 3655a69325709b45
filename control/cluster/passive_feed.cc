#include "control/cluster/passive_feed.h"

#include <cstring>

namespace ep::cluster {

Prefix record_address(const RttRecord &r) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    Prefix p;
    if (std::memcmp(r.addr, kMapped, 12) == 0) {
        p.family = 1;
        p.len = 32;
        std::memcpy(p.net, r.addr + 12, 4);
    } else {
        p.family = 2;
        p.len = 128;
        std::memcpy(p.net, r.addr, 16);
    }
    return p;
}

void ingest_record(const RttRecord &r, int32_t self_cluster, Measurements &m, double now_s,
                   PassiveCounters *ctr) {
    if (self_cluster < 0) {
        ++ctr->no_cluster;
        return;
    }
    const float rtt_ms = static_cast<float>(r.srtt_us) / 1000.0f;
    const uint32_t retrans = r.segs_retrans < r.segs_out ? r.segs_retrans : r.segs_out;
    const float loss =
        r.segs_out ? 100.0f * static_cast<float>(retrans) / static_cast<float>(r.segs_out) : 0.0f;
    m.add(static_cast<uint16_t>(self_cluster), record_address(r), rtt_ms, loss, 1, now_s);
    ++ctr->ingested;
}

}  // namespace ep::cluster
