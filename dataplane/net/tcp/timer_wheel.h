// Hashed timer wheel (Varghese & Lauck) with intrusive nodes: O(1) schedule and
// cancel, no allocation. One node per connection; the connection keeps several
// deadlines and schedules the node at the earliest (see tcp_timers.cc).
#pragma once

#include <cstdint>

namespace ep::tcp {

struct TimerNode {
    TimerNode *prev = nullptr;
    TimerNode *next = nullptr;
    uint64_t expiry_tick = 0;
    uint32_t owner = 0;  // index of the owning object
    bool linked() const { return prev != nullptr; }
};

class TimerWheel {
  public:
    // slots must be a power of two; `slot_storage` holds `slots` list heads.
    void init(TimerNode *slot_storage, uint32_t slots, uint64_t tick_ns, uint64_t now_ns);

    // (Re)schedules at deadline_ns (rounded up to a tick, at least next tick).
    void schedule(TimerNode *n, uint64_t deadline_ns);
    void cancel(TimerNode *n);
    uint64_t tick_of(uint64_t ns) const { return (ns + tick_ns_ - 1) / tick_ns_; }

    // Fires every node whose tick is <= the tick of now_ns; fire(node) must not
    // touch other nodes' list pointers except by schedule()/cancel().
    template <typename F>
    void advance(uint64_t now_ns, F &&fire);

  private:
    static void unlink(TimerNode *n) {
        n->prev->next = n->next;
        n->next->prev = n->prev;
        n->prev = n->next = nullptr;
    }
    void link(TimerNode *head, TimerNode *n) {
        n->next = head->next;
        n->prev = head;
        head->next->prev = n;
        head->next = n;
    }

    TimerNode *slots_ = nullptr;
    uint32_t mask_ = 0;
    uint64_t tick_ns_ = 1;
    uint64_t cur_tick_ = 0;  // all ticks <= cur_tick_ have been processed
};

template <typename F>
void TimerWheel::advance(uint64_t now_ns, F &&fire) {
    uint64_t now_tick = now_ns / tick_ns_;
    if (now_tick <= cur_tick_) return;
    uint64_t n = now_tick - cur_tick_;
    if (n > mask_ + 1) n = mask_ + 1;
    for (uint64_t i = 1; i <= n; ++i) {
        TimerNode *head = &slots_[(cur_tick_ + i) & mask_];
        if (head->next == head) continue;
        // Detach the slot so that nodes rescheduled by fire() land in a fresh list.
        TimerNode pending;
        pending.next = head->next;
        pending.prev = head->prev;
        pending.next->prev = &pending;
        pending.prev->next = &pending;
        head->next = head->prev = head;
        while (pending.next != &pending) {
            TimerNode *t = pending.next;
            unlink(t);
            if (t->expiry_tick <= now_tick) {
                fire(t);
            } else {
                link(head, t);
            }
        }
    }
    cur_tick_ = now_tick;
}

}  // namespace ep::tcp
