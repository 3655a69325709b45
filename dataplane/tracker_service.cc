#include "dataplane/tracker_service.h"

#include <cstring>

namespace ep {

void TrackerService::poll(const Clock &clk) {
    unix_s_ = clk.unix_s;
    // Expire a few peer slots a millisecond: a whole shard (4096 swarms x
    // 128 slots) goes round in about 16 s, and replies skip expired peers
    // meanwhile anyway.
    if (clk.now_ns - last_sweep_ns_ >= 1'000'000) {
        last_sweep_ns_ = clk.now_ns;
        tracker_.sweep(unix_s_, 32);
    }
}

void TrackerService::visit_counters(const CounterVisitor &fn) const {
    const swarm::TrackerCounters &c = tracker_.counters();
#define EP_X(n, h) fn({#n, h, __atomic_load_n(&c.n, __ATOMIC_RELAXED)});
    EP_TRACKER_COUNTERS(EP_X)
#undef EP_X
}

int TrackerService::on_datagram(net::udp::Datagram &d) {
    swarm::Addr src;
    src.family = 4;
    std::memcpy(src.ip, &d.src_ip, 4);  // network order = the bytes on the wire
    src.port = d.src_port;
    return tracker_.handle(d.payload, d.len, d.room, src, unix_s_);
}

}  // namespace ep
