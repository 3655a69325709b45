// ChunkStream without a NIC: a real chunk store (RAM over a disk file) and
// two tcp::Stacks back to back (tests/tcp/loopback.h). A toy service sends
// "a 13-byte header copy + a range of an object", the shape of a BitTorrent
// piece message; the client compares every byte with the source.
//
// This thread is the data core (reader 0) and, between steps, the control
// thread (Store::poll), like the daemon's two threads taking turns.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "chunkstore/store.h"
#include "dataplane/chunk_stream.h"
#include "tests/chunkstore/test_util.h"
#include "tests/tcp/loopback.h"

namespace ep {
namespace {

using chunkstore::kChunkSize;
using tcp::ConnId;
using tcp::Stack;

constexpr uint32_t kTid = 0;
constexpr uint64_t kSweepNs = 100'000'000;

struct Access : AccessSink {
    uint64_t hits = 0, misses = 0;
    void record(uint64_t, uint32_t, bool hit) override { ++(hit ? hits : misses); }
};

// One connection: header copy, then [off, off+len) of the object.
class ToyService : public tcp::Handler, public StreamOwner {
  public:
    ChunkStream cs;
    Stack *st = nullptr;
    chunkstore::Store *store = nullptr;
    std::vector<uint8_t> header;
    uint64_t off = 0, len = 0;
    bool aborted = false, done = false, active = false;
    int wakes = 0;

    void on_accept(Stack &, ConnId id) override {
        id_ = id;
        cs.attach(conn_, id);
        const chunkstore::ObjectMeta *m = store->lookup_object(kTid, std::string_view("obj"));
        ASSERT_NE(m, nullptr);
        h_ = ChunkStream::hold(conn_, *m);
        active = true;
        pump();
    }
    size_t on_data(Stack &, ConnId, const uint8_t *, size_t n) override { return n; }
    void on_writable(Stack &, ConnId) override { pump(); }
    void on_closed(Stack &, ConnId, tcp::CloseReason) override { drop(); }

    void pump() {
        if (!active || done) return;
        if (!cs.copy(conn_, header.data(), static_cast<uint32_t>(header.size()), &hoff_)) return;
        switch (cs.send(conn_, h_, off, len, &sent_)) {
            case ChunkStream::Sent::kDone:
                done = true;
                st->close(id_);
                break;
            case ChunkStream::Sent::kBlocked:
                break;
            case ChunkStream::Sent::kAbort:
                stream_abort(conn_);
                break;
        }
    }
    void stream_wake(StreamConn &) override {
        ++wakes;
        woken_ = true;
    }
    void stream_run(StreamConn &) override { pump(); }
    void stream_abort(StreamConn &) override {
        aborted = true;
        drop();
        st->abort(id_);
    }
    void poll(uint64_t now) {
        cs.poll(now);
        if (woken_) {
            woken_ = false;
            pump();
        }
        if (now >= next_sweep_) {
            next_sweep_ = now + kSweepNs;
            if (active) cs.settle(conn_);
            cs.sweep(now);
        }
    }

  private:
    void drop() {
        if (!active) return;
        active = false;
        cs.detach(conn_);
    }
    StreamConn conn_;
    ConnId id_{};
    ChunkStream::Handle h_ = 0;
    uint32_t hoff_ = 0;
    uint64_t sent_ = 0;
    uint64_t next_sweep_ = 0;
    bool woken_ = false;
};

class Client : public tcp::Handler {
  public:
    std::vector<uint8_t> got;
    bool closed = false;
    tcp::CloseReason reason = tcp::CloseReason::kNormal;
    size_t on_data(Stack &, ConnId, const uint8_t *d, size_t n) override {
        got.insert(got.end(), d, d + n);
        return n;
    }
    void on_peer_closed(Stack &s, ConnId c) override { s.close(c); }
    void on_closed(Stack &, ConnId, tcp::CloseReason r) override {
        closed = true;
        reason = r;
    }
};

tcp::StackConfig stack_config() {
    tcp::StackConfig c;
    c.max_connections = 16;
    c.time_wait_capacity = 16;
    c.rcv_buf_bytes = 256 * 1024;
    c.snd_buf_bytes = 1024 * 1024;
    c.inline_blocks = 64;
    return c;
}

struct Rig {
    chunkstore::test::TempDir dir;
    std::unique_ptr<chunkstore::Store> store;
    std::vector<uint8_t> data;
    tcp::test::Wire wire{100'000, fault::FaultConfig{}};
    Stack a, b;
    ToyService svc;
    Client client;
    Access access;

    // The object is on disk only: every chunk the range touches must wait.
    explicit Rig(uint64_t size) {
        chunkstore::Config cfg;
        cfg.ram_capacity_bytes = 16ull * kChunkSize;
        cfg.max_objects = 16;
        cfg.path = dir.file("store.eps");
        cfg.disk_capacity_bytes = 32ull * chunkstore::kRecordSize;
        cfg.ram_on_ingest = false;
        std::string err;
        store = chunkstore::Store::open(cfg, &err);
        EXPECT_TRUE(store) << err;
        EXPECT_TRUE(store->register_reader(kTid));
        data = chunkstore::test::random_bytes(size, 42);
        EXPECT_TRUE(store->put_object("obj", data, 0).ok());
        EXPECT_TRUE(a.init(stack_config(), &wire.port[0], wire.now));
        EXPECT_TRUE(b.init(stack_config(), &wire.port[1], wire.now));
        svc.st = &b;
        svc.store = store.get();
        EXPECT_TRUE(svc.cs.init(&b, store.get(), kTid, 4, StreamConfig{}, &svc, &access));
        b.listen(6881, &svc);
    }
    ~Rig() {
        if (store) store->unregister_reader(kTid);
    }
    void connect() {
        a.connect(tcp::IpAddr::v4(10, 0, 0, 1), tcp::IpAddr::v4(10, 0, 0, 2), 6881, &client);
    }
    // `between` runs as the control thread before its poll.
    template <class F>
    void run(F &&between) {
        Stack *st[2] = {&a, &b};
        const uint64_t limit = wire.now + 60'000'000'000ull;
        while (wire.now < limit && !(client.closed && wire.idle())) {
            wire.step(st, 100'000);
            svc.poll(wire.now);
            between();
            store->poll();
            store->quiescent(kTid);
        }
    }
    void run() {
        run([] {});
    }
};

TEST(ChunkStream, HeaderAndRangeFromDiskByteExactWokenBySettledPromotions) {
    // A range over four chunks (starting mid-chunk), after a 13-byte header.
    Rig r(4 * kChunkSize + 1234);
    r.svc.header.assign(13, 0);
    for (int i = 0; i < 13; ++i) r.svc.header[i] = static_cast<uint8_t>(0xa0 + i);
    r.svc.off = kChunkSize / 2 + 7;
    r.svc.len = 3 * kChunkSize + 500;
    r.connect();
    r.run();

    ASSERT_EQ(r.client.got.size(), 13 + r.svc.len);
    EXPECT_EQ(0, std::memcmp(r.client.got.data(), r.svc.header.data(), 13));
    EXPECT_EQ(0, std::memcmp(r.client.got.data() + 13, r.data.data() + r.svc.off, r.svc.len));
    EXPECT_TRUE(r.svc.done);
    EXPECT_FALSE(r.svc.aborted);

    // Four chunks, each on disk only: four waits, each asked for once and
    // ended by the store settling the promotion, never by polling.
    const StreamCounters &c = r.svc.cs.counters();
    const chunkstore::Counters sc = r.store->counters();
    EXPECT_EQ(c.chunk_waits, 4u);
    EXPECT_EQ(sc.promotion_requests, 4u);
    EXPECT_EQ(c.promotion_wakes, 4u);
    EXPECT_EQ(r.svc.wakes, 4);
    EXPECT_EQ(c.promotion_rerequests, 0u);
    EXPECT_EQ(c.chunk_wait_timeouts, 0u);
    EXPECT_EQ(sc.promotions, 4u);
    EXPECT_EQ(c.body_bytes_queued, r.svc.len);
    // One access per chunk started, all misses (on disk at the time).
    EXPECT_EQ(r.access.misses, 4u);
    EXPECT_EQ(r.access.hits, 0u);
    // Everything acknowledged: nothing pinned any more.
    EXPECT_EQ(r.svc.cs.pinned(), 0u);
}

TEST(ChunkStream, ResidentChunksAreSentWithoutWaiting) {
    // A 16 KiB block of chunk 2, the peer-wire shape, with the chunks in RAM.
    Rig r(3 * kChunkSize);
    for (uint32_t i = 0; i < 3; ++i)
        ASSERT_TRUE(r.store->promote_now(chunkstore::chunk_key("obj", i)).ok());
    r.svc.header.assign(13, 7);
    r.svc.off = 2 * kChunkSize + 16384;
    r.svc.len = 16384;
    r.connect();
    r.run();
    ASSERT_EQ(r.client.got.size(), 13u + 16384u);
    EXPECT_EQ(0, std::memcmp(r.client.got.data() + 13, r.data.data() + r.svc.off, 16384));
    EXPECT_EQ(r.svc.cs.counters().chunk_waits, 0u);
    EXPECT_EQ(r.access.hits, 1u);
    EXPECT_EQ(r.access.misses, 0u);
}

TEST(ChunkStream, ObjectRemovedWhileWaitingResetsAtTheSettleNotTheTimeout) {
    Rig r(2 * kChunkSize);
    r.svc.header.assign(13, 1);
    r.svc.off = 0;
    r.svc.len = 2 * kChunkSize;
    r.connect();
    bool removed = false;
    r.run([&] {
        // Remove it as soon as the connection waits, before the control
        // thread sees the request: the promotion settles without a chunk.
        if (!removed && r.svc.cs.counters().chunk_waits == 1) {
            removed = true;
            ASSERT_TRUE(r.store->remove_object("obj").ok());
        }
    });
    ASSERT_TRUE(removed);
    const StreamCounters &c = r.svc.cs.counters();
    EXPECT_TRUE(r.svc.aborted);
    EXPECT_EQ(c.object_gone_aborts, 1u);
    EXPECT_EQ(c.promotion_wakes, 1u);
    EXPECT_EQ(c.chunk_wait_timeouts, 0u);
    EXPECT_EQ(r.client.reason, tcp::CloseReason::kReset);
    EXPECT_LE(r.client.got.size(), 13u);  // at most the header, never a byte of a gone object
}

TEST(ChunkStream, ReIngestMidSendResetsAndNeverMixesVersions) {
    // 8 chunks, more than the 1 MiB send buffer holds: the send is under
    // way when the object is replaced.
    Rig r(8 * kChunkSize);
    for (uint32_t i = 0; i < 8; ++i)
        ASSERT_TRUE(r.store->promote_now(chunkstore::chunk_key("obj", i)).ok());
    r.svc.header.assign(13, 9);
    r.svc.off = 0;
    r.svc.len = 8 * kChunkSize;
    r.connect();
    bool replaced = false;
    r.run([&] {
        if (!replaced && r.client.got.size() > 300 * 1024) {
            replaced = true;
            const auto fresh = chunkstore::test::random_bytes(8 * kChunkSize, 99);
            ASSERT_TRUE(r.store->put_object("obj", fresh, 1).ok());
        }
    });
    ASSERT_TRUE(replaced);
    const StreamCounters &c = r.svc.cs.counters();
    EXPECT_TRUE(r.svc.aborted);
    EXPECT_EQ(c.version_aborts + c.object_gone_aborts, 1u);
    EXPECT_EQ(r.client.reason, tcp::CloseReason::kReset);
    // What arrived is a prefix of the old version, nothing of the new one.
    ASSERT_GT(r.client.got.size(), 13u);
    ASSERT_LT(r.client.got.size(), 13 + r.svc.len);
    EXPECT_EQ(0, std::memcmp(r.client.got.data() + 13, r.data.data(), r.client.got.size() - 13));
}

}  // namespace
}  // namespace ep
