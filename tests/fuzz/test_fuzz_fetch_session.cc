// What fuzz_fetch_session's serving mode (byte 2, bit 6) reaches: the seeds
// it was made for must download and verify pieces, or fail them and ban the
// peer; otherwise the fuzzer would run with a harness that serves nothing
// and the replay test would not notice.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/swarm/peer_wire.h"
#include "tests/fuzz/fuzz_fetch_session.h"

namespace {
using ep::swarm::test::fuzz_fetch_session;

// A message of the remote's with no payload: length 1, then the id.
void message(std::vector<uint8_t> &v, uint8_t id) {
    v.insert(v.end(), {0, 0, 0, 1, id});
}

// tests/fuzz/make_seeds.py's served_* seeds: the harness handshakes (byte 0
// bit 0, bit 1 BEP 6, slices of 1 byte), 4 pieces (byte 1 = 3), then the
// remote has every piece (have-all) and unchokes us.
std::vector<uint8_t> served(uint8_t ops) {
    std::vector<uint8_t> v = {0x03, 3, ops};
    message(v, 0x0E);
    message(v, 1);
    return v;
}

TEST(FuzzFetchSession, ServedSeedDownloadsEveryPiece) {
    const auto in = served(0x41);
    const auto r = fuzz_fetch_session(in.data(), in.size());
    EXPECT_EQ(r.pieces, 4u);
    EXPECT_EQ(r.counters.pieces_passed, 4u);
    EXPECT_EQ(r.counters.pieces_failed, 0u);
    EXPECT_EQ(r.counters.banned, 0u);
    EXPECT_EQ(r.counters.blocks_received, 8u);  // 2 blocks a piece
    EXPECT_TRUE(r.complete);
}

TEST(FuzzFetchSession, WithoutServingNothingArrives) {
    const auto in = served(0x01);  // bit 6 off: the stream alone has no piece
    const auto r = fuzz_fetch_session(in.data(), in.size());
    EXPECT_GT(r.counters.requests_sent, 0u);
    EXPECT_EQ(r.counters.blocks_received, 0u);
    EXPECT_EQ(r.counters.pieces_passed, 0u);
    EXPECT_FALSE(r.complete);
}

TEST(FuzzFetchSession, CorruptServedPiecesFailAndBanThePeer) {
    const auto in = served(0xC1);  // bit 7: each piece's first block has one wrong byte
    const auto r = fuzz_fetch_session(in.data(), in.size());
    EXPECT_EQ(r.counters.pieces_passed, 0u);
    EXPECT_EQ(r.counters.pieces_failed, 3u);  // tc.ban_after
    EXPECT_EQ(r.counters.banned, 1u);
    EXPECT_FALSE(r.complete);
}

TEST(FuzzFetchSession, TwoServedSessionsShareTheTorrent) {
    const auto in = served(0x45);  // bit 2: a second session on the same torrent
    const auto r = fuzz_fetch_session(in.data(), in.size());
    EXPECT_EQ(r.counters.pieces_passed, 4u);  // each piece verified once
    EXPECT_EQ(r.counters.pieces_failed, 0u);
    EXPECT_TRUE(r.complete);
}

// The remote's handshake from the stream (byte 0 bit 0 clear), with the
// BEP 6 bit as real clients set it: fast is negotiated, so the session's
// have-none and the rest of its output are fast-extension peer wire, which
// the harness's check must parse as such (the fuzzer's first finding of
// 2026-12-05 was that check, built with byte 0's bit 1 alone, aborting on
// the valid have-none).
TEST(FuzzFetchSession, StreamHandshakeWithTheFastBitDownloads) {
    std::vector<uint8_t> in = {0x00, 3, 0x41};  // slices of 1 byte, 4 pieces, served
    uint8_t hash[20], hs[ep::swarm::pw::kHandshakeLen];
    std::memset(hash, 0xAB, sizeof hash);  // the harness's info hash
    const uint8_t id[20] = {'-', 'E', 'P'};
    ep::swarm::pw::write_handshake(hs, hash, id, /*fast=*/true, /*extended=*/true);
    in.insert(in.end(), hs, hs + sizeof hs);
    message(in, 0x0E);  // have-all
    message(in, 1);     // unchoke
    const auto r = fuzz_fetch_session(in.data(), in.size());
    EXPECT_EQ(r.counters.pieces_passed, 4u);
    EXPECT_EQ(r.counters.pieces_failed, 0u);
    EXPECT_TRUE(r.complete);
}

TEST(FuzzFetchSession, ShortInputDoesNothing) {
    const uint8_t in[2] = {0x03, 3};
    EXPECT_EQ(fuzz_fetch_session(in, sizeof in).pieces, 0u);
}

}  // namespace
