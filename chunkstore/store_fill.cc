// Pull on miss (issue 14, docs/origin.md): objects that arrive chunk by
// chunk from an origin. Data cores fetch and verify; the control thread
// (here) owns every store mutation, as for ingest and promotion: it
// publishes the object first, then each chunk as it lands, and tells the
// fetching core's completion ring, so the connections waiting for a key are
// woken exactly as after a promotion (docs/chunkstore.md).
//
// A chunk becomes visible only here, whole: the data core posts it after
// its last byte arrived and was checked, so a fill cut short leaves no
// partial chunk behind, only a hole a later request fetches again.
#include <algorithm>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "chunkstore/chunk_sums.h"
#include "chunkstore/log.h"
#include "chunkstore/store.h"
#include "chunkstore/store_internal.h"

namespace ep::chunkstore {

uint32_t Store::add_fill_channel() {
    static std::atomic<uint32_t> seq{0};
    const uint32_t id = fill_used_.load(std::memory_order_relaxed);
    if (id >= kMaxFillChannels) return UINT32_MAX;
    const std::string nm = "csf" + cfg_.name.substr(0, 8) + std::to_string(seq.fetch_add(1));
    rte_ring *r = rte_ring_create(nm.c_str(), 256, cfg_.socket_id,
                                  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
    if (!r) return UINT32_MAX;
    fill_rings_[id] = r;
    fill_used_.store(id + 1, std::memory_order_release);
    return id;
}

void Store::notify_waiter(WaiterId w, uint64_t key) {
    if (w == kNoWaiter || w >= waiters_used_.load(std::memory_order_acquire)) return;
    Waiter &wt = waiters_[w];
    if (rte_ring_sp_enqueue(wt.ring, reinterpret_cast<void *>(key)) != 0)
        wt.overflow.store(true, std::memory_order_release);
}

Status Store::begin_fill(std::string_view name, uint64_t size, uint64_t etag, int64_t mtime_ns,
                         std::string_view ctype, uint64_t *generation, int64_t expires_unix_s,
                         std::string_view origin_etag, bool no_store) {
    if (name.empty() || name.size() > kMaxName)
        return Status::error(Err::invalid,
                             "object name must be 1.." + std::to_string(kMaxName) + " bytes");
    if (ctype.size() > kMaxContentType) ctype = ctype.substr(0, kMaxContentType);
    const ObjectId oid = object_id(name);
    if (auto it = objects_ctl_.find(oid); it != objects_ctl_.end()) {
        const ObjectMeta *old = it->second;
        // A no-store copy is never reused: every fetch of it is its own version.
        if (old->filled && !old->no_store && !no_store && !old->negative_status &&
            old->size == size && old->etag == etag && old->name_view() == name) {
            *generation = old->generation;  // the same version: its chunks stay
            return old->expires_unix_s == expires_unix_s
                       ? Status{}
                       : refresh_fill(oid, old->generation, expires_unix_s);
        }
        drop_object(oid);  // another version: never mix
    } else if (objects_ctl_.size() >= cfg_.max_objects) {
        ++ctl_->insert_failures_full;
        return Status::error(Err::full, "object index full");
    }
    auto *m = new ObjectMeta();
    m->id = oid;
    m->size = size;
    m->chunk_count = chunk_count_for(size);
    m->generation = next_gen_++;
    m->mtime_ns = mtime_ns;
    m->name_len = static_cast<uint16_t>(name.size());
    // Empty views may have data() == nullptr: no memcpy for them (C 7.1.4).
    if (!name.empty()) std::memcpy(m->name, name.data(), name.size());
    m->ctype_len = static_cast<uint16_t>(ctype.size());
    if (!ctype.empty()) std::memcpy(m->ctype, ctype.data(), ctype.size());
    m->etag = etag;
    m->filled = true;
    m->no_store = no_store;
    m->expires_unix_s = expires_unix_s;
    m->origin_etag_len =
        static_cast<uint8_t>(std::min<size_t>(origin_etag.size(), sizeof m->origin_etag));
    if (m->origin_etag_len) std::memcpy(m->origin_etag, origin_etag.data(), m->origin_etag_len);
    if (disk_ && !no_store)  // a no-store answer is never written to disk
        m->on_disk = std::shared_ptr<std::atomic<uint64_t>[]>(
            new std::atomic<uint64_t>[(m->chunk_count + 63) / 64]());
    void *old = nullptr;
    if (!objects_.upsert(oid, m, &old)) {
        delete m;
        ++ctl_->insert_failures_full;
        return Status::error(Err::full, "object index full");
    }
    if (old) defer(DeferKind::object, -1, old);
    objects_ctl_[oid] = m;
    *generation = m->generation;
    return {};
}

Status Store::put_negative(std::string_view name, uint16_t status, int64_t expires_unix_s) {
    if (name.empty() || name.size() > kMaxName)
        return Status::error(Err::invalid,
                             "object name must be 1.." + std::to_string(kMaxName) + " bytes");
    const ObjectId oid = object_id(name);
    if (auto it = objects_ctl_.find(oid); it != objects_ctl_.end()) {
        // An operator's object stays whatever the origin says; a filled one
        // is gone at its origin (a revalidation's 404): drop it.
        if (!it->second->filled) return Status::error(Err::invalid, "an ingested object");
        drop_object(oid);
    } else if (objects_ctl_.size() >= cfg_.max_objects) {
        ++ctl_->insert_failures_full;
        return Status::error(Err::full, "object index full");
    }
    auto *m = new ObjectMeta();
    m->id = oid;
    m->size = 0;
    m->chunk_count = 0;
    m->generation = next_gen_++;
    m->name_len = static_cast<uint16_t>(name.size());
    std::memcpy(m->name, name.data(), name.size());
    m->filled = true;
    m->negative_status = status;
    m->expires_unix_s = expires_unix_s;
    void *old = nullptr;
    if (!objects_.upsert(oid, m, &old)) {
        delete m;
        ++ctl_->insert_failures_full;
        return Status::error(Err::full, "object index full");
    }
    if (old) defer(DeferKind::object, -1, old);
    objects_ctl_[oid] = m;
    negatives_.push_back({expires_unix_s, oid, m->generation});
    return {};
}

void Store::sweep_negatives(int64_t now_unix_s) {
    while (!negatives_.empty() && negatives_.front().expires <= now_unix_s) {
        const NegativeEntry e = negatives_.front();
        negatives_.pop_front();
        auto it = objects_ctl_.find(e.oid);
        if (it != objects_ctl_.end() && it->second->negative_status &&
            it->second->generation == e.generation)
            drop_object(e.oid);
    }
}

Status Store::refresh_fill(ObjectId oid, uint64_t gen, int64_t expires_unix_s) {
    auto it = objects_ctl_.find(oid);
    if (it == objects_ctl_.end() || it->second->generation != gen || !it->second->filled)
        return Status::error(Err::not_found, "the filled version is gone");
    // Metas are read lock-free: publish a copy, retire the old one after
    // the grace period. The generation stays, so its chunks stay valid.
    auto *m = new ObjectMeta(*it->second);
    m->expires_unix_s = expires_unix_s;
    void *old = nullptr;
    if (!objects_.upsert(oid, m, &old)) {
        delete m;
        return Status::error(Err::full, "object index full");
    }
    if (old) defer(DeferKind::object, -1, old);
    it->second = m;
    return {};
}

Status Store::put_fill_chunk(ObjectId oid, uint64_t gen, uint32_t index, const uint8_t *data,
                             uint32_t len) {
    auto it = objects_ctl_.find(oid);
    if (it == objects_ctl_.end() || it->second->generation != gen || !it->second->filled)
        return Status::error(Err::not_found, "the filled version is gone");
    const ObjectMeta &m = *it->second;
    if (index >= m.chunk_count || len != m.chunk_len(index))
        return Status::error(Err::invalid, "chunk does not fit the object");
    const bool no_store = m.no_store;
    const ChunkKey key = chunk_key(oid, index);
    if (auto *have = static_cast<Chunk *>(chunks_.lookup(key));
        have && have->oid == oid && have->generation == gen)
        return {};  // another core filled it first
    // Admission (docs/cache.md): the chunk still goes to RAM for the
    // responses waiting on it, but a declined one is never written to disk
    // (and the keeper drops its RAM copy once they are done).
    const bool admitted = !obs_ || obs_->admit_fill(key);
    if (!admitted) ++ctl_->fill_not_admitted;
    drain_released();
    if (ram_free_.empty()) make_ram_room(1, oid);
    Chunk *c = alloc_ram();
    if (!c) {
        ++ctl_->insert_failures_full;
        return Status::error(Err::full, "RAM tier full");
    }
    std::memcpy(c->data, data, len);
    // The checksum blocks after the end read zeros, as for an ingested
    // chunk; up to the 4 KiB the disk write takes, so no stale bytes of the
    // slot's last chunk go to disk either.
    std::memset(c->data + len, 0, pad_io(len) - len);
    const uint64_t sum = hash_and_csum(c->data, len, c->csum_prefix);
    fill_chunk(c, key, oid, index, len, gen, sum);
    if (!publish_chunk(c, false)) {
        free_ram_slot(c);
        ++ctl_->insert_failures_full;
        return Status::error(Err::full, "chunk index full");
    }
    if (disk_ && admitted) {
        if (no_store)
            ++ctl_->fill_disk_skipped;
        else
            queue_fill_write(key);
    }
    return {};
}

// ---------------------------------------------------------------- to disk

void Store::set_on_disk(ObjectId oid, uint32_t index, bool on) {
    auto it = objects_ctl_.find(oid);
    if (it == objects_ctl_.end() || !it->second->on_disk || index >= it->second->chunk_count)
        return;
    const uint64_t bit = uint64_t{1} << (index % 64);
    if (on)
        it->second->on_disk[index / 64].fetch_or(bit, std::memory_order_relaxed);
    else
        it->second->on_disk[index / 64].fetch_and(~bit, std::memory_order_relaxed);
}

void Store::queue_fill_write(ChunkKey key) {
    if (disk_index_.count(key) || fill_writing_.count(key)) return;
    fill_write_q_.push_back(key);
    start_fill_writes();
}

// The record is written from the chunk's own RAM slot (4 KiB aligned, so
// O_DIRECT takes it): no copy; the write's pin keeps the slot while the
// kernel reads it.
unsigned Store::start_fill_writes() {
    unsigned n = 0;
    // Disk full: the keeper drops the coldest filled records (its policy's
    // order) first, once per call, however many writes wait.
    bool asked = false;
    while (!fill_write_q_.empty() && !io_free_.empty()) {
        const ChunkKey key = fill_write_q_.front();
        fill_write_q_.pop_front();
        auto *c = static_cast<Chunk *>(chunks_.lookup(key));
        auto it = c ? objects_ctl_.find(c->oid) : objects_ctl_.end();
        if (!c || it == objects_ctl_.end() || it->second->generation != c->generation ||
            disk_index_.count(key) || fill_writing_.count(key)) {
            ++ctl_->fill_disk_skipped;  // evicted or replaced before its turn
            continue;
        }
        if (disk_free_.empty() && obs_ && !asked) {
            asked = true;
            obs_->need_disk(static_cast<uint32_t>(fill_write_q_.size() + 1));
        }
        if (disk_free_.empty()) {
            ++ctl_->fill_disk_skipped;
            ++ctl_->fill_disk_no_room;
            ++ctl_->insert_failures_full;
            continue;
        }
        const ObjectMeta &m = *it->second;
        IoBuf *b = get_iobuf();
        pin(c);
        b->kind = IoBuf::fill_write;
        b->ram = c;
        b->key = key;
        b->slot = disk_free_.back();
        disk_free_.pop_back();
        b->len = c->len;
        b->generation = c->generation;
        const uint32_t nfull = c->len / kCsumBlock;
        std::memcpy(b->csum_area(), c->csum_prefix + 1, nfull * sizeof(uint16_t));
        std::memset(b->csum_area() + nfull * sizeof(uint16_t), 0,
                    kCsumAreaSize - nfull * sizeof(uint16_t));
        RecordFields f{
            m.name_view(), m.content_type(), m.generation,
            m.size,        m.mtime_ns,       c->index,
            c->len,        c->xxh3,          payload_hash(b->csum_area(), kCsumAreaSize)};
        f.filled = true;
        f.version_etag = m.etag;
        f.expires_unix_s = m.expires_unix_s;
        f.origin_etag = m.origin_etag_view();
        encode_header(b->hdr(), f);
        b->iov[0] = {b->hdr(), kPayloadOffset};
        b->iov[1] = {c->data, pad_io(c->len)};
        // Header and payload in one write: a torn record fails a checksum.
        disk_->queue_writev(slot_offset(b->slot), b->iov, c->len ? 2 : 1,
                            reinterpret_cast<uint64_t>(b));
        fill_writing_[key] = b;
        ++n;
    }
    if (n) disk_->submit();
    return n;
}

void Store::finish_fill_write(IoBuf *b) {
    fill_writing_.erase(b->key);
    Chunk *c = b->ram;
    const ObjectId oid = c->oid;
    const uint32_t index = c->index;
    const uint32_t len = b->len;
    const uint64_t xxh3 = c->xxh3;
    const uint32_t slot = b->slot;
    const int32_t want = static_cast<int32_t>(kPayloadOffset + pad_io(len));
    ++ctl_->disk_writes;
    ctl_->disk_write_bytes += b->res > 0 ? static_cast<uint64_t>(b->res) : 0;
    const bool ok = b->res == want;
    const uint64_t gen = b->generation;
    const ChunkKey key = b->key;
    io_free_.push_back(b);
    unpin(c);  // the write's reference; the slot may go back now
    auto it = objects_ctl_.find(oid);
    const bool current =
        it != objects_ctl_.end() && it->second->generation == gen && !disk_index_.count(key);
    if (!ok || !current) {
        // Failed, or the version went while the write was in flight: the
        // record must not come back at the next open.
        if (!ok) log_warn("slot %u: write of a filled chunk record failed", slot);
        tombstone(slot);
        disk_free_.push_back(slot);
        ++ctl_->fill_disk_skipped;
        return;
    }
    disk_index_[key] = {slot, len, index, gen, xxh3, oid};
    set_on_disk(oid, index, true);
    ++ctl_->fill_disk_writes;
    if (obs_) obs_->fill_record_added(key);
}

// ---------------------------------------------------------------- disk eviction

void Store::erase_disk_entry(std::unordered_map<ChunkKey, DiskEntry>::iterator it) {
    const ChunkKey key = it->first;
    disk_index_.erase(it);
    if (obs_) obs_->disk_record_dropped(key);
}

void Store::for_each_fill_record(const std::function<void(ChunkKey)> &fn) const {
    for (const auto &[key, e] : disk_index_) {
        auto o = objects_ctl_.find(e.oid);
        if (o != objects_ctl_.end() && o->second->filled && o->second->generation == e.generation)
            fn(key);
    }
}

// Why reusing the slot is safe for serving (docs/chunkstore.md "Disk
// eviction"): the index entry goes and the on-disk bit is cleared before the
// slot is handed out, so no new promotion reads it as this chunk; one already
// reading it is refused here (pinned) and an older read is refused at its
// completion (the index entry's slot and generation no longer match). The
// tombstone is a synchronous write, done before any new record can be queued
// to the slot, so io_uring cannot reorder the two; the next record carries
// its own key and generation under the header checksum, which a read-back
// and the scan at open both check.
EvictResult Store::evict_fill_record(ChunkKey key) {
    auto it = disk_index_.find(key);
    if (it == disk_index_.end()) return EvictResult::absent;
    auto o = objects_ctl_.find(it->second.oid);
    // An ingested object has no origin to fetch it from again: never a victim.
    if (o == objects_ctl_.end() || !o->second->filled) return EvictResult::absent;
    if (promoting_.count(key)) return EvictResult::pinned;
    const uint32_t slot = it->second.slot, len = it->second.len, index = it->second.index;
    const ObjectId oid = it->second.oid;
    erase_disk_entry(it);
    set_on_disk(oid, index, false);
    tombstone(slot);
    disk_free_.push_back(slot);
    ++ctl_->fill_disk_evicted;
    ctl_->fill_disk_evicted_bytes += len;
    const ObjectMeta &m = *o->second;
    bool any = false;
    for (uint32_t w = 0; m.on_disk && w < (m.chunk_count + 63) / 64 && !any; ++w)
        any = m.on_disk[w].load(std::memory_order_relaxed) != 0;
    if (!any) ++ctl_->fill_disk_evicted_objects;
    return EvictResult::evicted;
}

void Store::drain_fill_writes() {
    if (!disk_) return;
    while (!fill_write_q_.empty() || !fill_writing_.empty()) {
        start_fill_writes();
        if (fill_writing_.empty()) break;  // the rest could not start (gone, or disk full)
        reap(true);
    }
}

unsigned Store::handle_fills() {
    unsigned n = 0;
    if (!negatives_.empty()) sweep_negatives(std::time(nullptr));
    const uint32_t used = fill_used_.load(std::memory_order_acquire);
    for (uint32_t ch = 0; ch < used; ++ch) {
        void *burst[16];
        unsigned got;
        while ((got = rte_ring_sc_dequeue_burst(fill_rings_[ch], burst, 16, nullptr)) > 0) {
            for (unsigned i = 0; i < got; ++i) {
                auto *m = static_cast<FillMsg *>(burst[i]);
                Status st;
                const FillMsg::Kind kind = m->kind;
                if (kind == FillMsg::Kind::negative || kind == FillMsg::Kind::purge) {
                    // No waiter: the data core polls the message's state.
                    const std::string_view name{m->name, m->name_len};
                    if (kind == FillMsg::Kind::negative) {
                        st = put_negative(name, m->status, m->expires_unix_s);
                    } else if (!name.empty() && name.back() == '/') {
                        std::vector<std::string> names;
                        for_each_object([&](const ObjectMeta &o) {
                            if (o.name_view().substr(0, name.size()) == name)
                                names.emplace_back(o.name_view());
                        });
                        m->purged = 0;
                        for (const std::string &nm : names) m->purged += remove_object(nm).ok();
                    } else {
                        m->purged = remove_object(name).ok() ? 1 : 0;
                    }
                    m->state.store(st.ok() ? FillMsg::kDone : FillMsg::kRefused,
                                   std::memory_order_release);
                    ++n;
                    continue;
                }
                const bool begin = kind == FillMsg::Kind::begin;
                // A begin carries the first chunk fetched (the one its
                // metadata came with): the object, then that chunk.
                if (begin)
                    st = begin_fill({m->name, m->name_len}, m->size, m->etag, m->mtime_ns,
                                    {m->ctype, m->ctype_len}, &m->generation, m->expires_unix_s,
                                    {m->origin_etag, m->origin_etag_len}, m->no_store);
                if (m->kind == FillMsg::Kind::refresh)
                    st = refresh_fill(m->oid, m->generation, m->expires_unix_s);
                else if (st.ok() && m->data)
                    st = put_fill_chunk(m->oid, m->generation, m->index, m->data, m->len);
                const WaiterId w = m->waiter;
                const ObjectId oid = m->oid;
                const ChunkKey key = chunk_key(m->oid, m->index);
                // After this store the message (and its data) is the core's again.
                m->state.store(st.ok() ? FillMsg::kDone : FillMsg::kRefused,
                               std::memory_order_release);
                if (begin || kind == FillMsg::Kind::refresh) notify_waiter(w, oid);
                if (kind != FillMsg::Kind::refresh) notify_waiter(w, key);
                ++n;
            }
        }
    }
    return n;
}

}  // namespace ep::chunkstore
