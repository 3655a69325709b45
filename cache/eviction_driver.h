// The DPDK-free half of the daemon's eviction loop.
//
// The control thread drains per-core access rings into record(); the driver
// replays them through the policy (which only tracks, never evicts on its
// own) and, when tracked bytes cross the high watermark, evicts down to the
// low watermark through the store. The store may refuse a key (pinned by an
// in-flight send): the policy keeps it and retries it on a later run.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cache/policy.h"

namespace ep::cache {

struct AccessRecord {
    uint64_t key = 0;
    uint32_t bytes = 0;
    bool hit = false;  // as seen by the store
};

// Implemented by the chunk store glue in control/.
class StoreEvictor {
  public:
    virtual ~StoreEvictor() = default;
    // Drop the object; false when pinned (it stays, retried later).
    virtual bool try_evict(uint64_t key) = 0;
};

struct DriverConfig {
    std::string policy = "default";
    uint64_t high_watermark_bytes = 0;
    uint64_t low_watermark_bytes = 0;
    uint64_t expected_objects = 0;  // sketch sizing hint (see PolicyConfig)
};

struct DriverCounters {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t bytes_hit = 0;  // served from cache
    uint64_t bytes_missed = 0;
    uint64_t evictions = 0;
    uint64_t evictions_skipped = 0;  // store refused: pinned
    uint64_t eviction_runs = 0;
    uint64_t not_admitted = 0;  // fetched but the policy declined to keep it
};

class EvictionDriver {
  public:
    // Throws std::invalid_argument on an unknown policy or bad watermarks.
    EvictionDriver(const DriverConfig &cfg, StoreEvictor &store);
    ~EvictionDriver();

    void record(const AccessRecord &rec);
    void record(std::span<const AccessRecord> recs) {
        for (const auto &r : recs) record(r);
    }
    // Runs an eviction pass if over the high watermark (also called by record).
    void maybe_evict();

    const DriverCounters &counters() const { return counters_; }
    uint64_t tracked_bytes() const { return policy_->used_bytes(); }
    const Policy &policy() const { return *policy_; }

  private:
    class Handler;

    DriverConfig cfg_;
    StoreEvictor &store_;
    std::unique_ptr<Handler> handler_;
    std::unique_ptr<Policy> policy_;
    DriverCounters counters_;
    std::vector<uint64_t> orphans_;  // not admitted and pinned at the time
};

}  // namespace ep::cache
