// The control thread's cache keeper: drains every data lcore's access ring,
// replays the records through the configured policy (cache/), and evicts
// chunks from the store's RAM tier when its usage crosses the high watermark,
// down to the low one. Pinned chunks are skipped and retried later.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cache/eviction_driver.h"
#include "chunkstore/store.h"
#include "control/stats.h"
#include "dataplane/access_log.h"

namespace ep {

struct CacheControlConfig {
    std::string policy = "default";
    unsigned high_pct = 90;  // of the RAM tier
    unsigned low_pct = 80;
};

class CacheControl final : public cache::StoreEvictor {
public:
    CacheControl(chunkstore::Store &store, const CacheControlConfig &cfg);
    void add_log(AccessLog *log) { logs_.push_back(log); }
    // Drains the rings; returns how many records it consumed.
    unsigned poll();
    // Chunks placed in RAM outside the access path (ingest) enter the policy
    // as fills, so they can be evicted like everything else.
    void note_resident_chunks();
    StatsSection stats() const;

    bool try_evict(uint64_t key) override { return store_.try_evict(key); }

private:
    chunkstore::Store &store_;
    std::unique_ptr<cache::EvictionDriver> driver_;
    std::vector<AccessLog *> logs_;
    uint64_t fills_ = 0;
};

}  // namespace ep
