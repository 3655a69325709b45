// libFuzzer target: the seeding peer-wire session (dataplane/swarm/
// peer_session.cc) over the framing parser. Byte 0: bit 0 = the info hash
// is known, bits 1..7 = the split size; byte 1: pieces - 1; byte 2: what
// the harness does between slices (bit 0 toggles the choke, bit 1 drains
// the output, bit 2 advances time by 30 s). The rest is the peer's stream.
// Invariants: nothing queued lies outside the torrent or the BEP limits,
// outstanding blocks never exceed reqq, a closed session consumes nothing.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dataplane/swarm/peer_session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::swarm;
    if (size < 3) return 0;
    static SessionConfig cfg = [] {
        SessionConfig c;
        c.reqq = 64;
        return c;
    }();
    static std::vector<OutItem> items(cfg.reqq + 32);
    SessionCounters ctr;
    PeerSession s;
    if (!s.init(&cfg, &ctr, items.data(), static_cast<uint32_t>(items.size()))) std::abort();
    const bool known = data[0] & 1;
    const size_t step = 1 + (data[0] >> 1);
    SessionTorrent t;
    t.num_pieces = 1 + data[1];
    t.piece_length = 262144;
    t.total_length = uint64_t{t.num_pieces} * t.piece_length - (data[1] * 977u) % t.piece_length;
    t.metadata_size = 1 + data[1] * 300u;
    const uint8_t ops = data[2];
    uint64_t now = 1'000'000'000'000ull;
    s.start(now);
    const uint8_t *in = data + 3;
    const size_t n = size - 3;
    auto drain = [&] {
        uint32_t k = 0;
        while (s.has_output() && k++ < 100000) {
            const OutItem &it = s.front();
            if (it.kind == OutItem::kBytes) {
                const uint8_t *p = nullptr;
                uint32_t off = 0;
                while (uint32_t m = s.bytes_at(off, &p)) off += m;
                if (off != it.len) std::abort();
            }
            if (it.kind == OutItem::kPiece) {
                const uint64_t start = uint64_t{it.index} * t.piece_length;
                if (it.index >= t.num_pieces || it.len == 0 || it.len > 16384 ||
                    start + it.begin + it.len > t.total_length ||
                    it.begin + it.len > t.piece_length)
                    std::abort();
            }
            if (it.kind == OutItem::kMetadata) {
                uint8_t head[96];
                if (it.len > PeerSession::kMetaPiece ||
                    uint64_t{it.index} * PeerSession::kMetaPiece + it.len > t.metadata_size ||
                    s.metadata_head(it, head) > sizeof head)
                    std::abort();
            }
            s.pop_front();
        }
    };
    bool choked = true;
    for (size_t off = 0; off < n; off += step) {
        const size_t chunk = step < n - off ? step : n - off;
        size_t used = 0;
        while (true) {
            const bool was_closed = s.closed();
            const size_t u = s.feed(in + off + used, chunk - used, now);
            if (was_closed && u) std::abort();
            used += u;
            if (used > chunk) std::abort();
            if (!s.needs_torrent()) break;
            if (known)
                s.set_torrent(t, 1);
            else
                s.unknown_torrent();
        }
        if (!s.closed() && used != chunk) std::abort();
        if (s.outstanding() > cfg.reqq) std::abort();
        if (ops & 1) s.set_choked(choked = !choked);
        if (ops & 2) drain();
        if (ops & 4) now += 30'000'000'000ull;
        s.tick(now);
        if (s.closed()) break;
    }
    drain();
    if (s.outstanding() != 0 && !s.closed()) std::abort();
    return 0;
}
