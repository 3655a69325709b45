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
// Invariants: our output is valid peer wire (parsed back without error),
// every request lies inside the torrent and is at most 16 KiB, outstanding
// requests never exceed the queue depth, an upload block is always of a
// held piece and inside the torrent (at most 16 KiB), and once both sessions are closed
// the picker holds no availability and no request (all released).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/swarm/fetch_session.h"
#include "dataplane/swarm/sha1.h"

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
                }
            }
            s.consume(n);
        }
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    if (size < 3) return 0;
    const bool auto_hs = data[0] & 1, fast = data[0] & 2;
    const size_t step = 1 + (data[0] >> 2);
    const uint32_t pieces = 1 + data[1];
    const uint8_t ops = data[2];
    const uint64_t total = uint64_t{pieces} * kPl - (data[1] * 977u) % kPl;

    // Sized once for the largest torrent: a piece is only hashed once all its
    // blocks were written in this run, so stale bytes never count.
    static Sink sink;
    if (sink.buf.empty()) sink.buf.assign(uint64_t{256} * kPl, 0xEE);
    std::vector<uint8_t> zeros(kPl, 0);
    const Sha1 full = sha1(zeros.data(), kPl);
    const Sha1 last = sha1(zeros.data(), total - uint64_t{pieces - 1} * kPl);
    std::vector<uint8_t> hashes;
    for (uint32_t p = 0; p < pieces; ++p) {
        const Sha1 &h = p + 1 < pieces ? full : last;
        hashes.insert(hashes.end(), h.begin(), h.end());
    }
    FetchCounters ctr;
    FetchTorrent tor;
    FetchTorrentConfig tc;
    tc.picker.num_pieces = pieces;
    tc.picker.piece_length = kPl;
    tc.picker.total_length = total;
    tc.piece_hashes = hashes.data();
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
        lim.fast = fast;
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
        if (ops & 2) now += 30'000'000'000ull;
        for (int k = 0; k < nsess; ++k) s[k].tick(now);
    }
    for (int k = 0; k < nsess; ++k) {
        chk[k].check(s[k]);
        s[k].close();
        if (s[k].outstanding() != 0) std::abort();
    }
    // Everything released: no availability, and every block not had is
    // free again (pickable from a new seed).
    for (uint32_t p = 0; p < pieces; ++p)
        if (tor.picker().availability(p) != 0) std::abort();
    if (tor.picker().endgame() && !tor.picker().complete()) {
        // endgame() means no free block is left: only possible if some
        // request leaked.
        std::abort();
    }
    return 0;
}
