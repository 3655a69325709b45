// The fill-mode piece picker (dataplane/swarm/piece_picker.h): random first
// pieces, rarest first, strict priority for partial pieces (own, then
// orphaned), endgame duplicates, failed pieces wanted again, block sizes.
#include "dataplane/swarm/piece_picker.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace ep::swarm {
namespace {

constexpr uint32_t kPl = 4 * kBlockLen;  // 4 blocks a piece keeps tests short

PickerConfig cfg(uint32_t pieces, uint64_t total = 0, uint32_t random_first = 4) {
    PickerConfig c;
    c.num_pieces = pieces;
    c.piece_length = kPl;
    c.total_length = total ? total : uint64_t{pieces} * kPl;
    c.random_first = random_first;
    return c;
}

// Receives every block of `piece` (claim + received) and marks it passed.
void complete(PiecePicker &pk, uint32_t piece) {
    for (uint32_t b = 0; b < pk.blocks_in(piece); ++b) {
        const BlockReq r{piece, b * kBlockLen, pk.block_len(piece, b)};
        ASSERT_EQ(pk.claim(r), PiecePicker::Block::kNew);
        pk.received(r);
    }
    pk.passed(piece);
}

TEST(PiecePicker, RejectsBadConfigs) {
    PiecePicker pk;
    EXPECT_FALSE(pk.init(cfg(0)));
    PickerConfig c = cfg(4);
    c.piece_length = 1000;  // not a multiple of 16 KiB
    EXPECT_FALSE(pk.init(c));
    EXPECT_FALSE(pk.init(cfg(4, 3 * kPl)));      // total too short for 4 pieces
    EXPECT_FALSE(pk.init(cfg(4, 4 * kPl + 1)));  // too long
    EXPECT_TRUE(pk.init(cfg(4, 3 * kPl + 1)));
}

TEST(PiecePicker, LastPieceAndLastBlockAreShorter) {
    PiecePicker pk;
    ASSERT_TRUE(pk.init(cfg(3, 2 * kPl + kBlockLen + 100)));
    EXPECT_EQ(pk.blocks_in(2), 2u);
    EXPECT_EQ(pk.block_len(2, 1), 100u);
    const PeerHas seed{nullptr, true};
    std::vector<BlockReq> out(20);
    EXPECT_EQ(pk.pick(0, seed, nullptr, 0, out.data(), 20), 10u);  // 4 + 4 + 2 blocks
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < 10; ++i) bytes += out[i].length;
    EXPECT_EQ(bytes, 2 * kPl + kBlockLen + 100);
    EXPECT_TRUE(pk.endgame());
}

TEST(PiecePicker, RarestFirstAfterTheRandomFirstPieces) {
    PiecePicker pk;
    ASSERT_TRUE(pk.init(cfg(16, 0, 2), 7));
    // Piece 9 is held by one peer, every other piece by three.
    std::vector<uint8_t> all(2, 0xFF), most(2, 0xFF);
    most[1] &= static_cast<uint8_t>(~(0x80u >> 1));  // not piece 9
    pk.add_bitfield(all.data());
    pk.add_bitfield(most.data());
    pk.add_bitfield(most.data());
    EXPECT_EQ(pk.availability(9), 1u);
    EXPECT_EQ(pk.availability(3), 3u);
    complete(pk, 0);
    complete(pk, 1);  // random_first (2) reached
    BlockReq out[4];
    ASSERT_EQ(pk.pick(1, PeerHas{all.data()}, nullptr, 0, out, 4), 4u);
    EXPECT_EQ(out[0].piece, 9u);  // the rarest
}

TEST(PiecePicker, FirstPiecesAreRandomNotRarest) {
    // Before random_first pieces are had, different pickers (seeds) start on
    // different pieces, even with one piece rarer than the rest.
    std::set<uint32_t> firsts;
    std::vector<uint8_t> all(2, 0xFF), most(2, 0xFF);
    most[0] &= 0x7F;  // piece 0 rarer
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        PiecePicker pk;
        ASSERT_TRUE(pk.init(cfg(16), seed));
        pk.add_bitfield(all.data());
        pk.add_bitfield(most.data());
        BlockReq out[4];
        ASSERT_EQ(pk.pick(0, PeerHas{all.data()}, nullptr, 0, out, 4), 4u);
        firsts.insert(out[0].piece);
    }
    EXPECT_GE(firsts.size(), 8u);
}

TEST(PiecePicker, StrictPriorityOwnPieceThenOrphansBeforeNewPieces) {
    PiecePicker pk;
    ASSERT_TRUE(pk.init(cfg(8)));
    const PeerHas seed{nullptr, true};
    pk.add_seed();
    BlockReq a[4], b[4];
    // Connection 1 takes 2 blocks of a piece: its next pick continues it.
    ASSERT_EQ(pk.pick(1, seed, nullptr, 0, a, 2), 2u);
    const uint32_t p = a[0].piece;
    EXPECT_EQ(a[1].piece, p);
    ASSERT_EQ(pk.pick(1, seed, a, 2, a + 2, 1), 1u);
    EXPECT_EQ(a[2].piece, p);
    EXPECT_EQ(a[2].begin, 2 * kBlockLen);
    // Connection 2 does not share the piece connection 1 is downloading.
    ASSERT_EQ(pk.pick(2, seed, nullptr, 0, b, 1), 1u);
    EXPECT_NE(b[0].piece, p);
    // Block 0 arrives, then connection 1 is choked: its other requests go
    // back; the partial piece is an orphan now and its free blocks come
    // before any new piece for connection 3.
    ASSERT_EQ(pk.claim(a[0]), PiecePicker::Block::kNew);
    pk.received(a[0]);
    for (int i = 1; i < 3; ++i) pk.abort_request(a[i]);
    BlockReq c[4];
    ASSERT_EQ(pk.pick(3, seed, nullptr, 0, c, 4), 4u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(c[i].piece, p);
        EXPECT_EQ(c[i].begin, (i + 1) * kBlockLen);
    }
    EXPECT_NE(c[3].piece, p);
}

TEST(PiecePicker, PartialPiecesOfOthersAreSharedOnlyWhenNothingElse) {
    PiecePicker pk;
    ASSERT_TRUE(pk.init(cfg(2)));
    const PeerHas seed{nullptr, true};
    BlockReq a[8], b[8];
    ASSERT_EQ(pk.pick(1, seed, nullptr, 0, a, 1), 1u);  // conn 1 starts piece X
    ASSERT_EQ(pk.pick(2, seed, nullptr, 0, b, 4), 4u);  // conn 2: the other piece, whole
    EXPECT_NE(b[0].piece, a[0].piece);
    // Nothing new left: conn 2 takes the free blocks of conn 1's piece.
    ASSERT_EQ(pk.pick(2, seed, b, 4, b + 4, 4), 3u);
    EXPECT_EQ(b[4].piece, a[0].piece);
    EXPECT_TRUE(pk.endgame());
}

TEST(PiecePicker, EndgameDuplicatesAndTheFirstCopyWins) {
    PiecePicker pk;
    PickerConfig c = cfg(1);
    c.endgame_dup = 2;
    ASSERT_TRUE(pk.init(c));
    const PeerHas seed{nullptr, true};
    BlockReq a[4], b[4], x[4];
    ASSERT_EQ(pk.pick(1, seed, nullptr, 0, a, 4), 4u);
    EXPECT_TRUE(pk.endgame());
    // Endgame: connection 2 asks for the same blocks, never twice itself.
    ASSERT_EQ(pk.pick(2, seed, nullptr, 0, b, 4), 4u);
    EXPECT_EQ(pk.pick(2, seed, b, 4, x, 4), 0u);
    EXPECT_EQ(pk.pick(3, seed, nullptr, 0, x, 4), 0u);  // endgame_dup = 2 reached
    bool others = false;
    ASSERT_EQ(pk.claim(a[0], &others), PiecePicker::Block::kNew);
    EXPECT_TRUE(others);  // the caller cancels connection 2's copy
    EXPECT_EQ(pk.claim(b[0], &others), PiecePicker::Block::kDuplicate);  // interleaved copy
    pk.abort_request(b[0]);  // conn 2's request is answered (its data dropped)
    for (int i = 1; i < 4; ++i) pk.abort_request(b[i]);  // conn 2 gone
    bool done = pk.received(a[0]);
    for (int i = 1; i < 4; ++i) {
        ASSERT_EQ(pk.claim(a[i]), PiecePicker::Block::kNew);
        done = pk.received(a[i]);
    }
    EXPECT_TRUE(done);
    pk.passed(0);
    EXPECT_TRUE(pk.complete());
    EXPECT_FALSE(pk.endgame());
    EXPECT_EQ(pk.pick(1, seed, nullptr, 0, x, 4), 0u);
}

TEST(PiecePicker, AFailedPieceIsWantedAgainAndUnclaimReleases) {
    PiecePicker pk;
    ASSERT_TRUE(pk.init(cfg(2)));
    const PeerHas seed{nullptr, true};
    BlockReq a[8];
    ASSERT_EQ(pk.pick(1, seed, nullptr, 0, a, 8), 8u);
    // A block whose message never completed goes back to the pool.
    ASSERT_EQ(pk.claim(a[4]), PiecePicker::Block::kNew);
    pk.unclaim(a[4]);
    BlockReq x[4];
    ASSERT_EQ(pk.pick(2, seed, nullptr, 0, x, 4), 1u);
    EXPECT_EQ(x[0], a[4]);
    bool done = false;
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(pk.claim(a[i]), PiecePicker::Block::kNew);
        done = pk.received(a[i]);
    }
    ASSERT_TRUE(done);
    pk.failed(a[0].piece);
    EXPECT_FALSE(pk.have(a[0].piece));
    EXPECT_EQ(pk.pick(3, seed, nullptr, 0, x, 4), 4u);  // all four blocks again
    EXPECT_EQ(x[0].piece, a[0].piece);
    EXPECT_EQ(pk.claim(BlockReq{9, 0, kBlockLen}), PiecePicker::Block::kInvalid);
    EXPECT_EQ(pk.claim(BlockReq{0, 100, kBlockLen}), PiecePicker::Block::kInvalid);
}

TEST(PiecePicker, InterestAndPicksFollowWhatThePeerHas) {
    PiecePicker pk;
    ASSERT_TRUE(pk.init(cfg(10)));
    std::vector<uint8_t> bits(2, 0);
    bits[0] = 0x20;  // piece 2 only
    const PeerHas peer{bits.data()};
    EXPECT_TRUE(pk.interesting(peer));
    BlockReq out[8];
    ASSERT_EQ(pk.pick(1, peer, nullptr, 0, out, 8), 4u);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i].piece, 2u);
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(pk.claim(out[i]), PiecePicker::Block::kNew);
        pk.received(out[i]);
    }
    pk.passed(2);
    EXPECT_FALSE(pk.interesting(peer));
    EXPECT_EQ(pk.pick(1, peer, nullptr, 0, out, 8), 0u);
}

}  // namespace
}  // namespace ep::swarm
