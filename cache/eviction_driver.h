// The DPDK-free half of the daemon's cache keeper.
//
// The policy mirrors the store's RAM tier exactly: resident() when a chunk
// is linked in RAM (ingest or promotion), gone() when it leaves for any
// reason (evicted, removed, replaced, corrupt). Access records only touch
// what is tracked, so tracked bytes always equal what the store holds.
//
// Two ways to evict, both chosen by the policy, both a bounded number of
// victims:
//  - watermark runs (stores with a disk tier, where RAM eviction only drops
//    a copy): when tracked bytes cross the high watermark, down to the low.
//  - make_room(): some work needs RAM now (an ingest into a RAM-only store,
//    promotions waiting for a slot); evict just that much.
// A victim the store refuses (pinned by an in-flight send, or freshly
// ingested) stays; freshly ingested ones go only when nothing else can.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cache/policy.h"

namespace ep::cache {

enum class AccessKind : uint8_t {
    ram_miss = 0,  // the chunk had to be brought in from disk
    hit = 1,       // served from RAM
    absent = 2,    // a request for an object the store does not hold (key = object id)
};

struct AccessRecord {
    uint64_t key = 0;
    uint32_t bytes = 0;
    AccessKind kind = AccessKind::hit;
};

enum class Refusal : uint8_t { none, pinned, fresh, absent };

// Implemented by the chunk store glue in control/.
class StoreEvictor {
  public:
    virtual ~StoreEvictor() = default;
    // Drop the chunk (or, in a RAM-only store, its whole object), or say why
    // not. `allow_fresh`: freshly ingested content may go too.
    virtual Refusal try_evict(uint64_t key, bool allow_fresh) = 0;
};

struct DriverConfig {
    std::string policy = "default";
    uint64_t high_watermark_bytes = 0;
    uint64_t low_watermark_bytes = 0;
    // Size the policy is built for (S3-FIFO's queue split is relative to it):
    // the high watermark where watermark runs apply, else the whole tier.
    uint64_t policy_capacity_bytes = 0;
    bool watermark_runs = true;     // false for RAM-only stores (eviction deletes)
    uint64_t expected_objects = 0;  // sketch sizing hint (see PolicyConfig)
    // A chunk the policy declined stays this long (clock of set_now) before
    // its RAM copy is dropped, so the response that waited for it (an origin
    // fill) pins it first; dropped at once it was fetched again, and again.
    uint64_t orphan_grace_ns = 0;
};

struct DriverCounters {
    uint64_t hits = 0;        // chunk starts served from RAM
    uint64_t ram_misses = 0;  // chunk starts that waited for a disk read
    uint64_t misses = 0;      // requests for objects the store does not hold
    uint64_t bytes_hit = 0;
    uint64_t fills = 0;  // chunks that entered RAM (ingest, promotion)
    uint64_t bytes_filled = 0;
    uint64_t evictions = 0;  // victims the policy chose and the store dropped
    uint64_t evictions_skipped_pinned = 0;
    uint64_t evictions_skipped_fresh = 0;
    uint64_t eviction_runs = 0;       // watermark runs
    uint64_t room_runs = 0;           // make_room() calls that evicted something
    uint64_t not_admitted = 0;        // filled, but the policy declined to keep it
    uint64_t admission_declined = 0;  // admit() said no (origin fills: not written to disk)
    uint64_t stale_victims = 0;       // a victim the store no longer had (a bug if it moves)
};

// What one run removed, for the log.
struct RunReport {
    uint64_t victims = 0, bytes_before = 0, bytes_after = 0;
    uint64_t skipped_pinned = 0, skipped_fresh = 0;
};

class EvictionDriver {
  public:
    // Throws std::invalid_argument on an unknown policy or bad watermarks.
    EvictionDriver(const DriverConfig &cfg, StoreEvictor &store);
    ~EvictionDriver();

    // The store's RAM tier changed.
    void resident(uint64_t key, uint32_t bytes);
    void gone(uint64_t key);
    // Would the policy keep this chunk if it were linked now (admission)?
    // Counted in `admission_declined` when not.
    bool admit(uint64_t key, uint32_t bytes);
    // An access seen by a data core.
    void record(const AccessRecord &rec);
    void record(std::span<const AccessRecord> recs) {
        for (const auto &r : recs) record(r);
    }
    // The keeper's clock (monotonic ns), for orphan_grace_ns.
    void set_now(uint64_t now_ns) { now_ns_ = now_ns; }
    // A watermark run if over the high watermark; returns true if it ran.
    bool maybe_evict(RunReport *rep = nullptr);
    // Evicts victims until `bytes` have gone or nothing more can; returns
    // the bytes freed. Fresh content goes only when nothing else can.
    uint64_t make_room(uint64_t bytes, RunReport *rep = nullptr);

    const DriverCounters &counters() const { return counters_; }
    uint64_t tracked_bytes() const { return policy_->used_bytes(); }
    uint64_t tracked_objects() const { return policy_->objects(); }
    const Policy &policy() const { return *policy_; }
    const DriverConfig &config() const { return cfg_; }

  private:
    class Handler;
    uint64_t evict_down_to(uint64_t target, bool allow_fresh, RunReport *rep);
    void apply_gone();

    DriverConfig cfg_;
    StoreEvictor &store_;
    std::unique_ptr<Handler> handler_;
    std::unique_ptr<Policy> policy_;
    DriverCounters counters_;
    bool evicting_ = false;
    std::vector<uint64_t> gone_;  // left RAM while the policy was mid-eviction
    struct Orphan {
        uint64_t key, since_ns, bytes;
    };
    std::vector<Orphan> orphans_;  // not admitted: dropped after the grace, once unpinned
    uint64_t now_ns_ = 0;
};

}  // namespace ep::cache
