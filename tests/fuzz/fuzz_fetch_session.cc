// libFuzzer target: fill mode's leecher connection (dataplane/swarm/
// fetch_session.cc) over the framing parser and the piece picker. Byte 0:
// bit 0 = the harness sends the remote's handshake itself (right info hash,
// bit 1 = with the BEP 6 bit), bits 2..7 = the split size; byte 1:
// pieces - 1; byte 2: what the harness does between slices (bit 0 drains
// our output, bit 1 advances time by 30 s, bit 2 runs a second session on
// the same torrent fed the same slices; bit 3 uploads: verified pieces are
// held at once and both sessions unchoke the remote, and the harness
// "sends" every queued upload block; bit 4: the second session is the
// accepting side; bit 5: the choke flips after every slice). The rest is
// the remote's stream.
// Piece hashes are those of all-zero pieces, so zero blocks pass and others
// fail (both paths run).
// Invariants: our output is valid peer wire (parsed back without error, the
// fast extension on only when both handshakes set its bit),
// every request lies inside the torrent and is at most 16 KiB, outstanding
// requests never exceed the queue depth, an upload block is always of a
// held piece and inside the torrent (at most 16 KiB), and once both sessions are closed
// the picker holds no availability and no request (all released).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/swarm/sha1.h"
#include "tests/fuzz/fuzz_fetch_session.h"

namespace {
using namespace ep::swarm;

constexpr uint32_t kPl = 2 * kBlockLen;

struct Sink : PieceSink {
    std::vector<uint8_t> buf;
    FetchTorrent *tor = nullptr;
    bool hold = false;
    uint8_t *piece_buffer(uint32_t p) override { return buf.data() + uint64_t{p} * kPl; }
    void piece_done(uint32_t p) override {
        if (hold) tor->mark_held(p);
    }
};

// The glue's part of an upload: every queued block must be sendable.
void drain_uploads(FetchSession &s, const FetchTorrent &tor, uint32_t pieces, uint64_t total) {
    for (int guard = 0; s.upload_pending(); ++guard) {
        if (guard > 1024) std::abort();
        const BlockReq b = s.upload_front();
        const uint64_t start = uint64_t{b.piece} * kPl;
        if (b.piece >= pieces || !tor.held(b.piece) || b.length == 0 || b.length > kBlockLen ||
            start + b.begin + b.length > total)
            std::abort();
        s.upload_started();
        s.upload_done();
    }
}

struct Checker {
    std::unique_ptr<pw::Parser> parser;
    uint32_t pieces = 0;
    uint64_t total = 0;
    // Requests seen and not cancelled: what the serving harness answers.
    BlockReq asked[64];
    uint32_t n_asked = 0;
    void note(const pw::Event &e) {
        if (e.id == pw::kRequest && n_asked < 64) asked[n_asked++] = {e.index, e.begin, e.length};
        if (e.id == pw::kCancel)
            for (uint32_t k = 0; k < n_asked; ++k)
                if (asked[k].piece == e.index && asked[k].begin == e.begin) {
                    asked[k] = asked[--n_asked];
                    break;
                }
    }
    void check(FetchSession &s) {
        const uint8_t *p;
        while (uint32_t n = s.output(&p)) {
            size_t used = 0;
            while (true) {
                pw::Event e;
                used += parser->feed(p + used, n - used, &e);
                if (e.ev == pw::Ev::kNone) break;
                if (e.ev == pw::Ev::kError) std::abort();
                if (e.ev == pw::Ev::kMessage && (e.id == pw::kRequest || e.id == pw::kCancel)) {
                    const uint64_t start = uint64_t{e.index} * kPl;
                    if (e.index >= pieces || e.length == 0 || e.length > kBlockLen ||
                        start + e.begin + e.length > total)
                        std::abort();
                    note(e);
                }
            }
            s.consume(n);
        }
    }
};
// Answers every request `chk` saw with a piece message of zeros (bit 7: the
// first block of a piece has one byte wrong), fed as the remote's bytes.
void serve(FetchSession &s, Checker &chk, bool corrupt, uint64_t now) {
    static uint8_t msg[13 + kBlockLen];  // the block stays zero but for its first byte
    const uint32_t n = chk.n_asked;
    chk.n_asked = 0;
    for (uint32_t k = 0; k < n && !s.closed(); ++k) {
        const BlockReq &b = chk.asked[k];
        const size_t head = pw::write_piece_head(msg, b.piece, b.begin, b.length);
        msg[head] = corrupt && b.begin == 0 ? 1 : 0;
        for (size_t off = 0, len = head + b.length; off < len && !s.closed();) {
            const size_t used = s.feed(msg + off, len - off, now);
            if (used == 0) break;
            off += used;
        }
    }
}
}  // namespace

namespace ep::swarm::test {

FetchRunResult fuzz_fetch_session(const uint8_t *data, std::size_t size) {
    FetchRunResult result;
    if (size < 3) return result;
    const bool auto_hs = data[0] & 1, fast = data[0] & 2;
    const size_t step = 1 + (data[0] >> 2);
    const uint32_t pieces = 1 + data[1];
    const uint8_t ops = data[2];
    const uint64_t total = uint64_t{pieces} * kPl - (data[1] * 977u) % kPl;

    // Sized once for the largest torrent: a piece is only hashed once all its
    // blocks were written in this run, so stale bytes never count.
    static Sink sink;
    if (sink.buf.empty()) sink.buf.assign(uint64_t{256} * kPl, 0xEE);
    // The hashes depend on byte 1 only: computed once per value, not per
    // input (two 32 KiB SHA-1s per input were 29 % of the fuzzer's time).
    static const std::vector<uint8_t> zeros(kPl, 0);
    static const Sha1 full = sha1(zeros.data(), kPl);
    static Sha1 last_of[256];
    static bool have_last[256];
    if (!have_last[data[1]]) {
        last_of[data[1]] = sha1(zeros.data(), total - uint64_t{pieces - 1} * kPl);
        have_last[data[1]] = true;
    }
    const Sha1 &last = last_of[data[1]];
    static uint8_t hashes[256 * 20];
    for (uint32_t p = 0; p < pieces; ++p) {
        const Sha1 &h = p + 1 < pieces ? full : last;
        std::memcpy(hashes + p * 20, h.data(), 20);
    }
    FetchCounters ctr;
    FetchTorrent tor;
    FetchTorrentConfig tc;
    tc.picker.num_pieces = pieces;
    tc.picker.piece_length = kPl;
    tc.picker.total_length = total;
    tc.piece_hashes = hashes;
    std::memset(tc.info_hash, 0xAB, 20);
    tc.max_slots = 2;
    tc.ban_after = 3;
    tc.cancel_log = 8;
    const bool upload = ops & 8, accept2 = ops & 16, flip = ops & 32;
    sink.tor = &tor;
    sink.hold = upload;
    if (!tor.init(tc, &sink, &ctr)) std::abort();
    static FetchConfig cfg = [] {
        FetchConfig c;
        c.queue_depth = 8;
        return c;
    }();

    // Fast is on when both handshakes set the BEP 6 bit. Ours always does
    // (FetchSession::start); the remote's is byte 0's bit 1 when the harness
    // sends it, or else reserved byte 7 of the stream's own handshake (a
    // malformed one closes the session before anything past our handshake).
    const size_t fast_byte = 3 + 20 + pw::kReservedFastByte;
    const bool remote_fast =
        auto_hs ? fast : size > fast_byte && (data[fast_byte] & pw::kReservedFastBit);
    const int nsess = ops & 4 ? 2 : 1;
    std::vector<uint8_t> bits[2];
    std::vector<BlockReq> outs[2];
    FetchSession s[2];
    Checker chk[2];
    uint64_t now = 1'000'000'000'000ull;
    for (int k = 0; k < nsess; ++k) {
        bits[k].resize((pieces + 7) / 8);
        outs[k].resize(cfg.queue_depth);
        if (!s[k].init(&cfg, &tor, static_cast<uint32_t>(k), bits[k].data(), outs[k].data()))
            std::abort();
        pw::Limits lim;
        lim.num_pieces = pieces;
        lim.piece_length = kPl;
        lim.total_length = total;
        lim.fast = remote_fast;
        chk[k].parser = std::make_unique<pw::Parser>(lim);
        chk[k].pieces = pieces;
        chk[k].total = total;
        if (k == 1 && accept2)
            s[k].start_accepted(now);
        else
            s[k].start(now);
        if (auto_hs) {
            uint8_t hs[pw::kHandshakeLen];
            const uint8_t id[20] = {'-', 'F', 'Z'};
            pw::write_handshake(hs, tc.info_hash, id, fast, false);
            s[k].feed(hs, sizeof hs, now);
        }
        if (upload) s[k].set_choked(false);
        chk[k].check(s[k]);
    }
    // Bit 6: frames the remote's stream as the sessions do, to know where a
    // served piece message can go in without splitting one of the input's.
    const bool serving = ops & 64, corrupt = ops & 128;
    pw::Limits flim;
    flim.num_pieces = pieces;
    flim.piece_length = kPl;
    flim.total_length = total;
    flim.fast = flim.extended = true;
    pw::Parser framer(flim, !auto_hs);
    auto serve_all = [&] {
        for (int k = 0; k < nsess; ++k) {
            if (s[k].closed()) continue;
            chk[k].check(s[k]);
            serve(s[k], chk[k], corrupt, now);
            if (s[k].outstanding() > cfg.queue_depth) std::abort();
            if (upload) drain_uploads(s[k], tor, pieces, total);
        }
    };
    const uint8_t *in = data + 3;
    const size_t n = size - 3;
    for (size_t off = 0; off < n; off += step) {
        const size_t len = n - off < step ? n - off : step;
        for (int k = 0; k < nsess; ++k) {
            if (s[k].closed()) continue;
            const size_t used = s[k].feed(in + off, len, now);
            if (used > len) std::abort();
            if (s[k].outstanding() > cfg.queue_depth) std::abort();
            if (upload) drain_uploads(s[k], tor, pieces, total);
            if (flip) s[k].set_choked(!s[k].am_choking());
            if (ops & 1) chk[k].check(s[k]);
        }
        if (serving && !framer.failed()) {
            for (size_t used = 0; used < len;) {
                pw::Event e;
                const size_t u = framer.feed(in + off + used, len - used, &e);
                used += u;
                if (e.ev == pw::Ev::kError || (u == 0 && e.ev == pw::Ev::kNone)) break;
            }
            if (!framer.failed() && framer.at_message_boundary()) serve_all();
        }
        if (ops & 2) now += 30'000'000'000ull;
        for (int k = 0; k < nsess; ++k) s[k].tick(now);
    }
    // A few more rounds once the stream is over: each answers what the last
    // one made the sessions ask for (a queue of 8 blocks per round).
    if (serving && !framer.failed() && framer.at_message_boundary())
        for (int round = 0; round < 2; ++round) {
            serve_all();
            for (int k = 0; k < nsess; ++k) s[k].tick(now);
        }
    for (int k = 0; k < nsess; ++k) {
        chk[k].check(s[k]);
        s[k].close();
        if (s[k].outstanding() != 0) std::abort();
    }
    // EP_FUZZ_TRACE=1: what an input did, to check a seed reaches what it is for.
    static const bool trace = std::getenv("EP_FUZZ_TRACE") != nullptr;
    if (trace)
        std::fprintf(stderr, "pieces %u passed %llu failed %llu blocks %llu requests %llu\n",
                     pieces, static_cast<unsigned long long>(ctr.pieces_passed),
                     static_cast<unsigned long long>(ctr.pieces_failed),
                     static_cast<unsigned long long>(ctr.blocks_received),
                     static_cast<unsigned long long>(ctr.requests_sent));
    // Everything released: no availability, and every block not had is
    // free again (pickable from a new seed).
    for (uint32_t p = 0; p < pieces; ++p)
        if (tor.picker().availability(p) != 0) std::abort();
    if (tor.picker().endgame() && !tor.picker().complete()) {
        // endgame() means no free block is left: only possible if some
        // request leaked.
        std::abort();
    }
    result.counters = ctr;
    result.pieces = pieces;
    result.complete = tor.picker().complete();
    return result;
}

}  // namespace ep::swarm::test

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    ep::swarm::test::fuzz_fetch_session(data, size);
    return 0;
}
