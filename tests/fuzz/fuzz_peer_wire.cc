// libFuzzer target: peer-wire framing (dataplane/swarm/peer_wire.cc). Byte 0
// picks the negotiated extensions and the split size, byte 1 the piece
// count; the rest is the stream, fed in pieces. Every slice must lie in the
// input, slices of a message add up to its announced payload, and the
// parser consumes everything unless it reports an error.
#include <cstdint>
#include <cstdlib>

#include "dataplane/swarm/peer_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::swarm::pw;
    if (size < 2) return 0;
    Limits lim;
    lim.fast = data[0] & 1;
    lim.extended = data[0] & 2;
    const bool hs = data[0] & 4;
    const size_t step = 1 + (data[0] >> 3);
    lim.num_pieces = 1 + data[1];
    lim.piece_length = 262144;
    lim.total_length =
        uint64_t{lim.num_pieces} * lim.piece_length - (data[1] * 977u) % lim.piece_length;
    Parser p(lim, hs);
    const uint8_t *in = data + 2;
    const size_t n = size - 2;
    uint64_t announced = 0, got = 0;
    bool in_var = false;
    for (size_t off = 0; off < n;) {
        const size_t chunk = step < n - off ? step : n - off;
        size_t used = 0;
        while (true) {
            Event e;
            const size_t u = p.feed(in + off + used, chunk - used, &e);
            used += u;
            if (used > chunk) std::abort();
            if (e.ev == Ev::kError) {
                if (!p.failed()) std::abort();
                return 0;
            }
            if (e.ev == Ev::kMessage) {
                if (in_var) std::abort();
                if (e.payload_len) in_var = true, announced = e.payload_len, got = 0;
                if (e.id == kRequest && (e.length > kBlockMax || e.index >= lim.num_pieces))
                    std::abort();
            }
            if (e.ev == Ev::kPayload) {
                if (!in_var || e.data < in || e.data + e.data_len > in + n || e.data_off != got)
                    std::abort();
                got += e.data_len;
                if (got > announced) std::abort();
            }
            if (e.ev == Ev::kMessageEnd) {
                if (!in_var || got != announced) std::abort();
                in_var = false;
            }
            if (e.ev == Ev::kNone) {
                if (used != chunk) std::abort();
                break;
            }
        }
        off += chunk;
    }
    return 0;
}
