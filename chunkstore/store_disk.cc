// Store: the disk tier. Scan on open, batched O_DIRECT writes on ingest,
// asynchronous promotions to RAM, verification.
#include <algorithm>
#include <cstring>
#include <map>

#include "chunkstore/chunk_sums.h"
#include "chunkstore/log.h"
#include "chunkstore/store.h"
#include "chunkstore/store_internal.h"

namespace ep::chunkstore {

namespace {

// Rate-limit the corruption log so a wrecked store does not flood stderr.
void log_bad(uint64_t *count, const char *fmt, uint32_t slot, const char *why) {
    if (++*count <= 20) log_warn(fmt, slot, why);
}
uint64_t g_bad_logged = 0;

alignas(4096) const uint8_t kZeroHeader[kHeaderSize] = {};

}  // namespace

// ---------------------------------------------------------------- I/O plumbing

unsigned Store::reap(bool wait) {
    IoCompletion c[32];
    unsigned n = disk_->reap(c, 32, wait);
    for (unsigned i = 0; i < n; ++i) {
        auto *b = reinterpret_cast<IoBuf *>(c[i].user_data);
        b->res = c[i].res;
        b->done = true;
        if (b->kind == IoBuf::promote) finish_promotion(b);
        if (b->kind == IoBuf::fill_write) finish_fill_write(b);
    }
    return n;
}

Store::IoBuf *Store::get_iobuf() {
    while (io_free_.empty()) {
        // Only promotions return buffers by themselves; other owners must
        // not call this with all buffers held (that would spin forever).
        if (disk_->submit() <= 0 && disk_->in_flight() == 0) std::abort();
        reap(true);
    }
    IoBuf *b = io_free_.back();
    io_free_.pop_back();
    b->done = false;
    b->ram = nullptr;
    return b;
}

template <class Prep, class Done>
void Store::run_sync_batch(size_t n, Prep prep, Done done) {
    size_t next = 0, finished = 0;
    std::vector<IoBuf *> mine;
    while (finished < n) {
        while (next < n && !io_free_.empty()) {
            IoBuf *b = get_iobuf();
            b->kind = IoBuf::sync;
            b->tag = next++;
            prep(b);
            mine.push_back(b);
        }
        disk_->submit();
        reap(true);
        for (size_t i = 0; i < mine.size();) {
            if (!mine[i]->done) {
                ++i;
                continue;
            }
            done(mine[i]);
            io_free_.push_back(mine[i]);
            mine[i] = mine.back();
            mine.pop_back();
            ++finished;
        }
    }
}

// ---------------------------------------------------------------- scan

namespace {
struct ScanRec {
    uint32_t slot;
    RecordHeader h;  // copy of the valid header
    bool ok = true;
    bool lost = false;  // payload failed, header kept: vouches for a kept object's shape
};
}  // namespace

bool Store::scan(OpenReport *rep, std::string *err) {
    std::vector<ScanRec> recs;
    std::vector<uint32_t> empty, bad_slots;
    uint64_t foreign = 0;
    rep->slots_scanned = disk_slots_;

    // Phase 1: every slot's header, io_depth reads in flight.
    run_sync_batch(
        disk_slots_,
        [&](IoBuf *b) {
            b->iov[0] = {b->hdr(), kHeaderSize};
            disk_->queue_readv(slot_offset(static_cast<uint32_t>(b->tag)), b->iov, 1,
                               reinterpret_cast<uint64_t>(b));
        },
        [&](IoBuf *b) {
            auto slot = static_cast<uint32_t>(b->tag);
            ++ctl_->disk_reads;
            if (b->res != static_cast<int32_t>(kHeaderSize)) {
                log_bad(&g_bad_logged, "slot %u: header read failed (%s)", slot, "I/O");
                ++rep->records_bad;
                empty.push_back(slot);
                return;
            }
            RecordHeader h;
            HeaderCheck hc = decode_header(b->hdr(), &h);  // a v2 record reads as v3
            if (hc == HeaderCheck::ok) {
                recs.push_back({slot, h});
                return;
            }
            if (hc == HeaderCheck::bad_magic) {
                // Not one of our records: never written over at open (see
                // the foreign-file check below), reused only if we keep the file.
                ++foreign;
            } else if (hc != HeaderCheck::empty) {
                log_bad(&g_bad_logged, "slot %u: record dropped: %s", slot, to_string(hc));
                ++rep->records_bad;
                ++ctl_->checksum_failures;
                bad_slots.push_back(slot);
            }
            empty.push_back(slot);
        });

    // A file that is mostly foreign data is not a chunk store (or one of
    // another record format): refuse it rather than overwrite it.
    if (foreign > 0 && foreign >= std::max<uint64_t>(1, recs.size())) {
        *err = cfg_.path + ": not a chunk store file of this version (" + std::to_string(foreign) +
               " slots hold foreign data, " + std::to_string(recs.size()) +
               " valid records); refusing to open";
        return false;
    }
    rep->records_bad += foreign;
    for (uint32_t slot : bad_slots) tombstone(slot);

    // Phase 2: payload checksums (torn writes leave a valid header over a
    // payload that is not the one it describes).
    if (cfg_.verify_on_open) {
        run_sync_batch(
            recs.size(),
            [&](IoBuf *b) {
                auto &r = recs[b->tag];
                b->iov[0] = {b->csum_area(), kCsumAreaSize + pad_io(r.h.chunk_len)};
                disk_->queue_readv(slot_offset(r.slot) + kHeaderSize, b->iov, 1,
                                   reinterpret_cast<uint64_t>(b));
            },
            [&](IoBuf *b) {
                auto &r = recs[b->tag];
                ++ctl_->disk_reads;
                ctl_->disk_read_bytes += b->iov[0].iov_len;
                if (b->res != static_cast<int32_t>(b->iov[0].iov_len) ||
                    payload_hash(b->csum_area(), kCsumAreaSize) != r.h.csum_area_xxh3 ||
                    payload_hash(b->staging(), r.h.chunk_len) != r.h.payload_xxh3) {
                    log_bad(&g_bad_logged, "slot %u: record dropped: %s", r.slot,
                            "payload checksum mismatch");
                    ++ctl_->checksum_failures;
                    ++rep->records_bad;
                    r.ok = false;
                }
            });
    }

    // Group by object; keep the newest generation that is good: complete
    // for an ingested object; for one pulled from an origin (v3, filled),
    // whatever chunks it had on disk: the rest are holes that the serve path
    // fetches again (docs/origin.md).
    // Records whose payload failed still vouch, by their valid header, for
    // an ingested object's shape: such an object is kept with those chunks
    // lost. A filled object's failed record is just another hole.
    std::unordered_map<ObjectId, std::vector<ScanRec *>> by_obj;
    for (auto &r : recs) {
        next_gen_ = std::max(next_gen_, r.h.generation + 1);
        by_obj[r.h.object_id].push_back(&r);
    }
    for (auto &[oid, list] : by_obj) {
        std::map<uint64_t, std::vector<ScanRec *>, std::greater<>> by_gen;
        for (ScanRec *r : list) by_gen[r->h.generation].push_back(r);
        std::vector<ScanRec *> *keep = nullptr;
        for (auto &[gen, v] : by_gen) {
            const RecordHeader &h0 = v[0]->h;
            const bool filled = h0.flags & kRecordFilled;
            std::vector<ScanRec *> byidx(h0.chunk_count, nullptr);
            bool good = true;
            for (ScanRec *r : v) {
                // One generation is one version: the same shape and
                // validators in every record, one record per chunk.
                if (r->h.object_size != h0.object_size || byidx[r->h.chunk_index] ||
                    r->h.flags != h0.flags ||
                    (filled && (r->h.version_etag != h0.version_etag ||
                                r->h.expires_unix_s != h0.expires_unix_s))) {
                    good = false;
                    break;
                }
                byidx[r->h.chunk_index] = r;
            }
            if (!filled)
                good = good && std::all_of(byidx.begin(), byidx.end(), [](auto *p) { return p; });
            good = good && std::any_of(byidx.begin(), byidx.end(),
                                       [](auto *p) { return p && p->ok; });
            if (good) {
                v = std::move(byidx);  // ordered by chunk index, holes null
                keep = &v;
                break;
            }
        }
        if (!keep) ++rep->objects_incomplete;
        for (ScanRec *r : list)
            r->ok = r->ok && keep && std::find(keep->begin(), keep->end(), r) != keep->end();
        if (!keep) continue;
        const RecordHeader &h0 = (*std::find_if(keep->begin(), keep->end(), [](auto *p) {
                                      return p != nullptr;
                                  }))->h;
        const bool filled = h0.flags & kRecordFilled;
        auto *m = new ObjectMeta();
        m->id = oid;
        m->size = h0.object_size;
        m->chunk_count = h0.chunk_count;
        m->generation = h0.generation;
        m->mtime_ns = h0.mtime_ns;
        m->name_len = h0.name_len;
        std::memcpy(m->name, h0.name, h0.name_len);
        m->ctype_len = h0.ctype_len;
        std::memcpy(m->ctype, h0.ctype, h0.ctype_len);
        if (filled) {
            m->filled = true;
            m->etag = h0.version_etag;  // what later origin answers are checked against
            m->expires_unix_s = h0.expires_unix_s;
            m->origin_etag_len = static_cast<uint8_t>(h0.origin_etag_len);
            std::memcpy(m->origin_etag, h0.origin_etag, h0.origin_etag_len);
            m->on_disk = std::shared_ptr<std::atomic<uint64_t>[]>(
                new std::atomic<uint64_t>[(m->chunk_count + 63) / 64]());
        }
        std::vector<uint64_t> sums;
        for (ScanRec *r : *keep) {
            if (!r) continue;  // a hole of a filled object
            sums.push_back(r->h.payload_xxh3);  // the ETag stays the version's
            if (!r->ok) {
                if (filled) continue;  // a hole: tombstoned below, fetched again
                r->lost = true;
                if (!m->lost)
                    m->lost =
                        std::shared_ptr<uint64_t[]>(new uint64_t[(m->chunk_count + 63) / 64]());
                m->lost[r->h.chunk_index / 64] |= uint64_t{1} << (r->h.chunk_index % 64);
                ++m->lost_count;
                continue;
            }
            disk_index_[r->h.key] = {r->slot,         r->h.chunk_len,    r->h.chunk_index,
                                     r->h.generation, r->h.payload_xxh3, oid};
            if (filled)
                m->on_disk[r->h.chunk_index / 64].fetch_or(uint64_t{1} << (r->h.chunk_index % 64),
                                                          std::memory_order_relaxed);
        }
        if (m->lost_count) {
            ++rep->objects_with_lost_chunks;
            log_warn("%s: %u of %u chunks lost to checksum failures; the rest is served",
                     std::string(m->name_view()).c_str(), m->lost_count, m->chunk_count);
        }
        if (!filled) m->etag = XXH3_64bits_withSeed(sums.data(), sums.size() * 8, m->size);
        void *old = nullptr;
        if (!objects_.upsert(oid, m, &old)) {
            log_warn("object index full (max_objects=%u): %s not served", cfg_.max_objects,
                     std::string(m->name_view()).c_str());
            if (m->lost_count) --rep->objects_with_lost_chunks;
            delete m;
            for (ScanRec *r : *keep)
                if (r) disk_index_.erase(r->h.key), r->ok = false, r->lost = false;
            continue;
        }
        objects_ctl_[oid] = m;
        ++rep->objects;
        if (filled) ++rep->objects_filled;
    }
    // Everything not kept: older generations, incomplete objects, corrupt
    // records. Tombstone them so a later removal cannot resurrect them.
    for (auto &r : recs) {
        if (r.ok) {
            ++rep->records_ok;
            continue;
        }
        if (r.lost) {  // kept, so the next open still knows the object's shape
            lost_records_[r.h.key] = r.slot;
            continue;
        }
        tombstone(r.slot);
        empty.push_back(r.slot);
        ++rep->records_stale;
    }
    rep->records_stale -= std::min(rep->records_stale, rep->records_bad);
    // Allocate low slots first: keeps a fresh store file dense.
    std::sort(empty.begin(), empty.end(), std::greater<>());
    disk_free_ = std::move(empty);
    return true;
}

void Store::tombstone(uint32_t slot) {
    if (!disk_->pwrite_all(kZeroHeader, kHeaderSize, slot_offset(slot)))
        log_warn("slot %u: tombstone write failed", slot);
    ++ctl_->disk_writes;
}

// ---------------------------------------------------------------- ingest

Status Store::put_object(std::string_view name, std::span<const uint8_t> data, int64_t mtime_ns,
                         std::string_view ctype) {
    return put_object(
        name, data.size(),
        [&](uint64_t off, void *buf, uint32_t len) {
            // An empty span's data() may be null: no memcpy for it (C 7.1.4).
            if (len) std::memcpy(buf, data.data() + off, len);
            return true;
        },
        mtime_ns, ctype);
}

Status Store::put_object(std::string_view name, uint64_t size, const Source &src, int64_t mtime_ns,
                         std::string_view ctype) {
    if (name.empty() || name.size() > kMaxName)
        return Status::error(Err::invalid,
                             "object name must be 1.." + std::to_string(kMaxName) + " bytes");
    if (ctype.size() > kMaxContentType) ctype = ctype.substr(0, kMaxContentType);
    const ObjectId oid = object_id(name);
    const uint32_t n = chunk_count_for(size);
    auto full = [&](std::string what) {
        ++ctl_->insert_failures_full;
        return Status::error(Err::full, std::move(what));
    };
    if (!objects_ctl_.count(oid) && objects_ctl_.size() >= cfg_.max_objects)
        return full("object index full (max_objects=" + std::to_string(cfg_.max_objects) + ")");
    if (disk_ && disk_free_.size() < n)
        return full("disk tier full: " + std::string(name) + " needs " + std::to_string(n) +
                    " chunk records, " + std::to_string(disk_free_.size()) + " free");
    drain_released();
    if (!disk_ && ram_free_.size() < n) make_ram_room(n, oid);
    if (!disk_ && ram_free_.size() < n)
        return full("RAM tier full: " + std::string(name) + " needs " + std::to_string(n) +
                    " chunks, " + std::to_string(ram_free_.size()) + " of " +
                    std::to_string(ram_slots_) +
                    " free after evicting what could go (the rest is held by other objects, "
                    "or pinned by responses in flight); a disk tier (--store) holds more");

    // With a disk tier, RAM copies are a bonus: only for an object that fits
    // in the free slots with a tenth of the tier to spare. Slots taken here
    // stay unusable until the object is published at the end, so a large
    // ingest that took them all would starve promotions for its whole run.
    const bool to_ram = !disk_ || (cfg_.ram_on_ingest && ram_free_.size() >= n + std::max(1u, ram_slots_ / 10));
    const uint64_t gen = next_gen_++;
    std::vector<Chunk *> ram(n, nullptr);
    std::vector<int64_t> dslot(n, -1);  // -1: no disk slot taken
    std::vector<uint64_t> sums(n, 0);
    std::vector<uint16_t> csum_tmp(kCsumBlocks + 1);
    std::vector<IoBuf *> mine;
    Status st;
    unsigned queued = 0;

    auto settle = [&](bool wait) {
        reap(false);
        for (size_t i = 0; i < mine.size();) {
            IoBuf *b = mine[i];
            if (!b->done && wait) {
                disk_->submit();
                reap(true);
                continue;
            }
            if (!b->done) {
                ++i;
                continue;
            }
            ++ctl_->disk_writes;
            ctl_->disk_write_bytes += b->iov[0].iov_len + b->iov[1].iov_len;
            int32_t want = static_cast<int32_t>(b->iov[0].iov_len + b->iov[1].iov_len);
            if (b->res != want && st.ok())
                st = Status::error(Err::io,
                                   "write of chunk record failed: " +
                                       std::string(b->res < 0 ? strerror(-b->res) : "short write"));
            io_free_.push_back(b);
            mine[i] = mine.back();
            mine.pop_back();
        }
    };

    for (uint32_t i = 0; i < n && st.ok(); ++i) {
        const uint32_t len =
            static_cast<uint32_t>(std::min<uint64_t>(size - uint64_t{i} * kChunkSize, kChunkSize));
        Chunk *c = to_ram ? alloc_ram() : nullptr;
        // Our finished writes only go back to io_free_ through settle().
        while (disk_ && io_free_.empty()) {
            disk_->submit();
            reap(true);
            settle(false);
        }
        IoBuf *b = disk_ ? get_iobuf() : nullptr;
        uint8_t *dst = c ? c->data : b->staging();
        if (!src(uint64_t{i} * kChunkSize, dst, len)) {
            st = Status::error(Err::io, "cannot read source of " + std::string(name));
            if (c) free_ram_slot(c);
            if (b) io_free_.push_back(b);
            break;
        }
        const uint32_t padded = pad_io(len);
        std::memset(dst + len, 0, padded - len);
        // The prefix sums go to disk too: a later promotion only verifies.
        uint16_t *prefix = c ? c->csum_prefix : csum_tmp.data();
        sums[i] = hash_and_csum(dst, len, prefix);
        if (c) {
            fill_chunk(c, chunk_key(oid, i), oid, i, len, gen, sums[i]);
            ram[i] = c;
        }
        if (!disk_) {
            run_background();
            continue;
        }
        dslot[i] = disk_free_.back();
        disk_free_.pop_back();
        const uint32_t nfull = len / kCsumBlock;
        std::memcpy(b->csum_area(), prefix + 1, nfull * sizeof(uint16_t));
        std::memset(b->csum_area() + nfull * sizeof(uint16_t), 0,
                    kCsumAreaSize - nfull * sizeof(uint16_t));
        encode_header(b->hdr(), {name, ctype, gen, size, mtime_ns, i, len, sums[i],
                                 payload_hash(b->csum_area(), kCsumAreaSize)});
        b->kind = IoBuf::write;
        b->iov[0] = {b->hdr(), kPayloadOffset};
        b->iov[1] = {dst, padded};
        // Header and payload go out in one write: a torn record fails a checksum.
        disk_->queue_writev(slot_offset(static_cast<uint32_t>(dslot[i])), b->iov, padded ? 2 : 1,
                            reinterpret_cast<uint64_t>(b));
        mine.push_back(b);
        if (++queued >= cfg_.io_depth / 2) {
            disk_->submit();
            queued = 0;
        }
        settle(false);
        run_background();  // promotions and eviction go on during a long ingest
    }
    if (disk_) {
        disk_->submit();
        settle(true);
    }
    if (!st.ok()) {
        for (uint32_t i = 0; i < n; ++i) {
            if (ram[i]) free_ram_slot(ram[i]);
            // Records of this generation stay unpublished; a scan drops them.
            if (dslot[i] >= 0) disk_free_.push_back(static_cast<uint32_t>(dslot[i]));
        }
        return st;
    }

    // Publish: disk index first, then RAM chunks, then the object. A shorter
    // new version leaves no chunks of the old one behind.
    if (auto it = objects_ctl_.find(oid); it != objects_ctl_.end()) {
        ObjectId ignored;
        for (uint32_t i = n; i < it->second->chunk_count; ++i)
            drop_chunk(chunk_key(oid, i), &ignored);
    }
    for (uint32_t i = 0; i < n; ++i) {
        const ChunkKey key = chunk_key(oid, i);
        const uint32_t len =
            static_cast<uint32_t>(std::min<uint64_t>(size - uint64_t{i} * kChunkSize, kChunkSize));
        if (disk_) {
            auto [it, fresh] = disk_index_.try_emplace(key);
            if (!fresh) {  // older version of the object
                tombstone(it->second.slot);
                disk_free_.push_back(it->second.slot);
                if (obs_) obs_->disk_record_dropped(key);  // now an ingested record
            }
            it->second = {static_cast<uint32_t>(dslot[i]), len, i, gen, sums[i], oid};
            if (auto lr = lost_records_.find(key); lr != lost_records_.end()) {
                tombstone(lr->second);  // the old version's failed record
                disk_free_.push_back(lr->second);
                lost_records_.erase(lr);
            }
        }
        if (ram[i] && publish_chunk(ram[i], false)) continue;
        if (ram[i]) {  // chunk index full: the disk copy stays, RAM copy dropped
            ++ctl_->insert_failures_full;
            free_ram_slot(ram[i]);
            if (!disk_) st = Status::error(Err::full, "chunk index full");
        }
        // No RAM copy of this version: an older RAM copy must not be served.
        if (auto *old = static_cast<Chunk *>(chunks_.lookup(key))) unlink_chunk(key, old);
    }
    auto *m = new ObjectMeta();
    m->id = oid;
    m->size = size;
    m->chunk_count = n;
    m->generation = gen;
    m->mtime_ns = mtime_ns;
    m->name_len = static_cast<uint16_t>(name.size());
    // An empty string_view may have data() == nullptr, which memcpy must
    // not get even for 0 bytes (C 7.1.4; UBSan's nonnull check).
    if (!name.empty()) std::memcpy(m->name, name.data(), name.size());
    m->ctype_len = static_cast<uint16_t>(ctype.size());
    if (!ctype.empty()) std::memcpy(m->ctype, ctype.data(), ctype.size());
    m->etag = XXH3_64bits_withSeed(sums.data(), sums.size() * 8, size);
    void *old = nullptr;
    if (!objects_.upsert(oid, m, &old)) {
        delete m;
        ++ctl_->insert_failures_full;
        return Status::error(Err::full, "object index full");
    }
    if (old) defer(DeferKind::object, -1, old);
    objects_ctl_[oid] = m;
    return st;
}

Status Store::flush() {
    drain_fill_writes();
    if (disk_ && !disk_->sync_data()) return Status::error(Err::io, "fdatasync failed");
    return {};
}

// ---------------------------------------------------------------- promotion

Store::IoBuf *Store::start_promotion(ChunkKey key) {
    if (promoting_.count(key) || chunks_.lookup(key)) return nullptr;
    auto it = disk_index_.find(key);
    if (it == disk_index_.end() || io_free_.empty()) return nullptr;
    Chunk *c = alloc_ram();
    if (!c) {
        // RAM full: wait for the room the cache keeper makes (need_ram),
        // once per key however often data cores ask again.
        if (!promo_waiting_.count(key) && promo_wait_.size() < ram_slots_ + 64u) {
            promo_waiting_[key] = true;
            promo_wait_.push_back(key);
            ++ctl_->promotion_waits;
        }
        return nullptr;
    }
    IoBuf *b = get_iobuf();
    const DiskEntry &e = it->second;
    b->kind = IoBuf::promote;
    b->ram = c;
    b->key = key;
    b->slot = e.slot;
    b->len = e.len;
    b->generation = e.generation;
    b->iov[0] = {b->hdr(), kPayloadOffset};
    b->iov[1] = {c->data, pad_io(e.len)};
    // Straight into the slab slot: no copy between disk and the NIC.
    disk_->queue_readv(slot_offset(e.slot), b->iov, e.len ? 2 : 1, reinterpret_cast<uint64_t>(b));
    promoting_[key] = b;
    return b;
}

unsigned Store::handle_promotions() {
    unsigned n = 0;
    // Requests that found RAM full go first: they asked earlier.
    while (!promo_wait_.empty() && !io_free_.empty() && ram_free_slots() > 0) {
        const ChunkKey k = promo_wait_.front();
        promo_wait_.pop_front();
        promo_waiting_.erase(k);
        if (start_promotion(k))
            ++n;
        else if (!promoting_.count(k) && !promo_waiting_.count(k))
            settle_waiters(k);
    }
    PromoRequest reqs[32];
    unsigned room = static_cast<unsigned>(std::min<size_t>(io_free_.size(), 32));
    const unsigned got =
        room ? rte_ring_sc_dequeue_burst_elem(promo_ring_, reqs, sizeof reqs[0], room, nullptr) : 0;
    const uint32_t nwaiters = waiters_used_.load(std::memory_order_acquire);
    for (unsigned i = 0; i < got; ++i) {
        const ChunkKey k = reqs[i].key;
        if (reqs[i].waiter < nwaiters) {
            auto &ws = promo_waiters_[k];
            if (std::find(ws.begin(), ws.end(), reqs[i].waiter) == ws.end())
                ws.push_back(reqs[i].waiter);
        }
        if (start_promotion(k))
            ++n;
        else if (!promoting_.count(k) && !promo_waiting_.count(k))
            settle_waiters(k);  // resident, not on disk, or refused: nothing is coming
    }
    if (n) disk_->submit();
    if (!promo_wait_.empty() && obs_) {
        // Slots already on their way back (unlinked, grace period running)
        // are not asked for twice.
        const uint64_t used = ram_slots_ - ram_free_.size();
        const uint64_t busy = ram_linked_ + promoting_.size();
        const uint64_t limbo = used > busy ? used - busy : 0;
        if (promo_wait_.size() > limbo)
            obs_->need_ram(static_cast<uint32_t>(promo_wait_.size() - limbo), 0);
    }
    return n + got;
}

// Completion of a promotion read: cheap header checks only, then the I/O
// buffer goes straight back so the next read can be queued; the payload
// checksum (the CPU-heavy part) runs in verify_promoted().
void Store::finish_promotion(IoBuf *b) {
    Chunk *c = b->ram;
    const int32_t want = static_cast<int32_t>(kPayloadOffset + pad_io(b->len));
    ++ctl_->disk_reads;
    ctl_->disk_read_bytes += b->res > 0 ? static_cast<uint64_t>(b->res) : 0;
    auto it = disk_index_.find(b->key);
    auto &h = *reinterpret_cast<const RecordHeader *>(b->hdr());
    const char *why = nullptr;
    if (it == disk_index_.end() || it->second.generation != b->generation ||
        it->second.slot != b->slot) {
        why = "";  // removed, replaced or evicted while the read was in flight
    } else if (b->res != want) {
        why = "read failed";
    } else if (check_header(h) != HeaderCheck::ok || h.key != b->key ||
               h.generation != b->generation) {
        why = "header checksum mismatch";
    } else if (payload_hash(b->csum_area(), kCsumAreaSize) != h.csum_area_xxh3) {
        why = "checksum area mismatch";
    }
    if (!why) {
        // The buffer is reused at once: keep the prefix sums in the chunk.
        c->csum_prefix[0] = 0;
        std::memcpy(c->csum_prefix + 1, b->csum_area(), kCsumAreaSize);
        landed_.push_back(
            {c, b->key, h.object_id, h.generation, h.payload_xxh3, h.chunk_index, h.chunk_len});
    } else {
        promoting_.erase(b->key);
        free_ram_slot(c);
        if (*why) {
            ++ctl_->checksum_failures;
            drop_disk_record(b->key, why);
        }
        settle_waiters(b->key);
    }
    io_free_.push_back(b);
}

unsigned Store::verify_promoted() {
    unsigned n = 0;
    while (!landed_.empty()) {
        Landed l = landed_.front();
        landed_.pop_front();
        promoting_.erase(l.key);
        ++n;
        struct Settle {  // every way out of this iteration settles the key's waiters
            Store *s;
            ChunkKey k;
            ~Settle() { s->settle_waiters(k); }
        } settle{this, l.key};
        auto it = disk_index_.find(l.key);
        if (it == disk_index_.end() || it->second.generation != l.generation) {
            free_ram_slot(l.c);  // removed or replaced meanwhile
            continue;
        }
        if (payload_hash(l.c->data, l.len) != l.xxh3) {
            free_ram_slot(l.c);
            ++ctl_->checksum_failures;
            drop_disk_record(l.key, "payload checksum mismatch");
            continue;
        }
        fill_chunk(l.c, l.key, l.oid, l.index, l.len, l.generation, l.xxh3);
        if (publish_chunk(l.c, true)) {
            ++ctl_->promotions;
        } else {
            ++ctl_->insert_failures_full;
            free_ram_slot(l.c);
        }
        handle_promotions();  // keep io_depth reads in flight while we hash
    }
    return n;
}

void Store::drop_disk_record(ChunkKey key, const char *why) {
    auto it = disk_index_.find(key);
    if (it == disk_index_.end()) return;
    log_bad(&g_bad_logged, "slot %u: record dropped: %s", it->second.slot, why);
    const ObjectId oid = it->second.oid;
    const uint32_t index = it->second.index;
    const uint32_t slot = it->second.slot;
    erase_disk_entry(it);
    if (auto o = objects_ctl_.find(oid); o != objects_ctl_.end() && o->second->filled) {
        // Pulled from an origin: the chunk becomes a hole, which the serve
        // path fetches again; the record can go.
        tombstone(slot);
        disk_free_.push_back(slot);
        set_on_disk(oid, index, false);  // a RAM copy, if any, was verified when filled
        return;
    }
    // Only this chunk is gone: the rest of the object stays servable. A
    // record whose header is still valid stays on disk (its slot reserved)
    // so the next open knows the object's shape and marks the chunk lost
    // again; one with a bad header cannot, and goes.
    if (std::strcmp(why, "header checksum mismatch") != 0) {
        lost_records_[key] = slot;
    } else {
        tombstone(slot);
        disk_free_.push_back(slot);
    }
    mark_lost(oid, index);
}

void Store::mark_lost(ObjectId oid, uint32_t index) {
    auto it = objects_ctl_.find(oid);
    if (it == objects_ctl_.end()) return;
    const ObjectMeta *old = it->second;
    if (index >= old->chunk_count || old->chunk_lost(index)) return;
    if (old->lost_count + 1 >= old->chunk_count) {
        drop_object(oid);  // nothing left to serve
        return;
    }
    auto *m = new ObjectMeta(*old);
    const uint32_t words = (old->chunk_count + 63) / 64;
    m->lost = std::shared_ptr<uint64_t[]>(new uint64_t[words]());
    for (uint32_t w = 0; old->lost && w < words; ++w) m->lost[w] = old->lost[w];
    m->lost[index / 64] |= uint64_t{1} << (index % 64);
    ++m->lost_count;
    void *prev = nullptr;
    if (!objects_.upsert(oid, m, &prev)) {  // cannot happen for an existing key
        delete m;
        drop_object(oid);
        return;
    }
    if (prev) defer(DeferKind::object, -1, prev);
    it->second = m;
    if (auto *c = static_cast<Chunk *>(chunks_.lookup(chunk_key(oid, index))))
        unlink_chunk(c->key, c);
}

Status Store::promote_now(ChunkKey key) {
    if (chunks_.lookup(key)) return {};
    if (!disk_ || !disk_index_.count(key)) return Status::error(Err::not_found, "no such chunk");
    if (!start_promotion(key))
        return Status::error(Err::full, "cannot promote: RAM tier full or busy");
    disk_->submit();
    while (promoting_.count(key)) {
        reap(true);
        verify_promoted();
    }
    return chunks_.lookup(key) ? Status{}
                               : Status::error(Err::corrupt, "chunk failed verification");
}

// ---------------------------------------------------------------- cold reads

bool Store::read_record_sync(const DiskEntry &e, IoBuf *b, std::string *why) {
    b->kind = IoBuf::sync;
    b->done = false;
    b->iov[0] = {b->hdr(), kPayloadOffset};
    b->iov[1] = {b->staging(), pad_io(e.len)};
    disk_->queue_readv(slot_offset(e.slot), b->iov, e.len ? 2 : 1, reinterpret_cast<uint64_t>(b));
    disk_->submit();
    while (!b->done) reap(true);
    ++ctl_->disk_reads;
    auto &h = *reinterpret_cast<const RecordHeader *>(b->hdr());
    if (b->res != static_cast<int32_t>(kPayloadOffset + pad_io(e.len)))
        *why = "read failed";
    else if (check_header(h) != HeaderCheck::ok || h.generation != e.generation)
        *why = "header checksum mismatch";
    else if (payload_hash(b->csum_area(), kCsumAreaSize) != h.csum_area_xxh3)
        *why = "checksum area mismatch";
    else if (payload_hash(b->staging(), e.len) != h.payload_xxh3)
        *why = "payload checksum mismatch";
    else
        return true;
    return false;
}

Status Store::read_chunk(ChunkKey key, std::vector<uint8_t> *out) {
    if (auto *c = static_cast<Chunk *>(chunks_.lookup(key))) {
        out->assign(c->data, c->data + c->len);
        return {};
    }
    auto it = disk_ ? disk_index_.find(key) : disk_index_.end();
    if (it == disk_index_.end()) return Status::error(Err::not_found, "no such chunk");
    IoBuf *b = get_iobuf();
    std::string why;
    bool ok = read_record_sync(it->second, b, &why);
    if (ok) out->assign(b->staging(), b->staging() + it->second.len);
    io_free_.push_back(b);
    if (ok) return {};
    ++ctl_->checksum_failures;
    drop_disk_record(key, why.c_str());
    return Status::error(Err::corrupt, "chunk failed verification: " + why);
}

VerifyReport Store::verify() {
    VerifyReport rep;
    const size_t objects_before = objects_ctl_.size();
    std::vector<std::pair<ChunkKey, DiskEntry>> all(disk_index_.begin(), disk_index_.end());
    for (auto &[key, e] : all) {
        IoBuf *b = get_iobuf();
        std::string why;
        if (read_record_sync(e, b, &why)) {
            ++rep.chunks_ok;
        } else {
            ++rep.chunks_bad;
            ++ctl_->checksum_failures;
            drop_disk_record(key, why.c_str());
        }
        io_free_.push_back(b);
    }
    rep.objects_ok = objects_ctl_.size();
    rep.objects_bad = objects_before - objects_ctl_.size();
    return rep;
}

}  // namespace ep::chunkstore
