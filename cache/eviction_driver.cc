#include "cache/eviction_driver.h"

#include <stdexcept>

#include "cache/factory.h"

namespace ep::cache {

class EvictionDriver::Handler final : public EvictionHandler {
  public:
    Handler(StoreEvictor &store, DriverCounters &c) : store_(store), c_(c) {}
    bool try_evict(uint64_t key, uint32_t) override {
        if (store_.try_evict(key)) {
            ++c_.evictions;
            return true;
        }
        ++c_.evictions_skipped;
        return false;
    }

  private:
    StoreEvictor &store_;
    DriverCounters &c_;
};

EvictionDriver::EvictionDriver(const DriverConfig &cfg, StoreEvictor &store)
    : cfg_(cfg), store_(store), handler_(std::make_unique<Handler>(store, counters_)) {
    if (cfg.high_watermark_bytes == 0 || cfg.low_watermark_bytes > cfg.high_watermark_bytes)
        throw std::invalid_argument("eviction driver: need 0 < low <= high watermark");
    if (needs_future(cfg.policy))
        throw std::invalid_argument("eviction driver: '" + cfg.policy + "' is an offline policy");
    PolicyConfig pc;
    // Sized at the high watermark so S3-FIFO's small/main/ghost split is
    // relative to what the store holds at most.
    pc.capacity_bytes = cfg.high_watermark_bytes;
    pc.auto_evict = false;
    pc.expected_objects = cfg.expected_objects;
    policy_ = make_policy(cfg.policy, pc);
    if (!policy_)
        throw std::invalid_argument("eviction driver: unknown policy '" + cfg.policy + "'");
    policy_->set_handler(handler_.get());
}

EvictionDriver::~EvictionDriver() = default;

void EvictionDriver::record(const AccessRecord &rec) {
    if (rec.hit) {
        ++counters_.hits;
        counters_.bytes_hit += rec.bytes;
    } else {
        ++counters_.misses;
        counters_.bytes_missed += rec.bytes;
        // The store lost it behind our back (e.g. a checksum failure); the
        // policy's copy of its history is stale, start it afresh.
        policy_->erase(rec.key);
    }
    policy_->access(rec.key, rec.bytes);
    if (!rec.hit && !policy_->contains(rec.key)) {
        // The store already ingested it but the policy won't keep it.
        ++counters_.not_admitted;
        if (!handler_->try_evict(rec.key, rec.bytes)) orphans_.push_back(rec.key);
    }
    maybe_evict();
}

void EvictionDriver::maybe_evict() {
    if (policy_->used_bytes() <= cfg_.high_watermark_bytes && orphans_.empty()) return;
    // Orphans were pinned when we first tried; try again now.
    size_t kept = 0;
    for (uint64_t key : orphans_)
        if (!policy_->contains(key) && !handler_->try_evict(key, 0)) orphans_[kept++] = key;
    orphans_.resize(kept);
    if (policy_->used_bytes() <= cfg_.high_watermark_bytes) return;
    ++counters_.eviction_runs;
    policy_->evict_to(cfg_.low_watermark_bytes);
}

}  // namespace ep::cache
