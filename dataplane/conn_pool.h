// The per-service connection pool every TCP service uses: a fixed array of
// T allocated at start-up, a free list, and a wake list of connections to
// run again at the next poll. The free list is intrusive (T has
// `T *next_free`); the wake list is the pool's own: an array of slot
// indices and a queued flag per slot that the service cannot reach. A
// service resets its connection's state when a slot is reused, possibly
// while the slot is still queued from its previous peer; with the queued
// flag inside T that reset let a slot be queued twice and the intrusive list
// turn into a cycle that spun the lcore (tests/unit/conn_pool_test.cc).
// A slot is queued at most once, so 2 * size entries always suffice.
// One lcore owns it; nothing here locks or allocates after init().
#pragma once

#include <cstdint>
#include <memory>
#include <new>

namespace ep {

template <class T>
class ConnPool {
  public:
    bool init(uint32_t n) {
        items_.reset(new (std::nothrow) T[n]);
        queued_.reset(new (std::nothrow) bool[n]());
        wakes_.reset(new (std::nothrow) uint32_t[2 * size_t{n}]);
        if (!items_ || !queued_ || !wakes_ || n == 0) return false;
        n_ = n;
        for (uint32_t i = 0; i < n; ++i) items_[i].next_free = i + 1 < n ? &items_[i + 1] : nullptr;
        free_ = &items_[0];
        return true;
    }
    uint32_t size() const { return n_; }
    T &operator[](uint32_t i) const { return items_[i]; }

    // nullptr when every connection is taken.
    T *acquire() {
        T *c = free_;
        if (c) free_ = c->next_free;
        return c;
    }
    void release(T *c) {
        c->next_free = free_;
        free_ = c;
    }

    // Queues c to run at the next drain_wakes(); once, however often woken.
    void wake(T *c) {
        const uint32_t i = static_cast<uint32_t>(c - items_.get());
        if (queued_[i]) return;
        queued_[i] = true;
        wakes_[nwakes_++] = i;
    }
    // Calls f(c) for every connection queued before the call, in order; f
    // may wake any connection again, which then runs at the next drain.
    // A slot released and reused meanwhile runs once, as its new self.
    template <class F>
    void drain_wakes(F &&f) {
        const uint32_t n = nwakes_;
        for (uint32_t k = 0; k < n; ++k) {
            const uint32_t i = wakes_[k];
            queued_[i] = false;
            f(&items_[i]);
        }
        // What f queued goes to the front for the next round.
        for (uint32_t k = n; k < nwakes_; ++k) wakes_[k - n] = wakes_[k];
        nwakes_ -= n;
    }

  private:
    std::unique_ptr<T[]> items_;
    std::unique_ptr<bool[]> queued_;
    std::unique_ptr<uint32_t[]> wakes_;  // slot indices, 2 * n_
    uint32_t n_ = 0;
    uint32_t nwakes_ = 0;
    T *free_ = nullptr;
};

}  // namespace ep
