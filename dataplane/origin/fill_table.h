// Request coalescing and failover for chunk fills (issue 14). Pure, per data
// lcore, fixed size (allocated once at init, never after).
//
// Every missing chunk a request needs is joined here by its chunk key: the
// first join starts the one origin fetch (kStarted), every later one while
// it is in flight only waits (kJoined), so any number of concurrent
// requests for one cold chunk cause one origin request. The waiting itself
// is ChunkStream's per-key wait list; this table only decides who fetches.
// A fetch that fails on one server moves to the next of its route
// (failed()); after the last one the fill gives up, and the waiters get
// 502 (connect failure or error answer) or 504 (timeout).
//
// Why open addressing over rte_hash: the table is per lcore (no sharing, no
// RCU), small (in-flight chunks only) and deletes often; linear probing with
// backward-shift deletion needs no tombstones and no DPDK in unit tests.
#pragma once

#include <cstdint>
#include <memory>
#include <new>

namespace ep::origin {

enum class FillState : uint8_t {
    kFree,
    kConnecting,  // origin connection being opened (or waiting for a free one)
    kFetching,    // request sent, body arriving into the staging buffer
    kLanding,     // complete and verified: handed to the store, waiting to appear
    kFailed,      // given up: kept briefly so the woken waiters see it (then freed)
};

enum class FailKind : uint8_t { kConnect, kAnswer, kTimeout };

struct FillSlot {
    uint64_t key = 0;  // chunk key
    uint64_t oid = 0;
    uint32_t index = 0;
    FillState state = FillState::kFree;
    uint8_t server = 0;        // which server of the route is being tried
    uint8_t attempts = 0;      // servers tried so far
    uint32_t joined = 0;       // requests that asked for this chunk while in flight
    uint64_t started_ns = 0;   // of the current attempt; of the failure once kFailed
    uint16_t fail_status = 0;  // kFailed: what the waiters answer (404, 502, 504)
    // The stored version the fetch is for (0: a first fetch, the version it
    // will create). A failure answers only readers of that version: a
    // reader of another one fetches anew (chunk keys do not name versions).
    uint64_t generation = 0;
    // Servers of the route this fill tried (bit i: server i); 0: none yet,
    // the fill client picks the first (origin/health.h pick_server).
    uint8_t tried = 0;
};

class FillTable {
  public:
    enum class Join : uint8_t { kStarted, kJoined, kFull };
    enum class Next : uint8_t { kRetry, kGiveUp };

    // capacity: in-flight chunk fills at most (rounded up to a power of two,
    // the table is twice that for short probes).
    bool init(uint32_t capacity) {
        uint32_t n = 16;
        while (n < capacity * 2) n <<= 1;
        slots_.reset(new (std::nothrow) FillSlot[n]);
        if (!slots_) return false;
        mask_ = n - 1;
        limit_ = capacity;
        return true;
    }

    Join join(uint64_t key, uint64_t oid, uint32_t index, uint64_t now_ns, FillSlot **out) {
        for (uint64_t i = key & mask_;; i = (i + 1) & mask_) {
            FillSlot &s = slots_[i];
            if (s.state == FillState::kFree) {
                if (used_ == limit_) return Join::kFull;
                s = FillSlot{key, oid, index, FillState::kConnecting, 0, 1, 1, now_ns, 0, 0};
                ++used_;
                *out = &s;
                return Join::kStarted;
            }
            if (s.key == key) {
                ++s.joined;
                *out = &s;
                return Join::kJoined;
            }
        }
    }

    FillSlot *find(uint64_t key) {
        for (uint64_t i = key & mask_;; i = (i + 1) & mask_) {
            FillSlot &s = slots_[i];
            if (s.state == FillState::kFree) return nullptr;
            if (s.key == key) return &s;
        }
    }

    // The fetch failed on its current server: the next server of the route
    // (of `nservers`), or give up once every one was tried.
    Next failed(FillSlot *s, uint8_t nservers, uint64_t now_ns) {
        if (s->attempts >= nservers) return Next::kGiveUp;
        s->server = static_cast<uint8_t>((s->server + 1) % nservers);
        ++s->attempts;
        s->state = FillState::kConnecting;
        s->started_ns = now_ns;
        return Next::kRetry;
    }

    // The chunk is in the store, or the fill gave up: the slot is free.
    // Other slots may move: hold keys across calls, not FillSlot pointers.
    // Backward-shift deletion keeps every probe chain unbroken.
    void finish(FillSlot *s) {
        uint64_t i = static_cast<uint64_t>(s - slots_.get());
        slots_[i].state = FillState::kFree;
        --used_;
        for (uint64_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
            FillSlot &n = slots_[j];
            if (n.state == FillState::kFree) return;
            const uint64_t home = n.key & mask_;
            // n may move into the hole at i if its home is not in (i, j].
            const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (stays) continue;
            slots_[i] = n;
            n.state = FillState::kFree;
            i = j;
        }
    }

    // Fills older than limit_ns in any state but kLanding (the store owns
    // those) and kFailed: fn(slot) decides (usually failed(..., kTimeout)).
    // fn may not finish() slots (that moves others): collect, then act.
    template <class Fn>
    void expire(uint64_t now_ns, uint64_t limit_ns, Fn &&fn) {
        for (uint64_t i = 0; i <= mask_; ++i) {
            FillSlot &s = slots_[i];
            if (s.state == FillState::kFree || s.state == FillState::kLanding ||
                s.state == FillState::kFailed)
                continue;
            if (now_ns - s.started_ns > limit_ns) fn(&s);
        }
    }

    // Every slot in use, in table order (same rule: fn may not finish()).
    template <class Fn>
    void for_each(Fn &&fn) {
        for (uint64_t i = 0; i <= mask_; ++i)
            if (slots_[i].state != FillState::kFree) fn(&slots_[i]);
    }

    uint32_t in_flight() const { return used_; }
    uint32_t capacity() const { return limit_; }

  private:
    std::unique_ptr<FillSlot[]> slots_;
    uint64_t mask_ = 0;
    uint32_t used_ = 0, limit_ = 0;
};

// Which chunks to start fetching for a reader that needs chunk `need` of an
// object of `nchunks`: `need` first (a Range far into a cold object fetches
// its own chunk before anything else), then up to window-1 chunks after it
// that are neither in the store nor in flight (read-ahead, so serve-while-
// filling streams instead of stopping at every chunk edge). `have(i)` says
// whether chunk i is stored or in flight. Returns how many indices it wrote.
template <class Have>
uint32_t plan_fetches(uint32_t need, uint32_t nchunks, uint32_t window, Have &&have, uint32_t *out,
                      uint32_t out_cap) {
    uint32_t n = 0;
    for (uint32_t i = need; i < nchunks && i - need < window && n < out_cap; ++i)
        if (!have(i)) out[n++] = i;
    return n;
}

}  // namespace ep::origin
