// Streaming objects out of the chunk store onto a tcp::Stack send queue,
// for every TCP service (HTTP bodies now; BitTorrent piece blocks and origin
// fill next). One ChunkStream per service instance (per data lcore and port);
// each connection embeds a StreamConn. What it does:
//
// - Object versions: a connection holds (object id, generation) in a slot,
//   never an ObjectMeta pointer (valid only until the next quiescent state).
//   A chunk of another version, or an object gone mid-response, resets the
//   connection: the length and ETag already sent would no longer match.
// - Disk chunks: a chunk only on disk is promoted by the control thread; the
//   connection waits (never the core) on a per-key wait list and is woken
//   when the store settles that promotion (Store::add_waiter): no polling,
//   one request per wait. The wait is bounded (chunk_wait_ms).
// - The access stream: one AccessSink record per chunk a send starts.
// - Zero copy: chunk ranges are queued as references to chunk memory
//   (kChunkBufOps: pin, unpin, checksum from the block sums).
// - Pinned RAM (docs/http.md "Pinned RAM"): a send queue pins the chunks it
//   references until they are acknowledged, bounded per connection and per
//   ChunkStream. It lives here, not in HTTP, because the limit is a share of
//   the RAM tier every streaming service draws on, and any service's slow
//   reader pins chunks the same way.
//
// A peer-wire service sends "13-byte header + 16 KiB of chunk i":
//   copy(sc, hdr, 13, &hoff); send(sc, h, uint64_t{i} * kChunkSize + begin, 16384, &off);
// and HTTP a body piece: send(sc, h, piece.offset, piece.length, &off).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "chunkstore/store.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/service.h"
#include "dataplane/stream/send_pins.h"

namespace ep {

// Called for every chunk a send starts on (hit or miss in RAM): the cache
// policy's access stream. Must not block.
struct AccessSink {
    virtual ~AccessSink() = default;
    virtual void record(uint64_t key, uint32_t bytes, bool hit) = 0;
    // A request named an object the store does not hold.
    virtual void record_absent(uint64_t) {}
};

// X(field, total|gauge, help). Shown in the owning service's section.
#define EP_CHUNK_STREAM_COUNTERS(X)                                                               \
    X(body_bytes_queued, total, "object bytes put on TCP send queues")                            \
    X(chunk_waits, total, "sends that waited for a disk promotion")                               \
    X(promotion_wakes, total, "waiting connections woken by a settled promotion")                 \
    X(promotion_rerequests, total,                                                                \
      "promotions asked again: settled without the chunk, or the request ring was full")          \
    X(chunk_wait_timeouts, total, "connections aborted: a chunk never arrived")                   \
    X(object_gone_aborts, total, "aborted: the object was removed or replaced mid-response")      \
    X(chunk_lost_aborts, total, "aborted: the response needs a chunk lost to a checksum failure") \
    X(version_aborts, total, "object replaced mid-response: connection reset")                    \
    X(pin_resets, total, "stalled connections reset: pinned RAM share exhausted")                 \
    X(pin_waits, total, "waits for a chunk: the pinned RAM share was used up")                    \
    X(pinned_bytes, gauge, "RAM chunk bytes send queues pin now")                                 \
    X(fill_waits, total, "sends that waited for a chunk pulled from an origin")                   \
    X(fill_aborts, total, "aborted: the origin fill of a needed chunk failed")                    \
    X(chunk_waiters, gauge, "connections waiting for a disk promotion now (every 100 ms)")        \
    X(fill_waiters, gauge, "connections waiting for an origin fill now (every 100 ms)")

#define EP_STREAM_IS_GAUGE_total false
#define EP_STREAM_IS_GAUGE_gauge true

struct StreamCounters {
#define EP_X(field, kind, help) uint64_t field = 0;
    EP_CHUNK_STREAM_COUNTERS(EP_X)
#undef EP_X
};

// Pin limits a live reload may change (--http-pin-conn-kb,
// --http-pin-ram-pct), one for every ChunkStream, as a sequence lock: the
// control thread (the one writer) makes `version` odd, stores the values,
// makes it even again; each stream compares the version once per sweep
// (100 ms) and takes the values only when it read the same even version
// before and after them. No lock, no wait on the lcore.
struct PinLimits {
    std::atomic<uint32_t> conn_bytes{1024 * 1024};
    std::atomic<uint32_t> ram_pct{50};
    std::atomic<uint32_t> version{0};

    void publish(uint32_t conn, uint32_t pct) {
        const uint32_t v = version.load(std::memory_order_relaxed);
        version.store(v + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        conn_bytes.store(conn, std::memory_order_relaxed);
        ram_pct.store(pct, std::memory_order_relaxed);
        version.store(v + 2, std::memory_order_release);
    }
};

struct StreamConfig {
    const PinLimits *live = nullptr;        // set: the two limits below follow it
    uint32_t pin_conn_bytes = 1024 * 1024;  // chunks one connection may pin (whole chunks)
    uint32_t pin_ram_pct = 50;              // of the RAM tier, all sharers together
    uint32_t pin_sharers = 1;               // ChunkStreams splitting that share evenly
    uint64_t pin_stall_ms = 1'000;          // no ACK this long: a reset candidate
    uint64_t chunk_wait_ms = 5'000;         // a promotion that never comes
};

// Per-connection state; the service embeds one in its connection and
// attaches it at accept.
struct StreamConn {
    static constexpr uint8_t kObjSlots = 8;  // > HTTP response queue depth + 1 streaming

    // Bytes the stack accepted (copy/send). Minus ConnInfo::send_queued it
    // is the bytes acknowledged: the progress measure of send timeouts.
    uint64_t queued = 0;
    // Chunk waits for the disk tier or an origin fill so far (never reset):
    // a service that notes it when a response starts knows whether that
    // response was a fill (the access log's cache result).
    uint32_t disk_waits = 0;

  private:
    friend class ChunkStream;
    struct ObjRef {
        chunkstore::ObjectId oid = 0;
        uint64_t generation = 0;
    };
    tcp::ConnId id{};
    bool attached = false;
    bool pin_blocked = false;  // a new chunk waits for a pin limit
    bool budget_wait = false;  // ... for the total share (counted once per wait)
    bool listed = false;       // on the wait list of wait_key
    bool rerequest = false;    // the promotion request was refused (ring full)
    bool fill_wait = false;    // waits for an origin fill (bounded by the filler, and kFillWaitNs)
    uint8_t next_obj = 0;
    uint64_t wait_key = 0;
    uint64_t waiting_since_ns = 0;  // waits for a promotion since then (0: not waiting)
    stream::SendPins pins;
    ObjRef objs[kObjSlots];
    StreamConn *next_waiter = nullptr;            // same wait bucket
    StreamConn *prev = nullptr, *next = nullptr;  // attached connections
};

// What a ChunkStream asks of the service that owns the connections.
class StreamOwner {
  public:
    virtual ~StreamOwner() = default;
    // Run the connection's sends again at the service's next poll.
    virtual void stream_wake(StreamConn &) = 0;
    // Run them now (called from ChunkStream::sweep, never from send()).
    virtual void stream_run(StreamConn &) = 0;
    // Reset the connection now; the service detaches it.
    virtual void stream_abort(StreamConn &) = 0;
};

// Pull on miss (docs/origin.md): who fetches a missing chunk of an object
// that came from an origin (ObjectMeta::filled). The stream parks the
// connection on the chunk's key; the store tells the stream's completion
// ring when the chunk is published, the filler calls wake() when it fails.
class ChunkFiller {
  public:
    enum class Want : uint8_t { kWait, kFail };
    virtual ~ChunkFiller() = default;
    // Starts or joins the fetch of chunk `index`; kFail: it failed just now
    // (the response is reset).
    virtual Want want_chunk(const chunkstore::ObjectMeta &m, uint32_t index,
                            chunkstore::ChunkKey key) = 0;
};

class ChunkStream {
  public:
    using Handle = uint8_t;
    enum class Sent : uint8_t {
        kDone,     // all of the range is queued
        kBlocked,  // resumed later: on_writable, a settled promotion, or a pin (the owner is told)
        kAbort,    // counted here; the owner must reset the connection (and detach)
    };

    ChunkStream() = default;
    ~ChunkStream();
    ChunkStream(const ChunkStream &) = delete;
    ChunkStream &operator=(const ChunkStream &) = delete;

    bool init(tcp::Stack *stack, chunkstore::Store *store, uint32_t reader_id, uint32_t max_conns,
              const StreamConfig &cfg, StreamOwner *owner, AccessSink *access = nullptr);

    void attach(StreamConn &sc, tcp::ConnId id);
    void detach(StreamConn &sc);  // drops its pins' accounting and its wait

    // Remembers an object version for later sends; slots are reused round
    // robin (kObjSlots), so a handle stays good for the next kObjSlots - 1 holds.
    static Handle hold(StreamConn &sc, const chunkstore::ObjectMeta &m) {
        return hold(sc, m.id, m.generation);
    }
    static Handle hold(StreamConn &sc, chunkstore::ObjectId oid, uint64_t generation);

    // Copies generated bytes (headers) onto the send queue from *done on;
    // true once all `len` are queued.
    bool copy(StreamConn &sc, const uint8_t *data, uint32_t len, uint32_t *done);
    // Queues bytes [offset, offset+len) of a held object from *done on, by
    // reference. *done is the progress within the range (start at 0).
    Sent send(StreamConn &sc, Handle h, uint64_t offset, uint64_t len, uint64_t *done);

    // Once per loop iteration, before the owner's wakes: settled promotions
    // wake their waiters.
    void poll(uint64_t now_ns);
    // Releases acknowledged pins; returns the bytes still unacknowledged.
    uint32_t settle(StreamConn &sc);
    // Every ~100 ms, after settle() of every connection: wait timeouts,
    // refused requests, pin reclaim and pin retries.
    void sweep(uint64_t now_ns);

    // Pull on miss: the filler asked for chunks of filled objects.
    void set_filler(ChunkFiller *f) { filler_ = f; }
    // The completion ring the store tells (promotions, and fills posted
    // with it); kNoWaiter if none was free.
    chunkstore::WaiterId waiter() const { return waiter_; }
    // Parks a connection on `key` (an object id while a fill learns the
    // object's length) until wake(key) or the store settles it; bounded by
    // chunk_wait_ms like any wait.
    void park(StreamConn &sc, uint64_t key);
    // Ends a park whose wait is over (the held request was answered).
    void unpark(StreamConn &sc) {
        if (sc.listed) unlist_wait(sc);
        sc.waiting_since_ns = 0;
        sc.fill_wait = false;
    }
    // Wakes every connection waiting on `key` (the filler gave up on it).
    void wake(uint64_t key) { wake_key(key); }

    const StreamCounters &counters() const { return ctr_; }
    void visit_counters(const CounterVisitor &fn) const;
    uint32_t pinned() const { return pinned_; }

  private:
    bool may_pin(StreamConn &sc);
    bool block_on_pin(StreamConn &sc);
    void reclaim();
    // Returns kBlocked after registering the wait, or kAbort.
    Sent wait_for(StreamConn &sc, chunkstore::ChunkKey key, uint32_t index,
                  const StreamConn::ObjRef &obj);
    void request(StreamConn &sc);
    void list_wait(StreamConn &sc);
    void unlist_wait(StreamConn &sc);
    void wake_key(chunkstore::ChunkKey key);
    void wake_all();
    StreamConn *&bucket(chunkstore::ChunkKey key) { return buckets_[key & mask_]; }

    tcp::Stack *stack_ = nullptr;
    chunkstore::Store *store_ = nullptr;
    StreamOwner *owner_ = nullptr;
    AccessSink *access_ = nullptr;
    ChunkFiller *filler_ = nullptr;
    StreamConfig cfg_;
    uint32_t tid_ = 0;
    chunkstore::WaiterId waiter_ = chunkstore::kNoWaiter;
    uint64_t now_ns_ = 0;
    uint64_t retry_ns_ = 0;  // last poll-all without a completion queue
    // Waiting connections by chunk key: an intrusive chain per bucket.
    std::unique_ptr<StreamConn *[]> buckets_;
    uint64_t mask_ = 0;
    StreamConn *attached_ = nullptr;
    uint32_t pinned_ = 0;        // chunks all send queues of this stream pin
    uint32_t pin_budget_ = 1;    // this stream's share of the RAM tier, in chunks
    uint32_t conn_pin_cap_ = 1;  // chunks one connection may pin
    uint32_t live_seen_ = 0;     // PinLimits::version the caps were computed from
    void set_pin_limits(uint32_t conn_bytes, uint32_t ram_pct);
    bool contended_ = false;     // a pin waited for the budget since the last sweep
    StreamCounters ctr_;
};

}  // namespace ep
