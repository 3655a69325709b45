#include "control/cache_control.h"

#include <time.h>

#include <algorithm>

#include "control/log.h"

namespace ep {

namespace {
uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}
constexpr uint64_t kSlot = chunkstore::kChunkSize;
}  // namespace

// The policy counts RAM slots (every chunk weighs one 256 KiB slot, a short
// last chunk too), the unit the store allocates in: the watermarks and the
// "RAM tier full" check then count the same thing.
CacheControl::CacheControl(chunkstore::Store &store, const CacheControlConfig &cfg)
    : store_(store), cfg_(cfg), ram_only_(!store.has_disk()) {
    driver_ = make_driver(cfg);  // throws on a bad policy
    disk_ = make_disk_driver(cfg);
    policy_label_ = "policy." + driver_->policy().name();
    store_.set_observer(this);
}

std::unique_ptr<cache::EvictionDriver> CacheControl::make_driver(const CacheControlConfig &cfg) const {
    const uint64_t cap = uint64_t{store_.ram_slots()} * kSlot;
    cache::DriverConfig dc;
    dc.policy = cfg.policy;
    dc.high_watermark_bytes = cap / 100 * cfg.high_pct / kSlot * kSlot;
    dc.low_watermark_bytes = cap / 100 * cfg.low_pct / kSlot * kSlot;
    if (dc.high_watermark_bytes == 0) dc.high_watermark_bytes = kSlot;
    if (dc.low_watermark_bytes > dc.high_watermark_bytes)
        dc.low_watermark_bytes = dc.high_watermark_bytes;
    dc.watermark_runs = !ram_only_;
    // RAM-only: the policy ranks all of RAM and must admit every fill.
    dc.policy_capacity_bytes = ram_only_ ? cap : dc.high_watermark_bytes;
    dc.expected_objects = store_.ram_slots();
    // A declined origin chunk is kept 200 ms so the responses woken by its
    // arrival pin it before it goes (they pin within a loop turn or two).
    dc.orphan_grace_ns = 200'000'000;
    auto d = std::make_unique<cache::EvictionDriver>(dc, *const_cast<CacheControl *>(this));
    // Whatever is resident already (nothing, for a freshly opened store).
    uint32_t cursor = 0;
    chunkstore::ChunkKey key;
    chunkstore::Chunk *chunk;
    while (store_.next_resident(&cursor, &key, &chunk)) d->resident(key, kSlot);
    return d;
}

// The disk tier's ranking (issue 14): every record of a filled chunk, in the
// configured policy's order, fed by the same access records as RAM (a hit on
// a chunk touches its record too). The unit is one record slot (268 KiB on
// disk, counted as 256 KiB here like a RAM slot: only the count matters).
std::unique_ptr<cache::EvictionDriver> CacheControl::make_disk_driver(
    const CacheControlConfig &cfg) {
    if (!store_.has_disk() || store_.disk_slots() == 0) return nullptr;
    const uint64_t slots = store_.disk_slots();
    disk_high_slots_ = std::max<uint64_t>(1, slots * cfg.high_pct / 100);
    disk_low_slots_ = std::min<uint64_t>(disk_high_slots_, slots * cfg.low_pct / 100);
    cache::DriverConfig dc;
    // TinyLFU already chose which fills get a record (admit_fill); a second
    // filter here would only decline records that are on disk already.
    dc.policy = cfg.policy;
    if (dc.policy.rfind("tinylfu+", 0) == 0) dc.policy = dc.policy.substr(8);
    dc.high_watermark_bytes = slots * kSlot;
    dc.low_watermark_bytes = slots * kSlot;
    dc.policy_capacity_bytes = slots * kSlot;
    dc.watermark_runs = false;  // runs are started by the disk's use, ingests included
    dc.expected_objects = slots;
    auto d = std::make_unique<cache::EvictionDriver>(dc, disk_evictor_);
    store_.for_each_fill_record([&](chunkstore::ChunkKey k) { d->resident(k, kSlot); });
    return d;
}

cache::Refusal CacheControl::DiskEvictor::try_evict(uint64_t key, bool) {
    switch (store_.evict_fill_record(key)) {
        case chunkstore::EvictResult::evicted:
            return cache::Refusal::none;
        case chunkstore::EvictResult::pinned:
            return cache::Refusal::pinned;  // a promotion is reading it
        case chunkstore::EvictResult::absent:
            break;
    }
    return cache::Refusal::absent;
}

void CacheControl::fill_record_added(chunkstore::ChunkKey key) {
    if (disk_) disk_->resident(key, kSlot);
}

void CacheControl::disk_record_dropped(chunkstore::ChunkKey key) {
    if (disk_) disk_->gone(key);
}

void CacheControl::need_disk(uint32_t slots) {
    evict_disk(slots, "room for filled chunks");
}

void CacheControl::evict_disk(uint32_t slots, const char *why) {
    if (!disk_) return;
    const uint64_t total = store_.disk_slots();
    const uint64_t used = total - store_.disk_free_slots();
    // Down to the low watermark, and at least `slots` free.
    const uint64_t target = std::min<uint64_t>(disk_low_slots_, total > slots ? total - slots : 0);
    if (used <= target) return;
    const uint64_t stale_before = disk_->counters().stale_victims;
    cache::RunReport r;
    disk_->make_room((used - target) * kSlot, &r);
    ++disk_runs_;
    disk_victims_ += r.victims;
    disk_skipped_busy_ += r.skipped_pinned;
    disk_stale_ += disk_->counters().stale_victims - stale_before;
    EP_LOG(NOTICE,
           "cache: disk run (%s): %llu filled records dropped, disk %llu -> %llu of %llu slots "
           "(low %llu), %llu skipped busy",
           why, static_cast<unsigned long long>(r.victims), static_cast<unsigned long long>(used),
           static_cast<unsigned long long>(total - store_.disk_free_slots()),
           static_cast<unsigned long long>(total), static_cast<unsigned long long>(disk_low_slots_),
           static_cast<unsigned long long>(r.skipped_pinned));
}

bool CacheControl::reconfigure(const CacheControlConfig &cfg, std::string *err) {
    std::unique_ptr<cache::EvictionDriver> d;
    try {
        d = make_driver(cfg);
    } catch (const std::exception &e) {
        *err = e.what();
        return false;
    }
    // Runs on the control thread, like every RamObserver call: nothing is
    // linked or unlinked between the seeding above and the swap.
    const cache::DriverCounters &o = driver_->counters();
    cache::DriverCounters &r = retired_;
    r.hits += o.hits, r.ram_misses += o.ram_misses, r.misses += o.misses;
    r.bytes_hit += o.bytes_hit, r.fills += o.fills, r.bytes_filled += o.bytes_filled;
    r.evictions += o.evictions, r.evictions_skipped_pinned += o.evictions_skipped_pinned;
    r.evictions_skipped_fresh += o.evictions_skipped_fresh, r.eviction_runs += o.eviction_runs;
    r.room_runs += o.room_runs, r.not_admitted += o.not_admitted;
    r.stale_victims += o.stale_victims;
    r.admission_declined += o.admission_declined;
    driver_ = std::move(d);
    disk_ = make_disk_driver(cfg);
    policy_label_ = "policy." + driver_->policy().name();
    cfg_ = cfg;
    ++reconfigures_;
    return true;
}

CacheControl::~CacheControl() {
    store_.set_observer(nullptr);
}

unsigned CacheControl::poll() {
    AccessRec batch[256];
    unsigned total = 0;
    for (AccessLog *log : logs_) {
        for (unsigned n; (n = log->drain(batch, 256)) > 0;) {
            for (unsigned i = 0; i < n; ++i) {
                const auto kind = static_cast<cache::AccessKind>(batch[i].hit);
                driver_->record({batch[i].key, batch[i].bytes, kind});
                // Served from RAM or brought in from disk, it is an access
                // to the chunk's disk record too.
                if (disk_ && kind != cache::AccessKind::absent)
                    disk_->record({batch[i].key, batch[i].bytes, cache::AccessKind::hit});
            }
            total += n;
            if (total > 65536) break;  // leave time for the rest of the control loop
        }
    }
    cache::RunReport r;
    const uint64_t now = now_ns();
    driver_->set_now(now);
    if (driver_->maybe_evict(&r)) log_run("watermark run", r);
    // Filled chunks wait for a record and the disk is past its high
    // watermark: make room before the writes find it full.
    if (disk_ && store_.fill_writes_pending() &&
        store_.disk_slots() - store_.disk_free_slots() > disk_high_slots_)
        evict_disk(1, "high watermark");
    if (room_acc_runs_ && now >= next_room_log_ns_) {
        log_run("room for promotions", room_acc_);
        room_acc_ = {};
        room_acc_runs_ = 0;
        next_room_log_ns_ = now + 1'000'000'000ull;
    }
    if (now >= next_prune_ns_) {
        next_prune_ns_ = now + 1'000'000'000ull;
        std::erase_if(ingested_ns_, [&](const auto &e) { return !fresh(e.first, now); });
    }
    return total;
}

bool CacheControl::fresh(chunkstore::ObjectId oid, uint64_t now) const {
    auto it = ingested_ns_.find(oid);
    return it != ingested_ns_.end() && now - it->second < uint64_t{cfg_.fresh_s} * 1'000'000'000ull;
}

cache::Refusal CacheControl::try_evict(uint64_t key, bool allow_fresh) {
    const chunkstore::Chunk *c = store_.resident_chunk(key);
    if (!c) return cache::Refusal::absent;
    const chunkstore::ObjectId oid = c->oid;
    if (oid == keep_) return cache::Refusal::fresh;
    if (!allow_fresh && fresh(oid, now_ns())) return cache::Refusal::fresh;
    std::string name;
    uint32_t nchunks = 0;
    bool whole = ram_only_;
    if (ram_only_) {
        if (const chunkstore::ObjectMeta *m = store_.object_by_id(oid)) {
            name.assign(m->name_view());
            nchunks = m->chunk_count;
            whole = !m->filled;  // a filled object loses only this chunk (fetched again)
        }
    }
    switch (store_.evict(key)) {
        case chunkstore::EvictResult::pinned:
            return cache::Refusal::pinned;
        case chunkstore::EvictResult::absent:
            return cache::Refusal::absent;
        case chunkstore::EvictResult::evicted:
            break;
    }
    if (whole) {
        ++object_evictions_;
        ingested_ns_.erase(oid);
        EP_LOG(NOTICE, "cache: evicted %s (%u chunks; RAM-only store: the object is deleted)",
               name.c_str(), nchunks);
    }
    return cache::Refusal::none;
}

void CacheControl::chunk_linked(const chunkstore::Chunk &c, bool promoted) {
    driver_->set_now(now_ns());
    // Only an operator's ingest is protected as fresh: chunks pulled from an
    // origin are ranked by the policy alone, else a scan of one-hit objects
    // (all "fresh") would make the hot set the only victims (issue 14).
    if (!promoted && c.index == 0) {
        const chunkstore::ObjectMeta *m = store_.object_by_id(c.oid);
        if (!m || !m->filled) ingested_ns_[c.oid] = now_ns();
    }
    driver_->resident(c.key, kSlot);
}

bool CacheControl::admit_fill(chunkstore::ChunkKey key) {
    // A RAM-only store's policy must admit every fill (it is sized to the
    // whole tier); the question only decides disk records there is none of.
    return ram_only_ || driver_->admit(key, kSlot);
}

void CacheControl::chunk_unlinked(chunkstore::ChunkKey key) {
    driver_->gone(key);
}

void CacheControl::need_ram(uint32_t slots, chunkstore::ObjectId keep) {
    keep_ = keep;
    cache::RunReport r;
    // Slots already unlinked come back after the grace period; an ingest
    // counts them before asking for more.
    if (keep != 0) {
        const uint32_t before = store_.ram_free_slots();
        store_.synchronize();
        const uint32_t back = store_.ram_free_slots() - before;
        slots = back >= slots ? 0 : slots - back;
    }
    if (slots) driver_->make_room(uint64_t{slots} * kSlot, &r);
    if (keep != 0) store_.synchronize();  // data cores pass a quiescent state every loop
    keep_ = 0;
    if (keep != 0 || ram_only_) {
        log_run("room for an ingest", r);
    } else {
        room_acc_.victims += r.victims;
        room_acc_.skipped_pinned += r.skipped_pinned;
        room_acc_.skipped_fresh += r.skipped_fresh;
        if (room_acc_runs_++ == 0) room_acc_.bytes_before = r.bytes_before;
        room_acc_.bytes_after = r.bytes_after;
    }
}

void CacheControl::log_run(const char *why, const cache::RunReport &r) {
    EP_LOG(NOTICE,
           "cache: %s: %llu victims, RAM tracked %llu -> %llu chunks (high %llu, low %llu), "
           "%llu skipped pinned, %llu skipped fresh",
           why, static_cast<unsigned long long>(r.victims),
           static_cast<unsigned long long>(r.bytes_before / kSlot),
           static_cast<unsigned long long>(r.bytes_after / kSlot),
           static_cast<unsigned long long>(driver_->config().high_watermark_bytes / kSlot),
           static_cast<unsigned long long>(driver_->config().low_watermark_bytes / kSlot),
           static_cast<unsigned long long>(r.skipped_pinned),
           static_cast<unsigned long long>(r.skipped_fresh));
}

void CacheControl::visit_counters(const CounterVisitor &fn) const {
    const cache::DriverCounters &d = driver_->counters();
    const cache::DriverCounters &b = retired_;
    cache::DriverCounters c = d;
    c.hits += b.hits, c.ram_misses += b.ram_misses, c.misses += b.misses;
    c.bytes_hit += b.bytes_hit, c.fills += b.fills, c.evictions += b.evictions;
    c.evictions_skipped_pinned += b.evictions_skipped_pinned;
    c.evictions_skipped_fresh += b.evictions_skipped_fresh, c.eviction_runs += b.eviction_runs;
    c.room_runs += b.room_runs, c.not_admitted += b.not_admitted;
    c.stale_victims += b.stale_victims;
    c.admission_declined += b.admission_declined;
    fn({"hits", "chunk starts served from RAM", c.hits});
    fn({"ram_misses", "chunk starts that waited for a disk read", c.ram_misses});
    fn({"misses", "requests for objects the store does not hold", c.misses});
    fn({"bytes_served_from_ram", "bytes of the chunk starts served from RAM", c.bytes_hit});
    fn({"fills", "chunks that entered RAM (ingest, promotion)", c.fills});
    fn({"evictions", "victims the policy chose and the store dropped", c.evictions});
    fn({"object_evictions", "objects deleted to make room (RAM-only store)", object_evictions_});
    fn({"evictions_skipped_pinned", "victims skipped: pinned by a response in flight",
        c.evictions_skipped_pinned});
    fn({"evictions_skipped_fresh", "victims skipped: ingested within the last minute",
        c.evictions_skipped_fresh});
    fn({"eviction_runs", "watermark eviction runs", c.eviction_runs});
    fn({"room_runs", "runs that evicted to make room for new content", c.room_runs});
    fn({"not_admitted", "chunks filled that the policy declined to keep", c.not_admitted});
    fn({"admission_declined",
        "origin chunks the policy would not keep (served, never written to disk)",
        c.admission_declined});
    fn({"stale_victims", "victims the store no longer had (a bug if it moves)", c.stale_victims});
    fn({"tracked_bytes", "bytes the policy tracks (equal to the RAM tier's resident chunks)",
        driver_->tracked_bytes(), true});
    fn({"tracked_chunks", "chunks the policy tracks", driver_->tracked_objects(), true});
    fn({"high_watermark_bytes", "RAM use that starts an eviction run",
        driver_->config().high_watermark_bytes, true});
    fn({"low_watermark_bytes", "RAM use an eviction run stops at",
        driver_->config().low_watermark_bytes, true});
    fn({"reconfigures", "policy or watermark changes applied by a reload", reconfigures_});
    fn({"disk_eviction_runs", "runs that dropped filled records to make room on the disk tier",
        disk_runs_});
    fn({"disk_evictions", "disk records of filled chunks dropped (RAM copies stay)",
        disk_victims_});
    fn({"disk_evictions_skipped_busy", "disk victims skipped: a promotion was reading them",
        disk_skipped_busy_});
    fn({"disk_stale_victims", "disk victims the store no longer had (a bug if it moves)",
        disk_stale_});
    fn({"disk_tracked_chunks", "filled records the disk ranking tracks", disk_tracked_chunks(),
        true});
    fn({"disk_high_watermark_bytes", "disk use (record slots) that starts a disk run",
        disk_high_slots_ * chunkstore::kRecordSize, true});
    fn({"disk_low_watermark_bytes", "disk use a disk run stops at",
        disk_low_slots_ * chunkstore::kRecordSize, true});
    // The policy in force as policy{reason="NAME"} 1 (an info-style gauge).
    fn({policy_label_, "the eviction policy in force (value 1)", 1, true});
}

StatsSection CacheControl::stats() const {
    StatsSection sec{"cache", {}};
    visit_counters([&](const CounterRef &c) { sec.values.emplace_back(std::string(c.name), c.value); });
    return sec;
}

}  // namespace ep
