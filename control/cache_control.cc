#include "control/cache_control.h"


namespace ep {

CacheControl::CacheControl(chunkstore::Store &store, const CacheControlConfig &cfg) : store_(store) {
    const uint64_t cap = store.usage().ram_capacity_bytes;
    cache::DriverConfig dc;
    dc.policy = cfg.policy;
    dc.high_watermark_bytes = cap / 100 * cfg.high_pct;
    dc.low_watermark_bytes = cap / 100 * cfg.low_pct;
    dc.expected_objects = cap / chunkstore::kChunkSize;  // the policy tracks chunks
    driver_ = std::make_unique<cache::EvictionDriver>(dc, *this);  // throws on a bad policy
}

unsigned CacheControl::poll() {
    AccessRec batch[256];
    unsigned total = 0;
    for (AccessLog *log : logs_) {
        for (unsigned n; (n = log->drain(batch, 256)) > 0;) {
            for (unsigned i = 0; i < n; ++i)
                driver_->record({batch[i].key, batch[i].bytes, batch[i].hit != 0});
            total += n;
            if (total > 65536) return total;  // leave time for the rest of the control loop
        }
    }
    return total;
}

void CacheControl::note_resident_chunks() {
    uint32_t cursor = 0;
    chunkstore::ChunkKey key;
    chunkstore::Chunk *chunk;
    while (store_.next_resident(&cursor, &key, &chunk)) {
        if (driver_->policy().contains(key)) continue;
        driver_->record({key, chunk->len, false});
        ++fills_;
    }
}

StatsSection CacheControl::stats() const {
    const cache::DriverCounters &c = driver_->counters();
    return {"cache",
            {{"hits", c.hits},
             {"misses", c.misses - std::min(c.misses, fills_)},
             {"fills", fills_},
             {"bytes_served_from_cache", c.bytes_hit},
             {"bytes_missed", c.bytes_missed},
             {"evictions", c.evictions},
             {"evictions_skipped_pinned", c.evictions_skipped},
             {"eviction_runs", c.eviction_runs},
             {"not_admitted", c.not_admitted},
             {"tracked_bytes", driver_->tracked_bytes()}}};
}

}  // namespace ep
