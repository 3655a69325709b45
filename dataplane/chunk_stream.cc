#include "dataplane/chunk_stream.h"

#include <algorithm>
#include <new>

#include "dataplane/tcp_io.h"

namespace ep {

namespace {
constexpr uint64_t kNoWaiterRetryNs = 1'000'000;  // without a completion queue: re-check every 1 ms
// A connection blocked by a pin limit that acknowledged something this
// recently is retried every loop (a fast reader must not wait for the
// sweep); one that did not is retried by the sweep.
constexpr uint64_t kActiveNs = 100'000'000;
// Chunks looked up in one rte_hash burst (<= RTE_HASH_LOOKUP_BULK_MAX):
// enough to cover a full send buffer (1 MiB = 4 chunks) with room to spare.
constexpr unsigned kLookupBurst = 8;
// A wait for an origin fill ends when the filler gives up (its own timeout
// per server, times the servers); this only bounds a filler that never
// answers.
constexpr uint64_t kFillWaitNs = 60'000'000'000;
}  // namespace

ChunkStream::~ChunkStream() = default;

bool ChunkStream::init(tcp::Stack *stack, chunkstore::Store *store, uint32_t reader_id,
                       uint32_t max_conns, const StreamConfig &cfg, StreamOwner *owner,
                       AccessSink *access) {
    stack_ = stack;
    store_ = store;
    tid_ = reader_id;
    cfg_ = cfg;
    owner_ = owner;
    access_ = access;
    if (cfg.live) live_seen_ = cfg.live->version.load(std::memory_order_acquire);
    set_pin_limits(cfg.pin_conn_bytes, cfg.pin_ram_pct);
    uint64_t nb = 16;
    while (nb < uint64_t{max_conns} * 2) nb <<= 1;
    buckets_.reset(new (std::nothrow) StreamConn *[nb]());
    if (!buckets_) return false;
    mask_ = nb - 1;
    // Without a completion queue (all taken) waiters fall back to polling.
    waiter_ = store_->add_waiter();
    return true;
}

void ChunkStream::attach(StreamConn &sc, tcp::ConnId id) {
    sc.id = id;
    sc.attached = true;
    sc.queued = 0;
    sc.pins.reset(now_ns_);
    sc.pin_blocked = sc.budget_wait = sc.listed = sc.rerequest = sc.fill_wait = false;
    sc.waiting_since_ns = 0;
    sc.wait_key = 0;
    sc.next_obj = 0;
    sc.next_waiter = nullptr;
    sc.prev = nullptr;
    sc.next = attached_;
    if (attached_) attached_->prev = &sc;
    attached_ = &sc;
}

void ChunkStream::detach(StreamConn &sc) {
    if (!sc.attached) return;
    if (sc.listed) unlist_wait(sc);
    // The stack drops (or already dropped) the send queue's references.
    pinned_ -= sc.pins.count();
    sc.pins.reset(now_ns_);
    sc.waiting_since_ns = 0;
    sc.fill_wait = false;
    if (sc.prev)
        sc.prev->next = sc.next;
    else
        attached_ = sc.next;
    if (sc.next) sc.next->prev = sc.prev;
    sc.prev = sc.next = nullptr;
    sc.attached = false;
}

ChunkStream::Handle ChunkStream::hold(StreamConn &sc, chunkstore::ObjectId oid,
                                      uint64_t generation) {
    const uint8_t slot = sc.next_obj;
    sc.next_obj = static_cast<uint8_t>((slot + 1) % StreamConn::kObjSlots);
    sc.objs[slot] = {oid, generation};
    return slot;
}

bool ChunkStream::copy(StreamConn &sc, const uint8_t *data, uint32_t len, uint32_t *done) {
    while (*done < len) {
        const uint32_t n = stack_->send_copy(sc.id, data + *done, len - *done);
        if (n == 0) return false;  // on_writable() resumes
        *done += n;
        sc.queued += n;
    }
    return true;
}

ChunkStream::Sent ChunkStream::send(StreamConn &sc, Handle h, uint64_t offset, uint64_t len,
                                    uint64_t *done) {
    using chunkstore::kChunkSize;
    const StreamConn::ObjRef &obj = sc.objs[h % StreamConn::kObjSlots];
    // The chunks of this call are looked up in bursts: keys[i] / got[i] is
    // chunk first + i. Pointers are good until this core's next quiescent
    // state, so the burst lives only as long as this call.
    chunkstore::ChunkKey keys[kLookupBurst];
    chunkstore::Chunk *got[kLookupBurst];
    uint32_t first = 0, nb = 0;
    while (*done < len) {
        const uint64_t pos = offset + *done;
        const auto index = static_cast<uint32_t>(pos / kChunkSize);
        const auto in_chunk = static_cast<uint32_t>(pos % kChunkSize);
        if (index - first >= nb) {
            // As many chunks as the rest of the range, the send buffer's room
            // and the connection's pins could take now.
            const auto last = static_cast<uint32_t>((offset + len - 1) / kChunkSize);
            const uint32_t queued = stack_->info(sc.id).send_queued;
            const uint32_t buf = stack_->config().snd_buf_bytes;
            const uint32_t room = buf > queued ? buf - queued : 1;
            const uint32_t by_room = (in_chunk + room - 1) / kChunkSize + 1;
            const uint32_t by_pins =
                conn_pin_cap_ - std::min<uint32_t>(sc.pins.count(), conn_pin_cap_) + 1;
            nb = std::min({last - index + 1, by_room, by_pins, kLookupBurst});
            first = index;
            for (uint32_t i = 0; i < nb; ++i) keys[i] = chunkstore::chunk_key(obj.oid, index + i);
            if (nb == 1)
                got[0] = store_->lookup(tid_, keys[0]);
            else
                store_->lookup_bulk(tid_, keys, nb, got);
        }
        chunkstore::Chunk *ch = got[index - first];
        const chunkstore::ChunkKey key = keys[index - first];
        if (ch && (ch->oid != obj.oid || ch->index != index)) ch = nullptr;  // a key collision
        if (ch && ch->generation != obj.generation) {
            // Re-ingested while streaming: the bytes would no longer match the
            // ETag and length already sent. Never mix versions: reset.
            ++ctr_.version_aborts;
            return Sent::kAbort;
        }
        // A chunk this connection may not pin yet is neither promoted nor
        // counted as an access: a blocked slow reader must not churn the RAM
        // tier for chunks it cannot take.
        if (sc.pins.is_new(key) && !may_pin(sc)) return Sent::kBlocked;
        sc.pin_blocked = sc.budget_wait = false;
        // One access per chunk a send starts on, for the cache policy: at
        // the range's start or a chunk edge, and once per wait.
        if (access_ && (*done == 0 || in_chunk == 0) && sc.waiting_since_ns == 0)
            access_->record(key, ch ? ch->len : kChunkSize, ch != nullptr);
        if (!ch) return wait_for(sc, key, index, obj);
        if (sc.waiting_since_ns) {
            if (sc.listed) unlist_wait(sc);
            sc.waiting_since_ns = 0;
            sc.fill_wait = false;
        }
        const uint64_t want = std::min<uint64_t>(len - *done, ch->len - in_chunk);
        const uint32_t n = stack_->send(sc.id, ch->data + in_chunk, static_cast<uint32_t>(want), ch,
                                        &kChunkBufOps);
        if (n == 0) return Sent::kBlocked;  // on_writable() resumes
        *done += n;
        sc.queued += n;
        if (sc.pins.queued(key, sc.queued)) ++pinned_;
        ctr_.body_bytes_queued += n;
    }
    return Sent::kDone;
}

ChunkStream::Sent ChunkStream::wait_for(StreamConn &sc, chunkstore::ChunkKey key, uint32_t index,
                                        const StreamConn::ObjRef &obj) {
    // A chunk that can never come ends the send at once: the object was
    // removed or replaced (its length and ETag are sent), the chunk failed
    // its checksum, or RAM was the only copy.
    const chunkstore::ObjectMeta *m = store_->lookup_object(tid_, obj.oid);
    const bool gone = !m || m->generation != obj.generation;
    if (!gone && m->filled && filler_ && !m->chunk_lost(index) && !m->chunk_on_disk(index)) {
        // Pulled from an origin and not on disk: the filler fetches it (once
        // for every connection that needs it); this one waits on the key. One
        // with a disk record is promoted below like an ingested chunk.
        if (filler_->want_chunk(*m, index, key) == ChunkFiller::Want::kFail) {
            ++ctr_.fill_aborts;
            return Sent::kAbort;
        }
        if (sc.waiting_since_ns == 0 || sc.wait_key != key) {
            if (sc.listed) unlist_wait(sc);
            sc.wait_key = key;
            sc.waiting_since_ns = std::max<uint64_t>(now_ns_, 1);
            ++ctr_.fill_waits;
            ++sc.disk_waits;  // this response's chunks come from the origin: a fill
        }
        sc.fill_wait = true;
        sc.rerequest = false;
        if (!sc.listed) list_wait(sc);
        return Sent::kBlocked;
    }
    if (gone || m->chunk_lost(index) || !store_->has_disk()) {
        ++(gone ? ctr_.object_gone_aborts : ctr_.chunk_lost_aborts);
        return Sent::kAbort;
    }
    // On disk only (or being replaced): ask once and wait on the key's list,
    // without holding the core, until the store settles the request.
    if (sc.waiting_since_ns == 0 || sc.wait_key != key) {
        if (sc.listed) unlist_wait(sc);
        sc.wait_key = key;
        sc.waiting_since_ns = std::max<uint64_t>(now_ns_, 1);
        ++ctr_.chunk_waits;
        ++sc.disk_waits;
        sc.fill_wait = false;
        request(sc);
    } else if (!sc.listed) {
        // Woken, yet the chunk is not here: the promotion settled without it
        // (evicted again already, or refused). Ask once more.
        ++ctr_.promotion_rerequests;
        request(sc);
    }
    return Sent::kBlocked;
}

void ChunkStream::park(StreamConn &sc, uint64_t key) {
    if (sc.listed && sc.wait_key == key) return;
    if (sc.listed) unlist_wait(sc);
    sc.wait_key = key;
    if (sc.waiting_since_ns == 0) sc.waiting_since_ns = std::max<uint64_t>(now_ns_, 1);
    sc.rerequest = false;
    sc.fill_wait = true;
    list_wait(sc);
}

void ChunkStream::request(StreamConn &sc) {
    // A refused request (ring full) is asked again by the sweep.
    sc.rerequest = !store_->request_promotion(tid_, sc.wait_key, waiter_);
    if (!sc.listed) list_wait(sc);
}

void ChunkStream::list_wait(StreamConn &sc) {
    StreamConn *&head = bucket(sc.wait_key);
    sc.next_waiter = head;
    head = &sc;
    sc.listed = true;
}

void ChunkStream::unlist_wait(StreamConn &sc) {
    for (StreamConn **pp = &bucket(sc.wait_key); *pp; pp = &(*pp)->next_waiter) {
        if (*pp == &sc) {
            *pp = sc.next_waiter;
            break;
        }
    }
    sc.next_waiter = nullptr;
    sc.listed = false;
}

void ChunkStream::wake_key(chunkstore::ChunkKey key) {
    StreamConn **pp = &bucket(key);
    while (StreamConn *sc = *pp) {
        if (sc->wait_key != key) {
            pp = &sc->next_waiter;
            continue;
        }
        *pp = sc->next_waiter;
        sc->next_waiter = nullptr;
        sc->listed = false;
        ++ctr_.promotion_wakes;
        owner_->stream_wake(*sc);
    }
}

void ChunkStream::wake_all() {
    for (StreamConn *sc = attached_; sc; sc = sc->next) {
        if (!sc->listed) continue;
        unlist_wait(*sc);
        ++ctr_.promotion_wakes;
        owner_->stream_wake(*sc);
    }
}

void ChunkStream::poll(uint64_t now_ns) {
    now_ns_ = now_ns;
    ctr_.pinned_bytes = uint64_t{pinned_} * chunkstore::kChunkSize;
    if (waiter_ == chunkstore::kNoWaiter) {
        if (now_ns - retry_ns_ >= kNoWaiterRetryNs) {
            retry_ns_ = now_ns;
            wake_all();
        }
        return;
    }
    chunkstore::ChunkKey keys[32];
    unsigned n;
    do {
        bool overflow = false;
        n = store_->promotions_settled(waiter_, keys, 32, &overflow);
        if (overflow) wake_all();  // some completions were lost: everyone re-checks
        for (unsigned i = 0; i < n; ++i) wake_key(keys[i]);
    } while (n == 32);
}

uint32_t ChunkStream::settle(StreamConn &sc) {
    const uint32_t unacked = stack_->info(sc.id).send_queued;
    pinned_ -= sc.pins.settle(sc.queued - unacked, unacked > 0, now_ns_);
    return unacked;
}

bool ChunkStream::may_pin(StreamConn &sc) {
    settle(sc);
    switch (stream::pin_verdict(sc.pins.count(), conn_pin_cap_, pinned_, pin_budget_)) {
        case stream::PinVerdict::kOk:
            return true;
        case stream::PinVerdict::kConnCap:
            return block_on_pin(sc);
        case stream::PinVerdict::kBudget:
            // The share is used up: the sweep resets stalled holders (reclaim).
            if (!sc.budget_wait) ++ctr_.pin_waits;
            sc.budget_wait = true;
            contended_ = true;
            return block_on_pin(sc);
    }
    return false;
}

bool ChunkStream::block_on_pin(StreamConn &sc) {
    // No stack callback says "acknowledged": a connection that is moving is
    // retried every loop, a stalled one at the next sweep.
    sc.pin_blocked = true;
    if (!sc.pins.stalled(now_ns_, kActiveNs)) owner_->stream_wake(sc);
    return false;
}

void ChunkStream::reclaim() {
    // Largest holders first; only connections that acknowledged nothing for
    // pin_stall_ms: a slow but moving reader is throttled (it waits), never
    // reset for its pins.
    const uint64_t stall_ns = cfg_.pin_stall_ms * 1'000'000;
    for (uint32_t k = conn_pin_cap_; k > 0 && pinned_ >= pin_budget_; --k) {
        for (StreamConn *sc = attached_, *next; sc && pinned_ >= pin_budget_; sc = next) {
            next = sc->next;
            if (sc->pins.count() != k || !sc->pins.stalled(now_ns_, stall_ns)) continue;
            ++ctr_.pin_resets;
            owner_->stream_abort(*sc);  // detaches sc
        }
    }
}

// Pin limits in whole chunks (a pin holds a 256 KiB RAM slot whatever the
// chunk's length). Every sharer gets an even part of the share. Lower
// limits than the pins held now are met as pins are released (reclaim).
void ChunkStream::set_pin_limits(uint32_t conn_bytes, uint32_t ram_pct) {
    cfg_.pin_conn_bytes = conn_bytes;
    cfg_.pin_ram_pct = ram_pct;
    const uint32_t cap = conn_bytes / chunkstore::kChunkSize;
    conn_pin_cap_ = std::clamp<uint32_t>(cap, 1, stream::kMaxPinRuns);
    const uint64_t slots = store_->ram_slots();
    const uint32_t sharers = std::max<uint32_t>(cfg_.pin_sharers, 1);
    pin_budget_ = static_cast<uint32_t>(
        std::max<uint64_t>(slots * std::min<uint32_t>(ram_pct, 100) / 100 / sharers, 1));
}

void ChunkStream::sweep(uint64_t now_ns) {
    now_ns_ = now_ns;
    if (cfg_.live) {  // a reload changed the pin limits
        const uint32_t v = cfg_.live->version.load(std::memory_order_acquire);
        if (v != live_seen_ && (v & 1) == 0) {
            const uint32_t conn = cfg_.live->conn_bytes.load(std::memory_order_relaxed);
            const uint32_t pct = cfg_.live->ram_pct.load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (cfg_.live->version.load(std::memory_order_relaxed) == v) {  // not torn
                set_pin_limits(conn, pct);
                live_seen_ = v;
                contended_ = true;  // pins above a lowered budget are reclaimed below
            }
        }
    }
    const uint64_t wait_limit_ns = cfg_.chunk_wait_ms * 1'000'000;
    uint64_t chunk_waiters = 0, fill_waiters = 0;
    for (StreamConn *sc = attached_, *next; sc; sc = next) {
        next = sc->next;
        if (sc->waiting_since_ns == 0) continue;
        ++(sc->fill_wait ? fill_waiters : chunk_waiters);
        if (now_ns - sc->waiting_since_ns > (sc->fill_wait ? kFillWaitNs : wait_limit_ns)) {
            ++ctr_.chunk_wait_timeouts;
            owner_->stream_abort(*sc);
            continue;
        }
        if (sc->listed && sc->rerequest) {
            ++ctr_.promotion_rerequests;
            request(*sc);
        }
    }
    if (contended_) {
        contended_ = false;
        reclaim();
    }
    // Connections waiting for a pin: moving ones first, so a reader that
    // makes progress gets the freed share before stalled newcomers.
    const uint64_t stall_ns = cfg_.pin_stall_ms * 1'000'000;
    for (int pass = 0; pass < 2; ++pass) {
        for (StreamConn *sc = attached_, *next; sc; sc = next) {
            next = sc->next;
            if (!sc->pin_blocked) continue;
            if (sc->pins.stalled(now_ns, stall_ns) == (pass == 0)) continue;
            sc->pin_blocked = false;
            owner_->stream_run(*sc);
        }
    }
    ctr_.pinned_bytes = uint64_t{pinned_} * chunkstore::kChunkSize;
    __atomic_store_n(&ctr_.chunk_waiters, chunk_waiters, __ATOMIC_RELAXED);
    __atomic_store_n(&ctr_.fill_waiters, fill_waiters, __ATOMIC_RELAXED);
}

void ChunkStream::visit_counters(const CounterVisitor &fn) const {
#define EP_X(field, kind, help) \
    fn({#field, help, __atomic_load_n(&ctr_.field, __ATOMIC_RELAXED), EP_STREAM_IS_GAUGE_##kind});
    EP_CHUNK_STREAM_COUNTERS(EP_X)
#undef EP_X
}

}  // namespace ep
