// The one interface every eviction policy implements, online or offline.
//
// A policy tracks which keys are resident and how many bytes they weigh. Two
// ways to drive it:
//  - simulation: auto_evict = true; access() evicts by itself to stay within
//    capacity, exactly like a cache simulator.
//  - daemon: auto_evict = false; access() only records and inserts, and the
//    eviction driver calls evict_to() when the store crosses its watermark.
// Either way every eviction goes through the EvictionHandler, which may refuse
// (the chunk store cannot drop a pinned chunk): the policy then keeps the key,
// moves it to where it will be retried later, and counts a skip.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

namespace ep::cache {

// Offline oracle value: the request index of the key's next access.
inline constexpr int64_t kNeverAgain = std::numeric_limits<int64_t>::max();

struct Request {
    uint64_t key = 0;
    uint32_t size = 1;
    // Only Belady reads this; online callers leave it unknown.
    int64_t next_access = kNeverAgain;
};

class EvictionHandler {
  public:
    virtual ~EvictionHandler() = default;
    // Return false when the key cannot go now (pinned); it stays resident.
    virtual bool try_evict(uint64_t key, uint32_t size) = 0;
};

struct PolicyConfig {
    uint64_t capacity_bytes = 0;
    bool auto_evict = true;
    // Sizing hint for frequency sketches: how many objects fit. 0 means
    // capacity_bytes (right for unit sizes; byte-sized callers should set it).
    uint64_t expected_objects = 0;
};

struct PolicyStats {
    uint64_t evictions = 0;
    uint64_t evictions_skipped = 0;  // handler refused (pinned)
    uint64_t rejected = 0;           // misses not admitted (too big or filtered)
};

// Entries to pre-size a policy's hash table for, so that it runs about a
// quarter full: linear probing's cost climbs steeply with load, and measured
// S3-FIFO replay went from 16 to 27 M requests/CPU-s on cloudPhysics at 1%
// going from half to a quarter full. Without an object-count hint a byte
// capacity says little, so the hint is capped; past it tables grow on demand.
inline uint64_t table_hint(const PolicyConfig &cfg, uint64_t per_object) {
    uint64_t n = cfg.expected_objects ? cfg.expected_objects : cfg.capacity_bytes;
    const uint64_t cap = uint64_t{1} << 20;
    return (n > cap ? cap : n) * per_object;
}

class Policy {
  public:
    explicit Policy(const PolicyConfig &cfg) : cfg_(cfg) {}
    virtual ~Policy() = default;
    Policy(const Policy &) = delete;
    Policy &operator=(const Policy &) = delete;

    // Returns true on hit. On a miss the object is admitted (unless too big
    // or filtered), evicting others first when auto_evict is on.
    virtual bool access(const Request &req) = 0;
    bool access(uint64_t key, uint32_t size) { return access(Request{key, size, kNeverAgain}); }

    virtual bool contains(uint64_t key) const = 0;
    // Would access(req) admit this key if it missed now? Asked before new
    // content takes room it cannot give back cheaply (a chunk pulled from an
    // origin and written to disk). Changes no state a later access() depends
    // on, so the answer and that access's decision agree. Only admission
    // filters (TinyLFU) ever say no.
    virtual bool would_admit(const Request &req) {
        (void)req;
        return true;
    }
    // Drops a key without calling the handler (the store lost it on its own).
    virtual bool erase(uint64_t key) = 0;
    // Evicts until used_bytes() <= target or every resident key was refused
    // once in this call. Returns bytes evicted.
    virtual uint64_t evict_to(uint64_t target_bytes) = 0;
    // Hint for replay loops: warm the cache line a future access will touch.
    virtual void prefetch(uint64_t) const {}

    virtual std::string name() const = 0;
    virtual uint64_t used_bytes() const = 0;
    virtual uint64_t objects() const = 0;

    uint64_t capacity() const { return cfg_.capacity_bytes; }
    // Virtual so wrappers (admission filters) can forward to the inner policy.
    virtual PolicyStats stats() const { return stats_; }
    virtual void set_handler(EvictionHandler *h) { handler_ = h; }

  protected:
    // Asks the handler; no handler means everything may go.
    bool may_evict(uint64_t key, uint32_t size) {
        if (handler_ == nullptr || handler_->try_evict(key, size)) {
            ++stats_.evictions;
            return true;
        }
        ++stats_.evictions_skipped;
        return false;
    }

    PolicyConfig cfg_;
    PolicyStats stats_;
    EvictionHandler *handler_ = nullptr;
};

}  // namespace ep::cache
