// Store: lifecycle, readers and RCU, the RAM tier, objects, removal.
// The disk tier (scan, writes, promotions) is in store_disk.cc.
#include "chunkstore/store.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <atomic>
#include <ctime>
#include <cstring>

#include "chunkstore/log.h"
#include "chunkstore/store_internal.h"

namespace ep::chunkstore {

// IOVA of any byte of DPDK memory (rte_malloc_virt2iova only takes the
// start of an allocation).
static rte_iova_t virt2iova(const void *p) {
    if (rte_eal_iova_mode() == RTE_IOVA_VA) return reinterpret_cast<uintptr_t>(p);
    const rte_memseg *ms = rte_mem_virt2memseg(p, nullptr);
    if (!ms || ms->iova == RTE_BAD_IOVA) return RTE_BAD_IOVA;
    return ms->iova + (reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(ms->addr));
}

std::unique_ptr<Store> Store::open(const Config &cfg, std::string *err, OpenReport *report) {
    std::unique_ptr<Store> s(new Store());
    OpenReport local;
    if (!s->init(cfg, err, report ? report : &local)) return nullptr;
    return s;
}

bool Store::init(const Config &cfg, std::string *err, OpenReport *rep) {
    cfg_ = cfg;
    // DPDK object names are global to the process: make ours unique.
    static std::atomic<uint32_t> seq{0};
    const std::string nm = cfg.name.substr(0, 12) + std::to_string(seq.fetch_add(1));
    const int sock = cfg.socket_id;

    size_t qsz = rte_rcu_qsbr_get_memsize(cfg.max_readers);
    qsbr_ =
        static_cast<rte_rcu_qsbr *>(rte_zmalloc_socket("cs_qsbr", qsz, RTE_CACHE_LINE_SIZE, sock));
    if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, cfg.max_readers) != 0) {
        *err = "rcu qsbr allocation failed";
        return false;
    }
    rc_ = static_cast<ReaderCounters *>(rte_zmalloc_socket(
        "cs_ctr", sizeof(ReaderCounters) * (cfg.max_readers + 1), RTE_CACHE_LINE_SIZE, sock));
    if (!rc_) {
        *err = "counter allocation failed";
        return false;
    }
    ctl_ = &rc_[cfg.max_readers].c;

    ram_slots_ = static_cast<uint32_t>(cfg.ram_capacity_bytes / kChunkSize);
    if (ram_slots_ > 0) {
        // 2 MiB alignment: 8 slots per 2 MiB page, so no slot straddles a
        // page and each is IOVA-contiguous even in IOVA-as-PA mode.
        slab_ = static_cast<uint8_t *>(
            rte_malloc_socket("cs_slab", size_t{ram_slots_} * kChunkSize, 2u << 20, sock));
        descs_ = static_cast<Chunk *>(
            rte_zmalloc_socket("cs_desc", sizeof(Chunk) * ram_slots_, RTE_CACHE_LINE_SIZE, sock));
        if (!slab_ || !descs_) {
            *err = "RAM tier: cannot allocate " + std::to_string(ram_slots_) +
                   " chunk slots of DPDK memory (" + rte_strerror(rte_errno) + ")";
            return false;
        }
    }
    release_ring_ = rte_ring_create(("csr" + nm).c_str(), ram_slots_ + 1, sock,
                                    RING_F_SC_DEQ | RING_F_EXACT_SZ);
    promo_ring_ =
        rte_ring_create_elem(("csp" + nm).c_str(), sizeof(PromoRequest), cfg.promotion_ring_size,
                             sock, RING_F_SC_DEQ | RING_F_EXACT_SZ);
    if (!release_ring_ || !promo_ring_) {
        *err = std::string("ring create: ") + rte_strerror(rte_errno);
        return false;
    }
    waiters_ = new Waiter[cfg.max_waiters];
    for (uint32_t i = 0; i < ram_slots_; ++i) {
        Chunk *c = &descs_[i];
        c->data = slab_ + size_t{i} * kChunkSize;
        c->iova = virt2iova(c->data);
        rte_iova_t last = virt2iova(c->data + kChunkSize - 1);
        if (c->iova == RTE_BAD_IOVA || last != c->iova + kChunkSize - 1) {
            *err = "RAM tier: slot " + std::to_string(i) + " is not IOVA-contiguous";
            return false;
        }
        c->slot = i;
        c->release_ring = release_ring_;
    }
    ram_free_.reserve(ram_slots_);
    for (uint32_t i = ram_slots_; i-- > 0;) free_ram_slot(&descs_[i]);

    // Twice the slots: cuckoo tables fill before 100%, and unlinked keys
    // keep their position until the grace period ends.
    uint32_t chunk_entries = ram_slots_ * 2 + 1024;
    if (!chunks_.create("csc" + nm, chunk_entries, sock, err)) return false;
    if (!objects_.create("cso" + nm, cfg.max_objects * 2, sock, err)) return false;

    if (!cfg.path.empty()) {
        uint64_t want = cfg.disk_capacity_bytes / kRecordSize * kRecordSize;
        disk_ = DiskFile::open(cfg.path, want, cfg.create, cfg.io_depth, cfg.force_buffered, err);
        if (!disk_) return false;
        disk_slots_ = static_cast<uint32_t>(disk_->size() / kRecordSize);
        for (uint32_t i = 0; i < cfg.io_depth; ++i) {
            auto *b = new IoBuf();
            b->mem = static_cast<uint8_t *>(std::aligned_alloc(kIoAlign, kRecordSize));
            if (!b->mem) {
                delete b;
                *err = "out of memory for I/O buffers";
                return false;
            }
            io_bufs_.push_back(b);
            io_free_.push_back(b);
        }
        if (!scan(rep, err)) return false;
    }
    return true;
}

Store::~Store() {
    // Filled chunks still queued get their records (a clean stop keeps them).
    if (disk_) drain_fill_writes();
    disk_.reset();  // waits for in-flight I/O before its buffers go away
    for (IoBuf *b : io_bufs_) {
        std::free(b->mem);
        delete b;
    }
    for (auto &d : deferred_)
        if (d.kind == DeferKind::object) delete static_cast<ObjectMeta *>(d.ptr);
    for (auto &[id, m] : objects_ctl_) delete m;
    rte_ring_free(release_ring_);
    rte_ring_free(promo_ring_);
    for (uint32_t i = 0; waiters_ && i < waiters_used_.load(); ++i) rte_ring_free(waiters_[i].ring);
    for (uint32_t i = 0; i < fill_used_.load(); ++i) rte_ring_free(fill_rings_[i]);
    delete[] waiters_;
#ifdef __SANITIZE_ADDRESS__
    if (slab_) ASAN_UNPOISON_MEMORY_REGION(slab_, size_t{ram_slots_} * kChunkSize);
    if (descs_) ASAN_UNPOISON_MEMORY_REGION(descs_, sizeof(Chunk) * ram_slots_);
#endif
    rte_free(slab_);
    rte_free(descs_);
    rte_free(rc_);
    rte_free(qsbr_);
}

// ---------------------------------------------------------------- readers

bool Store::register_reader(uint32_t tid) {
    if (tid >= cfg_.max_readers) return false;
    if (rte_rcu_qsbr_thread_register(qsbr_, tid) != 0) return false;
    rte_rcu_qsbr_thread_online(qsbr_, tid);
    return true;
}

void Store::unregister_reader(uint32_t tid) {
    rte_rcu_qsbr_thread_offline(qsbr_, tid);
    rte_rcu_qsbr_thread_unregister(qsbr_, tid);
}

const ObjectMeta *Store::lookup_object(uint32_t tid, std::string_view name) {
    ++rc_[tid].c.object_lookups;
    auto *m = static_cast<const ObjectMeta *>(objects_.lookup(object_id(name)));
    return m && m->name_view() == name ? m : nullptr;
}

bool Store::request_promotion(uint32_t tid, ChunkKey key, WaiterId waiter) {
    auto &c = rc_[tid].c;
    ++c.promotion_requests;
    PromoRequest r{key, waiter, 0};
    if (rte_ring_mp_enqueue_elem(promo_ring_, &r, sizeof r) != 0) {
        ++c.promotion_ring_full;
        return false;
    }
    return true;
}

// One SP/SC ring per waiter rather than one per reader: two services on one
// core each consume their own completions, and nothing is shared between
// consumers. Created here (not on the fast path); published by the count.
WaiterId Store::add_waiter() {
    static std::atomic<uint32_t> seq{0};
    const uint32_t id = waiters_used_.load(std::memory_order_relaxed);
    if (id >= cfg_.max_waiters) return kNoWaiter;
    const std::string nm = "csw" + cfg_.name.substr(0, 8) + std::to_string(seq.fetch_add(1));
    rte_ring *r = rte_ring_create(nm.c_str(), cfg_.waiter_ring_size, cfg_.socket_id,
                                  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
    if (!r) return kNoWaiter;
    waiters_[id].ring = r;
    waiters_used_.store(id + 1, std::memory_order_release);
    return id;
}

unsigned Store::promotions_settled(WaiterId w, ChunkKey *keys, unsigned n, bool *overflow) {
    Waiter &wt = waiters_[w];
    *overflow = wt.overflow.load(std::memory_order_relaxed) &&
                wt.overflow.exchange(false, std::memory_order_acquire);
    static_assert(sizeof(ChunkKey) == sizeof(void *));
    return rte_ring_sc_dequeue_burst(wt.ring, reinterpret_cast<void **>(keys), n, nullptr);
}

void Store::settle_waiters(ChunkKey key) {
    auto it = promo_waiters_.find(key);
    if (it == promo_waiters_.end()) return;
    for (WaiterId w : it->second) {
        Waiter &wt = waiters_[w];
        if (rte_ring_sp_enqueue(wt.ring, reinterpret_cast<void *>(key)) != 0)
            wt.overflow.store(true, std::memory_order_release);
    }
    promo_waiters_.erase(it);
}

// ---------------------------------------------------------------- RAM tier

Chunk *Store::alloc_ram() {
    if (ram_free_.empty()) drain_released();
    if (ram_free_.empty()) return nullptr;
    Chunk *c = &descs_[ram_free_.back()];
    ram_free_.pop_back();
#ifdef __SANITIZE_ADDRESS__
    ASAN_UNPOISON_MEMORY_REGION(c, sizeof(Chunk));
    ASAN_UNPOISON_MEMORY_REGION(c->data, kChunkSize);
#endif
    return c;
}

void Store::free_ram_slot(Chunk *c) {
    ++c->reuse;
    ram_free_.push_back(c->slot);
#ifdef __SANITIZE_ADDRESS__
    // Under ASan a free slot and its descriptor are poisoned, so a reader
    // touching a chunk after its last reference was dropped is reported.
    ASAN_POISON_MEMORY_REGION(c->data, kChunkSize);
    ASAN_POISON_MEMORY_REGION(c, sizeof(Chunk));
#endif
}

void Store::fill_chunk(Chunk *c, ChunkKey key, ObjectId oid, uint32_t index, uint32_t len,
                       uint64_t gen, uint64_t xxh3) {
    c->key = key;
    c->oid = oid;
    c->index = index;
    c->len = len;
    c->generation = gen;
    c->xxh3 = xxh3;
    c->shinfo.free_cb = chunk_release_cb;
    c->shinfo.fcb_opaque = c;
    rte_mbuf_ext_refcnt_set(&c->shinfo, 1);  // the index's reference
}

bool Store::publish_chunk(Chunk *c, bool promoted) {
    void *old = nullptr;
    if (!chunks_.upsert(c->key, c, &old)) return false;
    if (old)
        defer(DeferKind::chunk, -1, old);
    else
        ++ram_linked_;
    if (obs_) obs_->chunk_linked(*c, promoted);
    return true;
}

void Store::unlink_chunk(ChunkKey key, Chunk *c) {
    defer(DeferKind::chunk, chunks_.unlink(key), c);
    --ram_linked_;
    if (obs_) obs_->chunk_unlinked(key);
}

void Store::run_background() {
    if (!background_ || in_background_) return;
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
    if (now < next_background_ns_) return;
    next_background_ns_ = now + 1'000'000;
    in_background_ = true;
    background_();
    in_background_ = false;
}

uint32_t Store::ram_free_slots() {
    drain_released();
    return static_cast<uint32_t>(ram_free_.size());
}

void Store::make_ram_room(uint32_t slots, ObjectId keep) {
    if (!obs_) return;  // nobody to choose victims (tools, tests of the bare store)
    obs_->need_ram(slots - ram_free_slots(), keep);  // it waits out the grace period
    drain_released();
}

void Store::defer(DeferKind k, int32_t pos, void *p) {
    deferred_.push_back({rte_rcu_qsbr_start(qsbr_), k, pos, p});
}

unsigned Store::reclaim() {
    unsigned n = 0;
    while (!deferred_.empty() && rte_rcu_qsbr_check(qsbr_, deferred_.front().token, false) == 1) {
        Deferred d = deferred_.front();
        deferred_.pop_front();
        if (d.kind == DeferKind::chunk) {
            if (d.pos >= 0) chunks_.free_position(d.pos);
            unpin(static_cast<Chunk *>(d.ptr));  // the index's reference
        } else {
            if (d.pos >= 0) objects_.free_position(d.pos);
            delete static_cast<ObjectMeta *>(d.ptr);
        }
        ++n;
    }
    return n;
}

unsigned Store::drain_released() {
    void *burst[64];
    unsigned total = 0, n;
    while ((n = rte_ring_sc_dequeue_burst(release_ring_, burst, 64, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) free_ram_slot(static_cast<Chunk *>(burst[i]));
        total += n;
    }
    return total;
}

unsigned Store::poll(bool wait_io) {
    unsigned n = drain_released();
    n += handle_fills();
    if (disk_) {
        n += handle_promotions();
        n += start_fill_writes();
        // Sleeping in the kernel until a read completes beats spinning when
        // the control thread shares its core: a woken sleeper runs at once.
        n += reap(wait_io && n == 0 && landed_.empty() && disk_->in_flight() > 0);
        handle_promotions();  // refill the queue before the CPU-heavy part
        n += verify_promoted();
    }
    n += reclaim();
    return n;
}

void Store::synchronize(uint32_t self_tid) {
    rte_rcu_qsbr_synchronize(qsbr_, self_tid);
    reclaim();
    drain_released();
}

// ---------------------------------------------------------------- removal

void Store::unpublish_object(ObjectId id) {
    auto it = objects_ctl_.find(id);
    if (it == objects_ctl_.end()) return;
    int32_t pos = objects_.unlink(id);
    defer(DeferKind::object, pos, it->second);
    objects_ctl_.erase(it);
}

bool Store::drop_chunk(ChunkKey key, ObjectId *oid) {
    bool found = false;
    if (auto *c = static_cast<Chunk *>(chunks_.lookup(key))) {
        *oid = c->oid;
        unlink_chunk(key, c);
        found = true;
    }
    if (auto it = disk_index_.find(key); it != disk_index_.end()) {
        *oid = it->second.oid;
        tombstone(it->second.slot);
        disk_free_.push_back(it->second.slot);
        erase_disk_entry(it);
        found = true;
    }
    if (auto it = lost_records_.find(key); it != lost_records_.end()) {
        tombstone(it->second);
        disk_free_.push_back(it->second);
        lost_records_.erase(it);
    }
    if (found) ++ctl_->removals;
    return found;
}

Status Store::remove(ChunkKey key) {
    ObjectId oid = 0;
    if (!drop_chunk(key, &oid)) return Status::error(Err::not_found, "no such chunk");
    drop_object(oid);  // an incomplete object is never served: drop the rest too
    return {};
}

void Store::drop_object(ObjectId oid) {
    auto it = objects_ctl_.find(oid);
    if (it == objects_ctl_.end()) return;
    const uint32_t n = it->second->chunk_count;
    ObjectId ignored;
    for (uint32_t i = 0; i < n; ++i) drop_chunk(chunk_key(oid, i), &ignored);
    unpublish_object(oid);
}

Status Store::remove_object(std::string_view name) {
    auto it = objects_ctl_.find(object_id(name));
    if (it == objects_ctl_.end() || it->second->name_view() != name)
        return Status::error(Err::not_found, "no such object: " + std::string(name));
    drop_object(it->first);
    return {};
}

EvictResult Store::evict(ChunkKey key) {
    auto *c = static_cast<Chunk *>(chunks_.lookup(key));
    if (!c) return EvictResult::absent;
    if (refs(c) > 1) return EvictResult::pinned;  // an in-flight send holds it
    if (disk_index_.count(key)) {
        unlink_chunk(key, c);  // the disk record stays: only the RAM copy goes
        ++ctl_->evictions;
        return EvictResult::evicted;
    }
    // RAM is the only copy: the whole object goes, or nothing.
    const ObjectId oid = c->oid;
    auto it = objects_ctl_.find(oid);
    if (it == objects_ctl_.end() || it->second->filled) {
        // A chunk whose object is gone, or of an object pulled from an
        // origin: only this chunk goes, and a reader that needs it again
        // has it fetched again (ChunkStream::wait_for asks the filler).
        unlink_chunk(key, c);
        ++ctl_->evictions;
        return EvictResult::evicted;
    }
    const uint32_t n = it->second->chunk_count;
    for (uint32_t i = 0; i < n; ++i) {
        auto *o = static_cast<Chunk *>(chunks_.lookup(chunk_key(oid, i)));
        if (o && refs(o) > 1) return EvictResult::pinned;
    }
    for (uint32_t i = 0; i < n; ++i)
        if (resident_chunk(chunk_key(oid, i))) ++ctl_->evictions;
    drop_object(oid);
    return EvictResult::evicted;
}

// ---------------------------------------------------------------- views

Counters Store::counters() const {
    Counters sum;
    for (uint32_t i = 0; i <= cfg_.max_readers; ++i) sum += rc_[i].c;
    return sum;
}

Usage Store::usage() const {
    Usage u{};
    u.ram_capacity_bytes = uint64_t{ram_slots_} * kChunkSize;
    u.ram_bytes_used = (uint64_t{ram_slots_} - ram_free_.size()) * kChunkSize;
    uint32_t cur = 0;
    ChunkKey k;
    void *d;
    while (chunks_.iterate(&cur, &k, &d)) {
        ++u.ram_resident_chunks;
        u.ram_resident_payload_bytes += static_cast<Chunk *>(d)->len;
        u.ram_pinned_chunks += refs(static_cast<Chunk *>(d)) > 1;  // the index holds one
    }
    u.disk_capacity_bytes = uint64_t{disk_slots_} * kRecordSize;
    u.disk_bytes_used = (uint64_t{disk_slots_} - disk_free_.size()) * kRecordSize;
    u.disk_chunks = disk_index_.size();
    u.objects = objects_ctl_.size();
    return u;
}

void Store::for_each_object(const std::function<void(const ObjectMeta &)> &fn) const {
    for (auto &[id, m] : objects_ctl_) fn(*m);
}

const ObjectMeta *Store::object_ctl(std::string_view name) const {
    auto it = objects_ctl_.find(object_id(name));
    return it != objects_ctl_.end() && it->second->name_view() == name ? it->second : nullptr;
}

}  // namespace ep::chunkstore
