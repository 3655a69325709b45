// Peer-wire framing (BEP 3, BEP 6, BEP 10): events for legal streams fed in
// any split, and a named error for each violation.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "dataplane/swarm/peer_wire.h"

namespace ep::swarm::pw {
namespace {

Limits limits(bool fast = true, bool ext = true) {
    Limits l;
    l.num_pieces = 10;  // 9 whole pieces and one of 1000 bytes
    l.piece_length = 262144;
    l.total_length = 9ull * 262144 + 1000;
    l.fast = fast;
    l.extended = ext;
    return l;
}

// Feeds `in` in pieces of `step` bytes and collects every event.
std::vector<Event> run(Parser &p, const std::vector<uint8_t> &in, size_t step) {
    std::vector<Event> out;
    size_t off = 0;
    while (off < in.size()) {
        const size_t n = std::min(step, in.size() - off);
        size_t used_total = 0;
        while (true) {
            Event e;
            const size_t used = p.feed(in.data() + off + used_total, n - used_total, &e);
            used_total += used;
            if (e.ev != Ev::kNone) out.push_back(e);
            if (e.ev == Ev::kError) return out;
            if (e.ev == Ev::kNone && used_total == n) break;
        }
        off += n;
    }
    Event e;
    p.feed(nullptr, 0, &e);  // a pending message end
    if (e.ev != Ev::kNone) out.push_back(e);
    return out;
}

std::vector<uint8_t> handshake(bool fast, bool ext) {
    uint8_t ih[20], id[20];
    std::memset(ih, 0xAB, 20), std::memset(id, 0x11, 20);
    std::vector<uint8_t> b(kHandshakeLen);
    write_handshake(b.data(), ih, id, fast, ext);
    return b;
}

void append(std::vector<uint8_t> &v, const uint8_t *p, size_t n) {
    v.insert(v.end(), p, p + n);
}

TEST(PeerWire, LegalStreamGivesTheSameEventsInAnySplit) {
    std::vector<uint8_t> s = handshake(true, true);
    uint8_t b[64];
    append(s, b, write_keepalive(b));
    append(s, b, write_simple(b, kInterested));
    append(s, b, write_have(b, 9));
    append(s, b, write_request(b, kRequest, 9, 0, 1000));  // the short last piece, whole
    append(s, b, write_request(b, kRequest, 3, 262144 - 16384, 16384));
    append(s, b, write_simple(b, kHaveAll));
    append(s, b, write_bitfield_head(b, 2));
    s.push_back(0xFF), s.push_back(0xC0);  // 10 pieces: 6 spare bits zero
    append(s, b, write_piece_head(b, 1, 16384, 5));
    for (int i = 0; i < 5; ++i) s.push_back(static_cast<uint8_t>('a' + i));
    append(s, b, write_extended_head(b, 0, 3));
    s.insert(s.end(), {'d', 'e', 'x'});
    append(s, b, write_request(b, kReject, 0, 0, 16384));
    for (size_t step : {size_t{1}, size_t{3}, size_t{7}, s.size()}) {
        Parser p(limits());
        const auto ev = run(p, s, step);
        ASSERT_FALSE(p.failed()) << "step " << step;
        ASSERT_GE(ev.size(), 11u);
        EXPECT_EQ(ev[0].ev, Ev::kHandshake);
        EXPECT_TRUE(ev[0].hs.reserved[kReservedFastByte] & kReservedFastBit);
        EXPECT_TRUE(ev[0].hs.reserved[kReservedExtByte] & kReservedExtBit);
        EXPECT_EQ(ev[0].hs.info_hash[0], 0xAB);
        EXPECT_EQ(ev[1].ev, Ev::kKeepAlive);
        EXPECT_EQ(ev[2].id, kInterested);
        EXPECT_EQ(ev[3].id, kHave);
        EXPECT_EQ(ev[3].index, 9u);
        EXPECT_EQ(ev[4].length, 1000u);
        EXPECT_EQ(ev[5].begin, 262144u - 16384);
        EXPECT_EQ(ev[6].id, kHaveAll);
        // Variable parts come as slices whose bytes add up to the payload.
        std::string piece, bits;
        bool saw_reject = false;
        for (const Event &e : ev) {
            if (e.ev == Ev::kPayload && e.id == kPiece)
                piece.append(reinterpret_cast<const char *>(e.data), e.data_len);
            if (e.ev == Ev::kPayload && e.id == kBitfield)
                bits.append(reinterpret_cast<const char *>(e.data), e.data_len);
            if (e.ev == Ev::kMessage && e.id == kReject) saw_reject = true;
        }
        EXPECT_EQ(piece, "abcde");
        EXPECT_EQ(bits, "\xFF\xC0");
        EXPECT_TRUE(saw_reject);
    }
}

Error first_error(const std::vector<uint8_t> &msg, Limits l = limits()) {
    Parser p(l, false);
    const auto ev = run(p, msg, msg.size());
    for (const Event &e : ev)
        if (e.ev == Ev::kError) return e.err;
    return Error::none;
}

std::vector<uint8_t> req(MsgId id, uint32_t index, uint32_t begin, uint32_t len) {
    std::vector<uint8_t> v(17);
    write_request(v.data(), id, index, begin, len);
    return v;
}

TEST(PeerWire, RequestLongerThan16KiB) {
    EXPECT_EQ(first_error(req(kRequest, 0, 0, 16385)), Error::request_too_long);
    EXPECT_EQ(first_error(req(kCancel, 0, 0, 1u << 31)), Error::request_too_long);
    EXPECT_EQ(first_error(req(kRequest, 0, 0, 16384)), Error::none);
}

TEST(PeerWire, IndexOrOffsetOutsideTheTorrent) {
    EXPECT_EQ(first_error(req(kRequest, 10, 0, 16384)), Error::out_of_range);
    EXPECT_EQ(first_error(req(kRequest, 0, 262144 - 16383, 16384)), Error::out_of_range);
    EXPECT_EQ(first_error(req(kRequest, 9, 0, 1001)),
              Error::out_of_range);  // past the short last piece
    EXPECT_EQ(first_error(req(kRequest, 0, 0xFFFFFFFF, 16384)), Error::out_of_range);
    EXPECT_EQ(first_error(req(kRequest, 0, 0, 0)), Error::out_of_range);
    std::vector<uint8_t> have(9);
    write_have(have.data(), 10);
    EXPECT_EQ(first_error(have), Error::out_of_range);
}

TEST(PeerWire, MessageLongerThanTheLargestLegalOne) {
    // A 2 GiB length prefix is refused at once, before any payload.
    const std::vector<uint8_t> huge = {0x80, 0, 0, 0, kPiece};
    EXPECT_EQ(first_error(huge), Error::too_long);
    Parser p(limits(), false);
    const uint32_t max = p.max_message();
    std::vector<uint8_t> m = {static_cast<uint8_t>((max + 1) >> 24),
                              static_cast<uint8_t>((max + 1) >> 16),
                              static_cast<uint8_t>((max + 1) >> 8), static_cast<uint8_t>(max + 1)};
    EXPECT_EQ(first_error(m), Error::too_long);
}

TEST(PeerWire, UnknownIdAndExtensionsNotNegotiated) {
    EXPECT_EQ(first_error({0, 0, 0, 1, 42}), Error::unknown_id);
    EXPECT_EQ(first_error({0, 0, 0, 1, kHaveAll}, limits(false, true)), Error::unknown_id);
    EXPECT_EQ(first_error({0, 0, 0, 2, kExtended, 0}, limits(true, false)), Error::unknown_id);
    EXPECT_EQ(first_error({0, 0, 0, 1, kHaveAll}), Error::none);
}

TEST(PeerWire, WrongLengthsAndSpareBits) {
    EXPECT_EQ(first_error({0, 0, 0, 2, kChoke, 0}), Error::bad_length);
    EXPECT_EQ(first_error({0, 0, 0, 4, kHave, 0, 0, 0}), Error::bad_length);
    EXPECT_EQ(first_error({0, 0, 0, 2, kBitfield, 0xFF}), Error::bad_length);  // needs 2 bytes
    EXPECT_EQ(first_error({0, 0, 0, 3, kBitfield, 0xFF, 0xE0}), Error::bad_bitfield);
}

TEST(PeerWire, GarbageHandshake) {
    auto bad = [](std::vector<uint8_t> in) {
        Parser p(limits());
        for (const Event &e : run(p, in, 1))
            if (e.ev == Ev::kError) return e.err;
        return Error::none;
    };
    // Not a plaintext handshake at all: another protocol, a message first,
    // an MSE/PE key (random bytes, 19 first or not).
    EXPECT_EQ(bad({'G', 'E', 'T', ' ', '/'}), Error::no_plain_handshake);
    EXPECT_EQ(bad({0, 0, 0, 1, kInterested}), Error::no_plain_handshake);
    EXPECT_EQ(bad({19, 0x7c, 0x11, 0xe0}), Error::no_plain_handshake);
    // 19 'B' and then not BEP 3's protocol string: a bad handshake.
    std::vector<uint8_t> hs = handshake(false, false);
    hs[5] = 'X';
    EXPECT_EQ(bad(hs), Error::bad_handshake);
    hs = handshake(false, false);
    EXPECT_EQ(bad(hs), Error::none);
    // Once failed, it stays failed.
    Parser p(limits());
    Event e;
    const uint8_t g = 'x';
    p.feed(&g, 1, &e);
    EXPECT_EQ(e.ev, Ev::kError);
    p.feed(hs.data(), hs.size(), &e);
    EXPECT_EQ(e.ev, Ev::kError);
    EXPECT_STREQ(error_name(Error::bad_handshake), "bad_handshake");
    EXPECT_STREQ(error_name(Error::no_plain_handshake), "no_plain_handshake");
}

}  // namespace
}  // namespace ep::swarm::pw
