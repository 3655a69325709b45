// Fill mode's leecher connection (dataplane/swarm/fetch_session.h) against a
// scripted remote seed: our handshake first, have-all/bitfield into the
// picker, interested, pipelined requests, blocks written into the sink and
// SHA-1 verified, have after each piece, not interested at the end; a
// corrupt seed is banned and nothing corrupt passes; chokes without BEP 6
// drop requests; endgame cancels across two connections. Uploading while
// fetching: haves and bitfields name held pieces only, requests for them
// are queued while unchoked, the rest rejected; an accepted connection
// answers the peer's handshake.
#include "dataplane/swarm/fetch_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "dataplane/swarm/sha1.h"

namespace ep::swarm {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;
constexpr uint32_t kPl = 2 * kBlockLen;  // 32 KiB pieces: 2 blocks each

struct Fixture {
    std::vector<uint8_t> src;
    std::vector<uint8_t> hashes;
    std::vector<uint8_t> info_hash = std::vector<uint8_t>(20, 0xAB);
    FetchCounters ctr;
    FetchTorrent tor;
    struct Sink : PieceSink {
        std::vector<std::vector<uint8_t>> bufs;
        std::vector<int> done, bad;
        FetchTorrent *tor = nullptr;
        bool hold_at_once = true;  // a store that publishes a verified piece at once
        uint8_t *piece_buffer(uint32_t p) override { return bufs[p].data(); }
        void piece_done(uint32_t p) override {
            done.push_back(static_cast<int>(p));
            if (hold_at_once) tor->mark_held(p);
        }
        void piece_bad(uint32_t p) override { bad.push_back(static_cast<int>(p)); }
    } sink;
    FetchConfig fcfg;
    uint32_t pieces;

    explicit Fixture(uint32_t n_pieces = 3, uint32_t tail = kBlockLen + 100, uint32_t ban = 2) {
        pieces = n_pieces;
        std::mt19937 rng(5);
        src.resize(uint64_t{n_pieces - 1} * kPl + tail);
        for (auto &b : src) b = static_cast<uint8_t>(rng());
        for (uint32_t p = 0; p < n_pieces; ++p) {
            const uint64_t off = uint64_t{p} * kPl;
            const uint64_t len = std::min<uint64_t>(kPl, src.size() - off);
            const Sha1 h = sha1(src.data() + off, len);
            hashes.insert(hashes.end(), h.begin(), h.end());
            sink.bufs.emplace_back(kPl, 0);
        }
        FetchTorrentConfig tc;
        tc.picker.num_pieces = n_pieces;
        tc.picker.piece_length = kPl;
        tc.picker.total_length = src.size();
        tc.piece_hashes = hashes.data();
        std::memcpy(tc.info_hash, info_hash.data(), 20);
        tc.max_slots = 4;
        tc.ban_after = ban;
        sink.tor = &tor;
        EXPECT_TRUE(tor.init(tc, &sink, &ctr));
        fcfg.queue_depth = 4;
    }
    bool stored_ok() const {
        for (uint32_t p = 0; p < pieces; ++p) {
            const uint64_t off = uint64_t{p} * kPl;
            const uint64_t len = std::min<uint64_t>(kPl, src.size() - off);
            if (std::memcmp(sink.bufs[p].data(), src.data() + off, len) != 0) return false;
        }
        return true;
    }
};

// The remote peer: reads our output with a parser, writes its messages.
struct Remote {
    FetchSession s;
    std::vector<uint8_t> bits;
    std::vector<BlockReq> out_store;
    std::unique_ptr<pw::Parser> parser;
    std::vector<pw::Event> got;      // what we sent it, decoded
    std::vector<BlockReq> requests;  // outstanding at the remote
    bool fast;

    Remote(Fixture &f, uint32_t slot, bool fast_peer) : fast(fast_peer) {
        bits.resize((f.pieces + 7) / 8);
        out_store.resize(f.fcfg.queue_depth);
        EXPECT_TRUE(s.init(&f.fcfg, &f.tor, slot, bits.data(), out_store.data()));
        pw::Limits lim;
        lim.num_pieces = f.pieces;
        lim.piece_length = kPl;
        lim.total_length = f.src.size();
        lim.fast = fast_peer;
        parser = std::make_unique<pw::Parser>(lim);
    }
    // Drains our output and decodes it.
    void read() {
        const uint8_t *p;
        while (uint32_t n = s.output(&p)) {
            size_t used = 0;
            while (true) {
                pw::Event e;
                used += parser->feed(p + used, n - used, &e);
                if (e.ev == pw::Ev::kNone) break;
                ASSERT_NE(e.ev, pw::Ev::kError) << pw::error_name(e.err);
                got.push_back(e);
                if (e.ev == pw::Ev::kMessage && e.id == pw::kRequest)
                    requests.push_back(BlockReq{e.index, e.begin, e.length});
                if (e.ev == pw::Ev::kMessage && e.id == pw::kCancel)
                    for (size_t k = 0; k < requests.size(); ++k)
                        if (requests[k] == BlockReq{e.index, e.begin, e.length})
                            requests.erase(requests.begin() + k--);
            }
            s.consume(n);
        }
    }
    void send(const std::vector<uint8_t> &m, uint64_t now, size_t split = 0) {
        if (!split) split = m.size();
        for (size_t off = 0; off < m.size(); off += split)
            s.feed(m.data() + off, std::min(split, m.size() - off), now);
    }
    std::vector<uint8_t> handshake(const Fixture &f, const uint8_t *ih = nullptr) const {
        std::vector<uint8_t> m(pw::kHandshakeLen);
        const uint8_t id[20] = {'-', 'L', 'T'};
        pw::write_handshake(m.data(), ih ? ih : f.info_hash.data(), id, fast, false);
        return m;
    }
    static std::vector<uint8_t> simple(pw::MsgId id) {
        std::vector<uint8_t> m(5);
        pw::write_simple(m.data(), id);
        return m;
    }
    static std::vector<uint8_t> piece(const Fixture &f, const BlockReq &r, bool corrupt = false) {
        std::vector<uint8_t> m(13 + r.length);
        pw::write_piece_head(m.data(), r.piece, r.begin, r.length);
        std::memcpy(m.data() + 13, f.src.data() + uint64_t{r.piece} * kPl + r.begin, r.length);
        if (corrupt) m[13] ^= 0xFF;
        return m;
    }
    size_t count(pw::MsgId id) const {
        size_t n = 0;
        for (const auto &e : got) n += e.ev == pw::Ev::kMessage && e.id == id;
        return n;
    }
    // Answers every outstanding request (optionally corrupt), in order.
    void serve(const Fixture &f, uint64_t now, bool corrupt = false, size_t split = 0) {
        read();
        // Bounded: a session that never stops asking (e.g. a ban that does
        // not happen) fails the test instead of hanging it.
        for (int guard = 0; !requests.empty() && !s.closed(); ++guard) {
            ASSERT_LT(guard, 10000);
            const BlockReq r = requests.front();
            requests.erase(requests.begin());
            send(piece(f, r, corrupt), now, split);
            read();
        }
    }
};

TEST(FetchSession, DownloadsEveryPieceByteExactFromAFastSeed) {
    Fixture f;
    Remote r(f, 0, true);
    r.s.start(0);
    r.read();
    ASSERT_FALSE(r.got.empty());
    EXPECT_EQ(r.got[0].ev, pw::Ev::kHandshake);  // we speak first (we connect)
    EXPECT_EQ(std::memcmp(r.got[0].hs.info_hash, f.info_hash.data(), 20), 0);
    r.send(r.handshake(f), kSec);
    r.send(Remote::simple(pw::kHaveAll), kSec);
    r.read();
    EXPECT_EQ(r.count(pw::kHaveNone), 1u);  // BEP 6: we have nothing yet
    EXPECT_EQ(r.count(pw::kInterested), 1u);
    EXPECT_EQ(r.count(pw::kRequest), 0u);  // choked: no requests
    EXPECT_EQ(f.tor.picker().availability(0), 1u);
    r.send(Remote::simple(pw::kUnchoke), kSec);
    r.read();
    EXPECT_EQ(r.requests.size(), 4u);  // queue_depth
    for (const auto &q : r.requests) EXPECT_LE(q.length, kBlockLen);
    r.serve(f, 2 * kSec);
    EXPECT_TRUE(f.tor.picker().complete());
    EXPECT_TRUE(f.stored_ok());
    EXPECT_EQ(f.ctr.pieces_passed, 3u);
    EXPECT_EQ(f.ctr.blocks_received, 6u);  // 2 + 2 + 2 (the last one short)
    EXPECT_EQ(f.sink.done.size(), 3u);
    EXPECT_EQ(r.count(pw::kHave), 3u);
    EXPECT_EQ(r.count(pw::kNotInterested), 1u);
    EXPECT_FALSE(r.s.closed());
    EXPECT_EQ(r.s.choke().downloaded, f.src.size());
}

TEST(FetchSession, BitfieldPeerFedOneByteAtATime) {
    Fixture f(10, kPl);
    Remote r(f, 0, false);
    r.s.start(0);
    r.send(r.handshake(f), 0, 1);
    // Pieces 0..7 (first byte) and 9.
    std::vector<uint8_t> bf(5 + 2);
    pw::write_bitfield_head(bf.data(), 2);
    bf[5] = 0xFF;
    bf[6] = 0x40;
    r.send(bf, 0, 1);
    r.send(Remote::simple(pw::kUnchoke), 0, 1);
    r.serve(f, kSec, false, 1);
    EXPECT_EQ(f.ctr.pieces_passed, 9u);
    EXPECT_FALSE(f.tor.picker().have(8));
    EXPECT_EQ(r.count(pw::kNotInterested), 1u);  // nothing more from this peer
    // It gets piece 8 (have): interested again, and it completes.
    std::vector<uint8_t> have(9);
    pw::write_have(have.data(), 8);
    r.send(have, 2 * kSec);
    r.serve(f, 2 * kSec, false, 7);
    EXPECT_TRUE(f.tor.picker().complete());
    EXPECT_TRUE(f.stored_ok());
    EXPECT_EQ(r.count(pw::kInterested), 2u);
}

TEST(FetchSession, WrongInfoHashCloses) {
    Fixture f;
    Remote r(f, 0, true);
    r.s.start(0);
    const uint8_t other[20] = {1, 2, 3};
    r.send(r.handshake(f, other), 0);
    EXPECT_TRUE(r.s.closed());
    EXPECT_EQ(f.ctr.wrong_torrent, 1u);
}

TEST(FetchSession, CorruptSeedIsBannedAndNothingCorruptPasses) {
    Fixture f(3, kPl, 2);
    Remote bad(f, 1, true);
    bad.s.start(0);
    bad.send(bad.handshake(f), 0);
    bad.send(Remote::simple(pw::kHaveAll), 0);
    bad.send(Remote::simple(pw::kUnchoke), 0);
    bad.serve(f, kSec, true);
    EXPECT_TRUE(bad.s.closed());
    EXPECT_EQ(f.ctr.banned, 1u);
    EXPECT_EQ(f.ctr.pieces_failed, 2u);
    EXPECT_EQ(f.ctr.pieces_passed, 0u);
    EXPECT_TRUE(f.sink.done.empty());
    EXPECT_EQ(f.sink.bad.size(), 2u);
    EXPECT_TRUE(f.tor.banned(1));
    // Its availability and requests went back: a good seed completes it all.
    EXPECT_EQ(f.tor.picker().availability(0), 0u);
    Remote good(f, 2, true);
    good.s.start(2 * kSec);
    good.send(good.handshake(f), 2 * kSec);
    good.send(Remote::simple(pw::kHaveAll), 2 * kSec);
    good.send(Remote::simple(pw::kUnchoke), 2 * kSec);
    good.serve(f, 3 * kSec);
    EXPECT_TRUE(f.tor.picker().complete());
    EXPECT_TRUE(f.stored_ok());
    EXPECT_FALSE(f.tor.banned(2));
}

// A corrupt peer that drops the connection after each bad piece and is
// dialled again on the same slot (the glue gives each peer address one
// slot) is still banned: its bad pieces add up across connections.
TEST(FetchSession, ACorruptPeerThatReconnectsAfterEachBadPieceIsStillBanned) {
    Fixture f(3, kPl, 2);
    uint64_t now = 0;
    for (int conn = 0; conn < 2; ++conn) {
        Remote bad(f, 1, true);  // a new connection on the peer's slot
        bad.s.start(now);
        bad.send(bad.handshake(f), now);
        bad.send(Remote::simple(pw::kHaveAll), now);
        bad.send(Remote::simple(pw::kUnchoke), now);
        bad.read();
        ASSERT_FALSE(bad.requests.empty());
        const uint32_t piece = bad.requests.front().piece;
        const uint32_t failed = f.ctr.pieces_failed;
        // Every block of that one piece, corrupt; then the peer goes away.
        for (int guard = 0; f.ctr.pieces_failed == failed && !bad.s.closed(); ++guard) {
            ASSERT_LT(guard, 1000);
            bad.read();
            for (size_t k = 0; k < bad.requests.size(); ++k) {
                const BlockReq r = bad.requests[k];
                if (r.piece != piece) continue;
                bad.requests.erase(bad.requests.begin() + k--);
                bad.send(Remote::piece(f, r, true), now);
            }
        }
        EXPECT_EQ(f.ctr.pieces_failed, failed + 1) << "connection " << conn;
        if (!bad.s.closed()) bad.s.close();
        now += kSec;
        if (conn == 1) {
            EXPECT_TRUE(bad.s.closed());
        }
    }
    EXPECT_EQ(f.ctr.pieces_failed, 2u);
    EXPECT_TRUE(f.tor.banned(1));
    EXPECT_EQ(f.ctr.banned, 1u);
    EXPECT_TRUE(f.sink.done.empty());
}

TEST(FetchSession, ChokeWithoutFastDropsRequestsAndTheyAreAskedAgain) {
    Fixture f;
    Remote r(f, 0, false);
    r.s.start(0);
    r.send(r.handshake(f), 0);
    std::vector<uint8_t> bf(6);
    pw::write_bitfield_head(bf.data(), 1);
    bf[5] = 0xE0;
    r.send(bf, 0);
    r.send(Remote::simple(pw::kUnchoke), 0);
    r.read();
    ASSERT_EQ(r.requests.size(), 4u);
    const BlockReq late = r.requests.front();
    r.send(Remote::simple(pw::kChoke), 0);
    EXPECT_EQ(r.s.outstanding(), 0u);
    EXPECT_EQ(f.ctr.choke_drops, 4u);
    r.requests.clear();  // BEP 3: a choke discards them at the remote too
    r.send(Remote::simple(pw::kUnchoke), 0);
    r.read();
    ASSERT_EQ(r.requests.size(), 4u);  // asked again (the picker had them back)
    // A late block for a dropped request that is not asked again is not
    // written (only outstanding requests are).
    if (std::find(r.requests.begin(), r.requests.end(), late) == r.requests.end()) {
        r.send(Remote::piece(f, late, true), 0);
        EXPECT_EQ(f.ctr.blocks_unrequested, 1u);
    }
    r.serve(f, kSec);
    EXPECT_TRUE(f.tor.picker().complete());
    EXPECT_TRUE(f.stored_ok());
    EXPECT_EQ(f.ctr.pieces_failed, 0u);
}

TEST(FetchSession, RequestsFromThePeerAreRejectedAndRejectsRePick) {
    Fixture f;
    Remote r(f, 0, true);
    r.s.start(0);
    r.send(r.handshake(f), 0);
    r.send(Remote::simple(pw::kHaveAll), 0);
    std::vector<uint8_t> req(17);
    pw::write_request(req.data(), pw::kRequest, 0, 0, kBlockLen);
    r.send(req, 0);
    r.read();
    EXPECT_EQ(r.count(pw::kReject), 1u);
    EXPECT_EQ(f.ctr.requests_refused, 1u);
    r.send(Remote::simple(pw::kUnchoke), 0);
    r.read();
    ASSERT_FALSE(r.requests.empty());
    ASSERT_EQ(r.requests.size(), 4u);
    const BlockReq q0 = r.requests[0], q1 = r.requests[1];
    for (const BlockReq &q : {q0, q1}) {
        std::vector<uint8_t> rej(17);
        pw::write_request(rej.data(), pw::kReject, q.piece, q.begin, q.length);
        r.send(rej, 0);
    }
    EXPECT_EQ(f.ctr.rejects_received, 2u);
    r.requests.erase(r.requests.begin(), r.requests.begin() + 2);  // the remote dropped them
    r.read();
    // Half the queue was free: the session asked again; the rejected blocks
    // went back to the picker, so serving what is asked completes the file.
    EXPECT_EQ(r.s.outstanding(), 4u);
    r.serve(f, kSec);
    EXPECT_TRUE(f.tor.picker().complete());
    EXPECT_TRUE(f.stored_ok());
}

TEST(FetchSession, EndgameCancelsTheOtherCopy) {
    Fixture f(1, kPl);  // one piece of two blocks
    Remote a(f, 0, true), b(f, 1, true);
    for (Remote *r : {&a, &b}) {
        r->s.start(0);
        r->send(r->handshake(f), 0);
        r->send(Remote::simple(pw::kHaveAll), 0);
        r->send(Remote::simple(pw::kUnchoke), 0);
        r->read();
    }
    ASSERT_EQ(a.requests.size(), 2u);
    ASSERT_EQ(b.requests.size(), 2u);  // endgame: the same two blocks
    EXPECT_TRUE(f.tor.picker().endgame());
    a.serve(f, kSec);
    b.s.tick(kSec);
    b.read();
    EXPECT_EQ(b.count(pw::kCancel), 2u);
    EXPECT_TRUE(b.requests.empty());
    EXPECT_EQ(f.ctr.cancels_sent, 2u);
    EXPECT_TRUE(f.tor.picker().complete());
    EXPECT_TRUE(f.stored_ok());
    EXPECT_EQ(b.count(pw::kNotInterested), 1u);
}

TEST(FetchSession, TimeoutsAndKeepAlive) {
    Fixture f;
    Remote r(f, 0, true);
    r.s.start(0);
    r.s.tick(11 * kSec);
    EXPECT_TRUE(r.s.closed());
    EXPECT_EQ(f.ctr.handshake_timeouts, 1u);

    Remote q(f, 1, true);
    q.s.start(0);
    q.send(q.handshake(f), 0);
    q.send(Remote::simple(pw::kHaveAll), 0);
    q.send(Remote::simple(pw::kUnchoke), 0);
    q.read();
    ASSERT_EQ(q.s.outstanding(), 4u);
    // No block for the request timeout: the requests go back (cancelled).
    q.send(std::vector<uint8_t>(4, 0), 50 * kSec);  // a keep-alive from it
    q.s.tick(61 * kSec);
    q.read();
    EXPECT_EQ(f.ctr.request_timeouts, 4u);
    EXPECT_EQ(q.count(pw::kCancel), 4u);
    q.s.tick(200 * kSec);
    q.read();
    EXPECT_GE(f.ctr.keepalives_sent, 1u);
    q.s.tick(300 * kSec);
    EXPECT_TRUE(q.s.closed());
    EXPECT_EQ(f.ctr.idle_timeouts, 1u);
}

}  // namespace
}  // namespace ep::swarm

namespace ep::swarm {
namespace {

std::vector<uint8_t> request_msg(pw::MsgId id, uint32_t piece, uint32_t begin, uint32_t len) {
    std::vector<uint8_t> m(17);
    pw::write_request(m.data(), id, piece, begin, len);
    return m;
}

// What we advertise and upload is what the store holds, not what was merely
// verified: a `have` goes out when the sink marks the piece held; requests
// for held pieces are queued (in order) once we unchoke; the rest, and all
// while choked, are rejected and counted; a cancel removes a queued one; a
// choke drops (and rejects) all but the block being sent.
TEST(FetchSession, UploadsHeldPiecesOnlyAndRejectsTheRest) {
    Fixture f(3, kPl);
    f.sink.hold_at_once = false;
    Remote seed(f, 0, true), leech(f, 1, true);
    leech.s.start(0);
    leech.send(leech.handshake(f), 0);
    leech.send(Remote::simple(pw::kHaveNone), 0);
    leech.send(Remote::simple(pw::kInterested), 0);
    leech.read();
    EXPECT_EQ(leech.count(pw::kHaveNone), 1u);
    seed.s.start(0);
    seed.send(seed.handshake(f), 0);
    seed.send(Remote::simple(pw::kHaveAll), 0);
    seed.send(Remote::simple(pw::kUnchoke), 0);
    seed.serve(f, kSec);
    ASSERT_TRUE(f.tor.picker().complete());
    leech.s.tick(kSec);
    leech.read();
    EXPECT_EQ(leech.count(pw::kHave), 0u);  // verified, not yet stored: not advertised
    f.tor.mark_held(1);
    leech.s.tick(kSec);
    leech.read();
    ASSERT_EQ(leech.count(pw::kHave), 1u);
    // Choked: refused with a reject (BEP 6).
    leech.send(request_msg(pw::kRequest, 1, 0, kBlockLen), kSec);
    EXPECT_EQ(f.ctr.requests_while_choked, 1u);
    EXPECT_FALSE(leech.s.upload_pending());
    leech.s.set_choked(false);
    leech.read();
    EXPECT_EQ(leech.count(pw::kUnchoke), 1u);
    // Unchoked: a piece we do not hold is rejected, held ones are queued.
    leech.send(request_msg(pw::kRequest, 2, 0, kBlockLen), kSec);
    EXPECT_EQ(f.ctr.requests_not_held, 1u);
    leech.send(request_msg(pw::kRequest, 1, 0, kBlockLen), kSec);
    leech.send(request_msg(pw::kRequest, 1, kBlockLen, kBlockLen), kSec);
    leech.send(request_msg(pw::kRequest, 1, 0, 100), kSec);
    EXPECT_EQ(f.ctr.requests_queued, 3u);
    ASSERT_TRUE(leech.s.upload_pending());
    EXPECT_TRUE((leech.s.upload_front() == BlockReq{1, 0, kBlockLen}));
    leech.s.upload_started();
    leech.send(request_msg(pw::kCancel, 1, kBlockLen, kBlockLen), kSec);  // queued: removed
    leech.send(request_msg(pw::kCancel, 1, 0, kBlockLen), kSec);          // being sent: stays
    EXPECT_EQ(f.ctr.cancels_received, 1u);
    leech.s.upload_done();
    EXPECT_EQ(leech.s.uploaded(), kBlockLen);
    EXPECT_EQ(leech.s.choke().uploaded, kBlockLen);  // the choker's rate sees it
    EXPECT_EQ(f.ctr.blocks_uploaded, 1u);
    ASSERT_TRUE(leech.s.upload_pending());
    EXPECT_TRUE((leech.s.upload_front() == BlockReq{1, 0, 100}));
    leech.s.set_choked(true);
    EXPECT_FALSE(leech.s.upload_pending());
    leech.read();
    // Rejects: choked, not held, the cancelled one, the one the choke dropped.
    EXPECT_EQ(leech.count(pw::kReject), 4u);
    EXPECT_EQ(leech.count(pw::kChoke), 1u);
    EXPECT_FALSE(leech.s.closed());
}

// A peer that dialled us: nothing before its handshake; then ours and a
// bitfield of the held pieces; and requests for them are served as above.
TEST(FetchSession, AcceptedConnectionAnswersWithOurHandshakeAndHeldBitfield) {
    Fixture f(10, kPl);
    f.tor.mark_held(0);
    f.tor.mark_held(9);
    Remote r(f, 2, false);
    r.s.start_accepted(0);
    const uint8_t *p;
    EXPECT_EQ(r.s.output(&p), 0u);
    r.send(r.handshake(f), 0);
    r.read();
    ASSERT_GE(r.got.size(), 2u);
    EXPECT_EQ(r.got[0].ev, pw::Ev::kHandshake);
    EXPECT_EQ(f.ctr.accepted, 1u);
    // The bitfield (no fast extension): pieces 0 and 9.
    const uint8_t *out = nullptr;
    (void)out;
    bool seen = false;
    for (const auto &e : r.got)
        if (e.ev == pw::Ev::kPayload && e.id == pw::kBitfield) {
            ASSERT_EQ(e.data_len, 2u);
            EXPECT_EQ(e.data[0], 0x80);
            EXPECT_EQ(e.data[1], 0x40);
            seen = true;
        }
    EXPECT_TRUE(seen);
    // Without the fast extension a refused request is dropped silently.
    r.s.set_choked(false);
    r.send(request_msg(pw::kRequest, 5, 0, kBlockLen), 0);
    r.send(request_msg(pw::kRequest, 9, 0, kBlockLen), 0);
    r.read();
    EXPECT_EQ(r.count(pw::kReject), 0u);
    EXPECT_EQ(f.ctr.requests_not_held, 1u);
    ASSERT_TRUE(r.s.upload_pending());
    EXPECT_TRUE((r.s.upload_front() == BlockReq{9, 0, kBlockLen}));
}

}  // namespace
}  // namespace ep::swarm
