// The control thread's cache keeper. It mirrors the chunk store's RAM tier
// in the configured policy (cache/) through the store's RamObserver calls,
// replays every data lcore's access ring into it, and evicts:
//  - with a disk tier, when RAM use crosses the high watermark, down to the
//    low one (only RAM copies go; the disk keeps the content);
//  - in a RAM-only store, where evicting deletes content, only to make room
//    that new content needs, in whole objects;
//  - in both, on demand when promotions wait for a free slot.
// Pinned chunks are skipped and retried later; freshly ingested objects are
// skipped while anything else can go. Every run is logged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/eviction_driver.h"
#include "chunkstore/store.h"
#include "control/stats.h"
#include "dataplane/access_log.h"
#include "dataplane/service.h"

namespace ep {

struct CacheControlConfig {
    std::string policy = "default";
    unsigned high_pct = 90;  // of the RAM tier
    unsigned low_pct = 80;
    unsigned fresh_s = 60;  // an object ingested this recently is evicted last
};

class CacheControl final : public cache::StoreEvictor, public chunkstore::RamObserver {
  public:
    CacheControl(chunkstore::Store &store, const CacheControlConfig &cfg);
    ~CacheControl() override;
    // Live reload: a new policy and watermarks. The new policy is seeded
    // with every resident chunk (its ranking starts afresh); the counters
    // carry on. False with *err (a policy the factory refuses): unchanged.
    bool reconfigure(const CacheControlConfig &cfg, std::string *err);
    const CacheControlConfig &config() const { return cfg_; }
    void add_log(AccessLog *log) { logs_.push_back(log); }
    // Drains the rings and runs a watermark eviction if one is due; returns
    // how many records it consumed.
    unsigned poll();
    StatsSection stats() const;  // `edgectl stats cache`, from visit_counters
    // Every counter and gauge with its help text (/metrics, telemetry).
    void visit_counters(const CounterVisitor &fn) const;
    uint64_t tracked_bytes() const { return driver_->tracked_bytes(); }

    // cache::StoreEvictor
    cache::Refusal try_evict(uint64_t key, bool allow_fresh) override;
    // chunkstore::RamObserver
    void chunk_linked(const chunkstore::Chunk &c, bool promoted) override;
    void chunk_unlinked(chunkstore::ChunkKey key) override;
    void need_ram(uint32_t slots, chunkstore::ObjectId keep) override;
    bool admit_fill(chunkstore::ChunkKey key) override;
    void fill_record_added(chunkstore::ChunkKey key) override;
    void disk_record_dropped(chunkstore::ChunkKey key) override;
    void need_disk(uint32_t slots) override;
    uint64_t disk_tracked_chunks() const { return disk_ ? disk_->tracked_objects() : 0; }

  private:
    // The disk tier's victims: records of filled chunks only (an ingested
    // object has no origin to refetch it from), dropped through
    // Store::evict_fill_record; the RAM copy stays.
    class DiskEvictor final : public cache::StoreEvictor {
      public:
        explicit DiskEvictor(chunkstore::Store &s) : store_(s) {}
        cache::Refusal try_evict(uint64_t key, bool) override;

      private:
        chunkstore::Store &store_;
    };
    std::unique_ptr<cache::EvictionDriver> make_disk_driver(const CacheControlConfig &cfg);
    // Frees disk slots down to the low watermark (at least `slots`).
    void evict_disk(uint32_t slots, const char *why);
    bool fresh(chunkstore::ObjectId oid, uint64_t now) const;
    void log_run(const char *why, const cache::RunReport &r);

    chunkstore::Store &store_;
    CacheControlConfig cfg_;
    const bool ram_only_;
    std::unique_ptr<cache::EvictionDriver> make_driver(const CacheControlConfig &cfg) const;
    std::unique_ptr<cache::EvictionDriver> driver_;
    DiskEvictor disk_evictor_{store_};
    // Ranks the filled records on disk with the same policy (its admission
    // filter left out: admit_fill already decided which fills get a record).
    std::unique_ptr<cache::EvictionDriver> disk_;
    uint64_t disk_low_slots_ = 0, disk_high_slots_ = 0;
    uint64_t disk_runs_ = 0, disk_victims_ = 0, disk_skipped_busy_ = 0, disk_stale_ = 0;
    cache::DriverCounters retired_{};  // counted by drivers a reload replaced
    uint64_t reconfigures_ = 0;
    std::string policy_label_;  // "policy.NAME": the cache section's info gauge
    std::vector<AccessLog *> logs_;
    std::unordered_map<chunkstore::ObjectId, uint64_t> ingested_ns_;  // recent ingests
    chunkstore::ObjectId keep_ = 0;  // the object an ingest is writing
    uint64_t object_evictions_ = 0;
    uint64_t next_prune_ns_ = 0;
    // Promotion-driven room runs are frequent under load: logged as a
    // summary at most once a second.
    cache::RunReport room_acc_{};
    uint64_t room_acc_runs_ = 0, next_room_log_ns_ = 0;
};

}  // namespace ep
