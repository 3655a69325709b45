#include "dataplane/net/tcp/timer_wheel.h"

namespace ep::tcp {

void TimerWheel::init(TimerNode *slot_storage, uint32_t slots, uint64_t tick_ns, uint64_t now_ns) {
    slots_ = slot_storage;
    mask_ = slots - 1;
    tick_ns_ = tick_ns ? tick_ns : 1;
    cur_tick_ = now_ns / tick_ns_;
    for (uint32_t i = 0; i < slots; ++i) slots_[i].prev = slots_[i].next = &slots_[i];
}

void TimerWheel::schedule(TimerNode *n, uint64_t deadline_ns) {
    uint64_t t = tick_of(deadline_ns);
    if (t <= cur_tick_) t = cur_tick_ + 1;
    if (n->linked()) {
        if (n->expiry_tick == t) return;
        unlink(n);
    }
    n->expiry_tick = t;
    link(&slots_[t & mask_], n);
}

void TimerWheel::cancel(TimerNode *n) {
    if (n->linked()) unlink(n);
}

}  // namespace ep::tcp
