#include "cache/eviction_driver.h"

#include <stdexcept>

#include "cache/factory.h"

namespace ep::cache {

class EvictionDriver::Handler final : public EvictionHandler {
  public:
    Handler(StoreEvictor &store, DriverCounters &c) : store_(store), c_(c) {}
    bool try_evict(uint64_t key, uint32_t) override {
        switch (store_.try_evict(key, allow_fresh)) {
            case Refusal::none:
                ++c_.evictions;
                ++run.victims;
                return true;
            case Refusal::pinned:
                ++c_.evictions_skipped_pinned;
                ++run.skipped_pinned;
                return false;
            case Refusal::fresh:
                ++c_.evictions_skipped_fresh;
                ++run.skipped_fresh;
                return false;
            case Refusal::absent:
                // The store already lost it without telling us: let the
                // policy forget it rather than retry it forever.
                ++c_.stale_victims;
                return true;
        }
        return false;
    }
    bool allow_fresh = false;
    RunReport run;

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
    pc.capacity_bytes =
        cfg.policy_capacity_bytes ? cfg.policy_capacity_bytes : cfg.high_watermark_bytes;
    pc.auto_evict = false;
    pc.expected_objects = cfg.expected_objects;
    policy_ = make_policy(cfg.policy, pc);
    if (!policy_)
        throw std::invalid_argument("eviction driver: unknown policy '" + cfg.policy + "'");
    policy_->set_handler(handler_.get());
}

EvictionDriver::~EvictionDriver() = default;

void EvictionDriver::resident(uint64_t key, uint32_t bytes) {
    if (policy_->contains(key)) return;  // replaced in place: same key, same slot count
    ++counters_.fills;
    counters_.bytes_filled += bytes;
    policy_->access(key, bytes);
    if (!policy_->contains(key)) {
        // The policy won't keep it (an admission filter). With a disk tier
        // the RAM copy goes on the next run (not from inside the store's
        // own callback); in a RAM-only store it is the content and stays.
        // The policy there is sized to the whole tier, so this needs a
        // tier too small for one chunk in S3-FIFO's small queue.
        ++counters_.not_admitted;
        if (cfg_.watermark_runs) orphans_.push_back({key, now_ns_, bytes});
    }
}

bool EvictionDriver::admit(uint64_t key, uint32_t bytes) {
    if (policy_->would_admit(Request{key, bytes, kNeverAgain})) return true;
    ++counters_.admission_declined;
    return false;
}

void EvictionDriver::gone(uint64_t key) {
    if (evicting_) {
        gone_.push_back(key);  // the policy is inside evict_to(): erase after
        return;
    }
    policy_->erase(key);
}

void EvictionDriver::apply_gone() {
    for (uint64_t k : gone_) policy_->erase(k);
    gone_.clear();
}

void EvictionDriver::record(const AccessRecord &rec) {
    switch (rec.kind) {
        case AccessKind::hit:
            ++counters_.hits;
            counters_.bytes_hit += rec.bytes;
            // Only what is resident is tracked; a hit on a chunk unlinked
            // since is history the policy no longer needs.
            if (policy_->contains(rec.key)) policy_->access(rec.key, rec.bytes);
            break;
        case AccessKind::ram_miss:
            ++counters_.ram_misses;
            break;
        case AccessKind::absent:
            ++counters_.misses;
            break;
    }
}

uint64_t EvictionDriver::evict_down_to(uint64_t target, bool allow_fresh, RunReport *rep) {
    handler_->allow_fresh = allow_fresh;
    const uint64_t start = policy_->used_bytes();
    evicting_ = true;
    // One victim per step: in a RAM-only store a victim takes its whole
    // object with it, and the policy only learns that (gone) between steps,
    // so a single evict_to(target) would overshoot by whole objects.
    while (policy_->used_bytes() > target) {
        const uint64_t before = policy_->used_bytes();
        policy_->evict_to(before - 1);
        apply_gone();
        if (policy_->used_bytes() >= before) break;  // every victim refused
    }
    evicting_ = false;
    apply_gone();
    if (rep) {
        rep->victims += handler_->run.victims;
        rep->skipped_pinned += handler_->run.skipped_pinned;
        rep->skipped_fresh += handler_->run.skipped_fresh;
    }
    handler_->run = {};
    return start - policy_->used_bytes();
}

bool EvictionDriver::maybe_evict(RunReport *rep) {
    // Orphans were pinned when we first tried; try again now.
    size_t kept = 0;
    for (const Orphan &o : orphans_)
        if (!policy_->contains(o.key) && (now_ns_ - o.since_ns < cfg_.orphan_grace_ns ||
                                          store_.try_evict(o.key, true) == Refusal::pinned))
            orphans_[kept++] = o;
    orphans_.resize(kept);
    if (!cfg_.watermark_runs || policy_->used_bytes() <= cfg_.high_watermark_bytes) return false;
    ++counters_.eviction_runs;
    RunReport local;
    RunReport &r = rep ? *rep : local;
    r.bytes_before = policy_->used_bytes();
    evict_down_to(cfg_.low_watermark_bytes, false, &r);
    if (policy_->used_bytes() > cfg_.low_watermark_bytes)
        evict_down_to(cfg_.low_watermark_bytes, true, &r);
    r.bytes_after = policy_->used_bytes();
    return true;
}

uint64_t EvictionDriver::make_room(uint64_t bytes, RunReport *rep) {
    // Declined chunks go first, oldest first, grace or not: they are what the
    // policy chose not to keep, and a hot victim must not make room for them.
    uint64_t from_orphans = 0;
    size_t kept = 0;
    for (size_t i = 0; i < orphans_.size(); ++i) {
        const Orphan o = orphans_[i];
        if (from_orphans < bytes && !policy_->contains(o.key)) {
            const Refusal r = store_.try_evict(o.key, true);
            if (r == Refusal::none) from_orphans += o.bytes;
            if (r != Refusal::pinned) continue;
        }
        orphans_[kept++] = o;
    }
    orphans_.resize(kept);
    if (from_orphans >= bytes) return from_orphans;
    bytes -= from_orphans;
    const uint64_t used = policy_->used_bytes();
    const uint64_t target = used > bytes ? used - bytes : 0;
    RunReport local;
    RunReport &r = rep ? *rep : local;
    r.bytes_before = used;
    uint64_t freed = evict_down_to(target, false, &r);
    if (policy_->used_bytes() > target) freed += evict_down_to(target, true, &r);
    r.bytes_after = policy_->used_bytes();
    if (freed) ++counters_.room_runs;
    return freed + from_orphans;
}

}  // namespace ep::cache
