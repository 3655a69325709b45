// The per-service connection pool every TCP service uses: a fixed array of
// T allocated at start-up, a free list, and a wake list of connections to
// run again at the next poll. Intrusive: T has `T *next_free`, `T *next_wake`
// and `bool woken`. One lcore owns it; nothing here locks or allocates after
// init().
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
        if (!items_ || n == 0) return false;
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
        if (c->woken) return;
        c->woken = true;
        c->next_wake = wake_;
        wake_ = c;
    }
    // Calls f(c) for every woken connection; f may wake again (next round).
    template <class F>
    void drain_wakes(F &&f) {
        T *list = wake_;
        wake_ = nullptr;
        while (list) {
            T *c = list;
            list = c->next_wake;
            c->woken = false;
            f(c);
        }
    }

  private:
    std::unique_ptr<T[]> items_;
    uint32_t n_ = 0;
    T *free_ = nullptr;
    T *wake_ = nullptr;
};

}  // namespace ep
