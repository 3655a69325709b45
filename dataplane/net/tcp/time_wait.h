// Bounded TIME-WAIT table (RFC 9293 3.6.1, 3.10.7.4). Connections entering
// TIME-WAIT release their TCB and keep only this small record. Every entry
// lives the same 2*MSL, so a FIFO ring is also expiry order; when the ring is
// full the oldest entry is reused (counted as tw_evicted).
#pragma once

#include <cstdint>

#include "dataplane/net/tcp/addr.h"
#include "dataplane/net/tcp/flow_table.h"
#include "dataplane/net/tcp/seq.h"

namespace ep::tcp {

struct TimeWaitEntry {
    FlowKey key;
    Seq snd_nxt = 0;  // our sequence after our FIN
    Seq rcv_nxt = 0;  // after the peer's FIN
    uint32_t ts_recent = 0;
    uint32_t ts_offset = 0;
    uint64_t expiry_ns = 0;
    uint16_t rcv_wnd = 0;
    bool ts_ok = false;
    bool live = false;
};

class TimeWaitTable {
  public:
    void init(TimeWaitEntry *entries, uint32_t capacity, FlowTable::Slot *slots,
              uint32_t slot_capacity, uint64_t seed);
    // Inserts; returns true if the oldest live entry had to be evicted.
    bool add(const TimeWaitEntry &e);
    TimeWaitEntry *find(const FlowKey &k);
    void remove(TimeWaitEntry *e);
    // Expires entries with expiry <= now; returns how many.
    uint32_t expire(uint64_t now_ns);
    uint32_t size() const { return live_; }

  private:
    TimeWaitEntry *e_ = nullptr;
    uint32_t cap_ = 0;
    uint32_t head_ = 0;   // oldest
    uint32_t count_ = 0;  // ring occupancy (live + dead)
    uint32_t live_ = 0;
    FlowTable index_;
};

}  // namespace ep::tcp
