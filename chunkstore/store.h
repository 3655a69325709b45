// The chunk store: a RAM tier of 256 KiB chunks in DPDK memory indexed for
// lock-free lookups from data cores, over a disk tier of self-describing
// records read and written with O_DIRECT through io_uring.
//
// Threads: any number of registered data-core readers (lookup, pin, attach,
// request_promotion, quiescent) and ONE control thread that calls everything
// else (put/remove/evict/poll). See docs/chunkstore.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "chunkstore/chunk.h"
#include "chunkstore/disk_file.h"
#include "chunkstore/index.h"
#include "chunkstore/types.h"

namespace ep::chunkstore {

struct Config {
    std::string path;                            // store file or block device; empty = RAM only
    uint64_t disk_capacity_bytes = 1ull << 30;   // a new/short file is grown to this
    uint64_t ram_capacity_bytes = 256ull << 20;  // RAM tier slab (rounded down to chunks)
    uint32_t max_readers = 64;                   // reader thread ids are 0 .. max_readers-1
    uint32_t max_objects = 1u << 16;
    uint32_t io_depth = 32;  // io_uring queue depth = batch size
    uint32_t promotion_ring_size = 4096;
    bool create = true;           // create the store file if missing
    bool verify_on_open = true;   // read every payload once at open
    bool ram_on_ingest = true;    // place ingested chunks in RAM while slots are free
    bool force_buffered = false;  // skip O_DIRECT (tests of the fallback)
    int socket_id = -1;           // SOCKET_ID_ANY
    std::string name = "cs";      // prefix of DPDK object names; unique per store

    uint32_t max_waiters = 64;         // promotion completion queues (add_waiter)
    uint32_t waiter_ring_size = 1024;  // completions one waiter may have unread
};

enum class Err { ok, full, not_found, io, invalid, corrupt, busy };

struct Status {
    Err code = Err::ok;
    std::string msg;
    bool ok() const { return code == Err::ok; }
    static Status error(Err c, std::string m) { return {c, std::move(m)}; }
};

struct Usage {
    uint64_t ram_capacity_bytes, ram_bytes_used;  // slot granular; includes unlinked-but-pinned
    uint64_t ram_resident_chunks, ram_resident_payload_bytes;
    // Resident chunks something beside the index references now (a send
    // queue, an mbuf in flight): back to 0 when nothing is sent, so a pin
    // leak shows here (bench/soak.py watches it).
    uint64_t ram_pinned_chunks;
    uint64_t disk_capacity_bytes, disk_bytes_used;  // record-slot granular
    uint64_t disk_chunks, objects;
};

struct OpenReport {
    uint64_t slots_scanned = 0, records_ok = 0, records_bad = 0, records_stale = 0;
    uint64_t objects = 0, objects_incomplete = 0;
    uint64_t objects_with_lost_chunks = 0;  // kept, minus the chunks that failed
    uint64_t objects_filled = 0;            // of `objects`: pulled from an origin (may have holes)
};

struct VerifyReport {
    uint64_t chunks_ok = 0, chunks_bad = 0, objects_ok = 0, objects_bad = 0;
};

// Told, on the control thread, of every change to what the RAM tier serves,
// so the cache keeper's policy mirrors the store exactly: its tracked chunks
// are the resident ones, no more and no fewer (a test asserts it).
class RamObserver {
  public:
    virtual ~RamObserver() = default;
    // The chunk is now served from RAM: ingested (promoted = false) or
    // brought in from disk.
    virtual void chunk_linked(const Chunk &c, bool promoted) = 0;
    // The chunk is no longer served from RAM: evicted, removed, replaced by
    // a version without a RAM copy, or lost to a checksum failure.
    virtual void chunk_unlinked(ChunkKey key) = 0;
    // Work needs `slots` more free RAM slots than there are: an ingest into
    // a RAM-only store, or promotions waiting for a slot. The observer may
    // evict (Store::evict) to make room, but never object `keep` (the one
    // being written). Evicted slots come back after the RCU grace period:
    // for an ingest (keep != 0) the observer waits for it (synchronize()),
    // since the ingest needs the slots now; promotions retry next poll.
    virtual void need_ram(uint32_t slots, ObjectId keep) = 0;
    // A chunk pulled from an origin is about to take a RAM slot: would the
    // policy keep it (TinyLFU admission)? A declined chunk is still placed
    // in RAM for the responses waiting for it (and linked: the keeper drops
    // it once they are done) but never written to the disk tier, so a scan
    // of one-hit objects costs neither disk records nor the hot set.
    virtual bool admit_fill(ChunkKey key) {
        (void)key;
        return true;
    }
    // The disk tier (issue 14): a filled chunk's record was written (the
    // keeper ranks these for disk eviction), or a record of any kind left
    // the disk index (evicted, removed, replaced, failed its checksum).
    virtual void fill_record_added(ChunkKey key) { (void)key; }
    virtual void disk_record_dropped(ChunkKey key) { (void)key; }
    // A filled chunk's record is waiting and the disk tier has no free slot:
    // the observer may drop filled records (Store::evict_fill_record) to
    // make room, `slots` at least. Ingested records are never victims.
    virtual void need_disk(uint32_t slots) { (void)slots; }
};

// A consumer of promotion completions on a data core (one per streaming
// service instance): see Store::add_waiter.
using WaiterId = uint32_t;
inline constexpr WaiterId kNoWaiter = UINT32_MAX;

// What Store::evict did with a chunk.
enum class EvictResult : uint8_t { evicted, pinned, absent };

class Store {
  public:
    static std::unique_ptr<Store> open(const Config &cfg, std::string *err,
                                       OpenReport *report = nullptr);
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    // ---------------- data cores: lock-free, no allocation ----------------
    // Each reader thread registers once with its id and reports a quiescent
    // state once per loop iteration, when it holds no unpinned pointer
    // obtained from lookup()/lookup_object().
    bool register_reader(uint32_t tid);
    void unregister_reader(uint32_t tid);
    void quiescent(uint32_t tid) { rte_rcu_qsbr_quiescent(qsbr_, tid); }

    // nullptr on a RAM miss. Valid until the caller's next quiescent(); pin()
    // it to keep it longer.
    Chunk *lookup(uint32_t tid, ChunkKey key) {
        auto &c = rc_[tid].c;
        ++c.lookups;
        auto *ch = static_cast<Chunk *>(chunks_.lookup(key));
        ++(ch ? c.hits : c.misses);
        return ch;
    }
    // Same, also checking the chunk is chunk `index` of exactly this version
    // of the object (a re-ingest publishes chunks one by one: never mix).
    Chunk *lookup(uint32_t tid, const ObjectMeta &m, uint32_t index) {
        Chunk *ch = lookup(tid, chunk_key(m.id, index));
        return ch && ch->oid == m.id && ch->index == index && ch->generation == m.generation
                   ? ch
                   : nullptr;
    }
    // Same, also checking the chunk belongs to (oid, index).
    Chunk *lookup(uint32_t tid, ObjectId oid, uint32_t index) {
        Chunk *ch = lookup(tid, chunk_key(oid, index));
        return ch && ch->oid == oid && ch->index == index ? ch : nullptr;
    }
    // Burst lookup (n <= 32, RTE_HASH_LOOKUP_BULK_MAX): the hash prefetches
    // all buckets first, hiding most cache misses. Misses come back nullptr.
    void lookup_bulk(uint32_t tid, const ChunkKey *keys, unsigned n, Chunk **out) {
        auto &c = rc_[tid].c;
        chunks_.lookup_bulk(keys, n, reinterpret_cast<void **>(out));
        c.lookups += n;
        for (unsigned i = 0; i < n; ++i) ++(out[i] ? c.hits : c.misses);
    }
    // Looks up and pins in one go (the usual serve path).
    Chunk *lookup_pinned(uint32_t tid, ChunkKey key) {
        Chunk *ch = lookup(tid, key);
        if (ch) {
            pin(ch);
            ++rc_[tid].c.pins;
        }
        return ch;
    }
    // nullptr if unknown. Valid until the caller's next quiescent().
    const ObjectMeta *lookup_object(uint32_t tid, std::string_view name);
    // By id (what a streaming response keeps), to tell a chunk that is on
    // its way from one that will never come: the object was removed or
    // replaced, or the chunk was lost to a checksum failure.
    const ObjectMeta *lookup_object(uint32_t tid, ObjectId id) {
        ++rc_[tid].c.object_lookups;
        return static_cast<const ObjectMeta *>(objects_.lookup(id));
    }
    // Asks the control thread to bring a disk chunk into RAM. Never blocks;
    // false if the request ring is full (try again next loop).
    // With a waiter (add_waiter), the key is queued back to that waiter
    // once the request is settled: the chunk was published, or it will not
    // come from this request (already resident, no disk record, failed its
    // checksum, removed or replaced meanwhile, or dropped by a full wait
    // list). A waiter re-checks the chunk; it never has to poll for it.
    bool request_promotion(uint32_t tid, ChunkKey key, WaiterId waiter = kNoWaiter);
    // Data core owning `w`: up to n settled keys (oldest first). *overflow
    // is set when completions were lost to a full queue since the last call:
    // the caller must then re-check every key it waits for.
    unsigned promotions_settled(WaiterId w, ChunkKey *keys, unsigned n, bool *overflow);

    // A new completion queue (single producer: the control thread; single
    // consumer: the caller's data core). Any thread, before or while the
    // control thread runs; kNoWaiter when max_waiters are taken.
    WaiterId add_waiter();

    // ---------------- pull on miss (docs/origin.md) ----------------
    // A data core that fetched an object's metadata or a chunk from an
    // origin hands it to the control thread through its own fill channel
    // (single producer: that core; single consumer: the control thread's
    // poll()). The message stays the core's; the control thread sets
    // `state` (release) once done, and tells `waiter` the key (a chunk) or
    // the object id (begin) on its completion ring, like a promotion.
    struct FillMsg {
        // refresh: the origin said 304, the version stays, fresh until expires_unix_s.
        // negative: the origin said `status` (404/410) for `name`: remember
        // that until expires_unix_s (put_negative). purge: drop `name`, or
        // every object under it when it ends in '/' (HTTP PURGE).
        enum class Kind : uint8_t { begin, chunk, refresh, negative, purge };
        enum : uint8_t { kPosted = 0, kDone = 1, kRefused = 2 };
        Kind kind = Kind::chunk;
        WaiterId waiter = kNoWaiter;
        ObjectId oid = 0;
        uint64_t generation = 0;  // chunk: the begin's; begin: set by the control thread
        uint64_t size = 0, etag = 0;
        int64_t mtime_ns = 0;
        int64_t expires_unix_s = 0;   // begin, refresh: 0 = no max-age
        uint8_t origin_etag_len = 0;  // begin
        char origin_etag[96];
        uint32_t index = 0, len = 0;    // chunk
        uint16_t status = 0;            // negative
        bool no_store = false;          // begin: the origin forbade storing it
        uint32_t purged = 0;            // purge: objects dropped (set by the control thread)
        const uint8_t *data = nullptr;  // chunk: len bytes, copied into a RAM slot
        uint16_t name_len = 0, ctype_len = 0;
        char name[kMaxName];
        char ctype[kMaxContentType];
        std::atomic<uint8_t> state{kPosted};
    };
    // Any thread, before the data cores post: a channel id, or UINT32_MAX.
    uint32_t add_fill_channel();
    // Data core: never blocks; false if the channel is full (post again later).
    bool post_fill(uint32_t channel, FillMsg *m) {
        m->state.store(FillMsg::kPosted, std::memory_order_relaxed);
        return rte_ring_sp_enqueue(fill_rings_[channel], m) == 0;
    }
    // Control thread (also run from poll()): publishes an object whose
    // chunks will come one by one (ObjectMeta::filled). The same name with
    // the same size and etag keeps the version already there (*generation
    // is its); anything else replaces it (responses of the old version are
    // reset, as after a re-ingest).
    Status begin_fill(std::string_view name, uint64_t size, uint64_t etag, int64_t mtime_ns,
                      std::string_view ctype, uint64_t *generation, int64_t expires_unix_s = 0,
                      std::string_view origin_etag = {}, bool no_store = false);
    // Negative caching: `name` does not exist at its origin (`status`), until
    // expires_unix_s; an ingested object of that name is left alone.
    // Expired entries are dropped by poll().
    Status put_negative(std::string_view name, uint16_t status, int64_t expires_unix_s);
    // Revalidated (304): the same version, fresh until expires_unix_s.
    Status refresh_fill(ObjectId oid, uint64_t gen, int64_t expires_unix_s);
    // Copies one complete chunk of generation `gen` into a RAM slot and
    // publishes it; with a disk tier, a chunk the observer admits (admit_fill)
    // is also written to a v3 disk record in the background (pinned until the
    // write completes), so it survives eviction and a restart. Refused (not_found) when that version is gone, invalid
    // when index or length do not fit the object, full without a RAM slot.
    Status put_fill_chunk(ObjectId oid, uint64_t gen, uint32_t index, const uint8_t *data,
                          uint32_t len);

    // ---------------- control thread ----------------
    // Reads `size` bytes through src(offset, buf, len) chunk by chunk.
    using Source = std::function<bool(uint64_t off, void *buf, uint32_t len)>;
    Status put_object(std::string_view name, uint64_t size, const Source &src, int64_t mtime_ns,
                      std::string_view content_type = {});
    Status put_object(std::string_view name, std::span<const uint8_t> data, int64_t mtime_ns,
                      std::string_view content_type = {});
    // Removes the chunk from both tiers, and with it the rest of its object
    // (an incomplete object is never served). Pinned memory stays valid
    // until unpinned.
    Status remove(ChunkKey key);
    Status remove_object(std::string_view name);
    // Drops the RAM copy only (the disk record stays; in a RAM-only store the
    // object goes). false if pinned or not resident: eviction skips pinned
    // chunks.
    //
    // Where RAM is the only copy (no disk tier), evicting a chunk deletes
    // content, so the unit is the whole object: it goes only if none of its
    // chunks is pinned, and never leaves an object with holes.
    EvictResult evict(ChunkKey key);
    bool try_evict(ChunkKey key) { return evict(key) == EvictResult::evicted; }
    // Disk eviction of content pulled from an origin: drops the chunk's disk
    // record (tombstoned before the slot is reused; the RAM copy, if any,
    // stays served) so a newer fill can be written. The chunk becomes a hole
    // when it is not in RAM and is fetched from the origin again. absent
    // when there is no record or it belongs to an ingested object (no origin
    // to refetch it from: never dropped), pinned while a promotion reads it.
    EvictResult evict_fill_record(ChunkKey key);
    // Disk record slots in all, and free now (0 without a disk tier).
    uint32_t disk_slots() const { return disk_slots_; }
    uint32_t disk_free_slots() const { return static_cast<uint32_t>(disk_free_.size()); }
    // Every disk record of a filled object (what the keeper ranks for disk
    // eviction), in no order.
    void for_each_fill_record(const std::function<void(ChunkKey)> &fn) const;
    void set_observer(RamObserver *o) { obs_ = o; }
    // Long control-thread work (put_object, so every ingest) calls `fn`
    // between chunks, at most once a millisecond, so promotions, eviction
    // and RCU reclamation go on while a large object is written. `fn` may
    // call poll() and the cache keeper, never put_object.
    void set_background_work(std::function<void()> fn) { background_ = std::move(fn); }
    // Control thread: free RAM slots now (slots of released chunks drained
    // first), and chunks linked in the index (what the policy must track).
    uint32_t ram_free_slots();
    uint32_t ram_slots() const { return ram_slots_; }
    uint64_t ram_linked_chunks() const { return ram_linked_; }
    // Promotions that found no free slot and wait for one.
    size_t promotions_waiting() const { return promo_wait_.size(); }
    // Control-thread view of a resident chunk (nullptr if not in RAM).
    const Chunk *resident_chunk(ChunkKey key) const {
        return static_cast<const Chunk *>(chunks_.lookup(key));
    }
    const ObjectMeta *object_by_id(ObjectId id) const {
        auto it = objects_ctl_.find(id);
        return it == objects_ctl_.end() ? nullptr : it->second;
    }

    // Control loop step: promotion requests and completions, returned slots,
    // RCU reclamation. Returns how many items of work it did. With wait_io,
    // blocks in the kernel for a completion when reads are in flight and
    // there is nothing else to do (for a control thread with nothing else
    // to do; a data core never calls this).
    unsigned poll(bool wait_io = false);
    // Blocks until every reader has passed a quiescent state, then reclaims
    // everything deferred so far. Readers must keep calling quiescent().
    // A control thread that is itself a registered reader passes its id.
    void synchronize(uint32_t self_tid = RTE_QSBR_THRID_INVALID);
    // Cold paths for tools and tests: verified copy of a chunk / synchronous
    // promotion.
    Status read_chunk(ChunkKey key, std::vector<uint8_t> *out);
    Status promote_now(ChunkKey key);
    // Waits for the filled chunks' record writes, then fdatasync.
    Status flush();
    VerifyReport verify();
    // Filled chunks whose disk record is queued or being written.
    size_t fill_writes_pending() const { return fill_write_q_.size() + fill_writing_.size(); }

    Counters counters() const;
    Usage usage() const;
    bool disk_direct() const { return disk_ && disk_->direct(); }
    bool has_disk() const { return disk_ != nullptr; }
    // Resident-key iteration for the eviction driver; `cursor` starts at 0.
    bool next_resident(uint32_t *cursor, ChunkKey *key, Chunk **chunk) const {
        void *d;
        bool ok = chunks_.iterate(cursor, key, &d);
        if (ok) *chunk = static_cast<Chunk *>(d);
        return ok;
    }
    void for_each_object(const std::function<void(const ObjectMeta &)> &fn) const;
    const ObjectMeta *object_ctl(std::string_view name) const;  // control-thread view
    bool on_disk(ChunkKey key) const { return disk_index_.count(key) != 0; }

  private:
    struct alignas(64) ReaderCounters {
        Counters c;
    };
    struct DiskEntry {
        uint32_t slot;
        uint32_t len;
        uint32_t index;
        uint64_t generation;
        uint64_t xxh3;
        ObjectId oid;
    };
    enum class DeferKind : uint8_t { chunk, object };
    struct Deferred {
        uint64_t token;
        DeferKind kind;
        int32_t pos;  // hash position to free, or -1 (replaced, not deleted)
        void *ptr;
    };
    struct IoBuf;  // staging buffer for writes and promotion headers

    Store() = default;
    bool init(const Config &cfg, std::string *err, OpenReport *rep);
    bool scan(OpenReport *rep, std::string *err);

    Chunk *alloc_ram();
    void free_ram_slot(Chunk *c);
    // Fills a descriptor; the caller has already computed xxh3 and the
    // checksum prefix (hash_and_csum) into c.
    void fill_chunk(Chunk *c, ChunkKey key, ObjectId oid, uint32_t index, uint32_t len,
                    uint64_t gen, uint64_t xxh3);
    bool publish_chunk(Chunk *c, bool promoted);
    // Every removal of a key from the RAM index goes through here, so the
    // observer and the linked count never miss one.
    void unlink_chunk(ChunkKey key, Chunk *c);
    // RAM-only ingest that lacks slots: ask the observer to evict, wait out
    // the grace period, and count again.
    void make_ram_room(uint32_t slots, ObjectId keep);
    void run_background();
    void defer(DeferKind k, int32_t pos, void *p);
    unsigned reclaim();
    unsigned drain_released();
    unsigned handle_promotions();
    // Tells every waiter of `key` that its request is settled.
    void settle_waiters(ChunkKey key);
    void notify_waiter(WaiterId w, uint64_t key);
    unsigned handle_fills();
    void sweep_negatives(int64_t now_unix_s);
    // Filled chunks to disk (store_fill.cc): queued by put_fill_chunk,
    // started while I/O buffers and disk slots are free, finished by reap().
    void queue_fill_write(ChunkKey key);
    unsigned start_fill_writes();
    void finish_fill_write(IoBuf *b);
    void drain_fill_writes();
    void set_on_disk(ObjectId oid, uint32_t index, bool on);
    IoBuf *start_promotion(ChunkKey key);
    void finish_promotion(IoBuf *b);
    unsigned verify_promoted();
    unsigned reap(bool wait);
    IoBuf *get_iobuf();
    template <class Prep, class Done>
    void run_sync_batch(size_t n, Prep prep, Done done);
    bool read_record_sync(const DiskEntry &e, IoBuf *b, std::string *why);
    void drop_disk_record(ChunkKey key, const char *why);
    // Every erase from disk_index_ goes through here (the observer mirrors
    // the filled records).
    void erase_disk_entry(std::unordered_map<ChunkKey, DiskEntry>::iterator it);
    // Republishes the object's meta with chunk `index` marked lost (the
    // whole object goes once every chunk is lost).
    void mark_lost(ObjectId oid, uint32_t index);
    void tombstone(uint32_t slot);
    void unpublish_object(ObjectId id);
    bool drop_chunk(ChunkKey key, ObjectId *oid);  // both tiers, object left as is
    void drop_object(ObjectId oid);                // all its chunks, then the object
    uint64_t slot_offset(uint32_t slot) const { return uint64_t{slot} * kRecordSize; }

    Config cfg_;
    rte_rcu_qsbr *qsbr_ = nullptr;
    KeyIndex chunks_, objects_;
    ReaderCounters *rc_ = nullptr;  // max_readers + 1; the last one is the control thread's
    Counters *ctl_ = nullptr;

    // RAM tier
    uint8_t *slab_ = nullptr;
    Chunk *descs_ = nullptr;
    uint32_t ram_slots_ = 0;
    std::vector<uint32_t> ram_free_;
    rte_ring *release_ring_ = nullptr;  // chunks whose last reference dropped
    rte_ring *promo_ring_ = nullptr;    // PromoRequest: keys data cores want promoted
    // Promotion completion queues, index = WaiterId. Slots below
    // waiters_used_ are set once (add_waiter) and read by the control thread.
    struct alignas(64) Waiter {
        rte_ring *ring = nullptr;
        std::atomic<bool> overflow{false};
    };
    Waiter *waiters_ = nullptr;
    std::atomic<uint32_t> waiters_used_{0};
    // Fill channels (add_fill_channel), index = channel id.
    static constexpr uint32_t kMaxFillChannels = 64;
    rte_ring *fill_rings_[kMaxFillChannels] = {};
    std::atomic<uint32_t> fill_used_{0};
    // Control thread: who waits for which key (a handful of waiters each).
    std::unordered_map<ChunkKey, std::vector<WaiterId>> promo_waiters_;
    std::deque<Deferred> deferred_;
    uint64_t ram_linked_ = 0;
    RamObserver *obs_ = nullptr;
    std::function<void()> background_;
    bool in_background_ = false;
    uint64_t next_background_ns_ = 0;
    std::deque<ChunkKey> promo_wait_;  // promotions that found RAM full
    std::unordered_map<ChunkKey, bool> promo_waiting_;

    // Disk tier (control thread)
    std::unique_ptr<DiskFile> disk_;
    uint32_t disk_slots_ = 0;
    std::vector<uint32_t> disk_free_;
    std::unordered_map<ChunkKey, DiskEntry> disk_index_;
    std::unordered_map<ChunkKey, uint32_t> lost_records_;  // failed payloads of kept objects: slot
    uint64_t next_gen_ = 1;
    // Negative entries in the order they expire (one TTL for all, so FIFO):
    // {expires, oid, generation}; a replaced entry is skipped.
    struct NegativeEntry {
        int64_t expires;
        ObjectId oid;
        uint64_t generation;
    };
    std::deque<NegativeEntry> negatives_;
    std::vector<IoBuf *> io_bufs_;
    std::vector<IoBuf *> io_free_;
    std::unordered_map<ChunkKey, IoBuf *> promoting_;  // read in flight or awaiting verification
    std::deque<ChunkKey> fill_write_q_;                 // filled chunks to write to disk
    std::unordered_map<ChunkKey, IoBuf *> fill_writing_;  // their writes in flight
    struct Landed {  // a promotion read that completed, payload not yet verified
        Chunk *c;
        ChunkKey key;
        ObjectId oid;
        uint64_t generation, xxh3;
        uint32_t index, len;
    };
    std::deque<Landed> landed_;

    std::unordered_map<ObjectId, ObjectMeta *> objects_ctl_;
};

}  // namespace ep::chunkstore
