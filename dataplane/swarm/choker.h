// The seeding appliance's choker (BEP 3 "choking"; the mainline client's
// algorithm as the textbook describes it), pure: peers and time in,
// unchoke decisions out.
//
//  - Regular unchokes: `regular` (4) interested peers, re-picked every
//    round (10 s) by the rate we uploaded to them over the last round. A
//    seed has no download rate from its peers to reciprocate, so it rewards
//    the peers that take data fastest (the mainline seed choker).
//  - One optimistic unchoke, rotated every `optimistic_rounds` rounds
//    (30 s): a random choked interested peer, where peers connected less
//    than `new_ns` ago are `new_weight` (3) times as likely (mainline), so a
//    newcomer gets its first pieces soon.
//  - Between rounds, fill(): a slot freed by a peer that left or lost
//    interest goes at once to an interested choked peer (no 10 s wait for a
//    newcomer while a slot is free), without re-picking the others.
// The caller applies the `unchoked` flags (choke/unchoke messages).
#pragma once

#include <cstdint>

namespace ep::swarm {

struct ChokePeer {
    // Set by the caller.
    uint64_t uploaded = 0;      // bytes sent to this peer so far (monotonic)
    uint64_t connected_ns = 0;  // when it joined
    bool interested = false;
    // The choker's decision.
    bool unchoked = false;
    bool optimistic = false;
    // The choker's bookkeeping.
    uint64_t uploaded_at_round = 0;
    uint64_t rate = 0;  // bytes over the last round
};

struct ChokerConfig {
    uint32_t regular = 4;
    uint64_t round_ns = 10'000'000'000ull;
    uint32_t optimistic_rounds = 3;  // 30 s
    uint32_t new_weight = 3;
    uint64_t new_ns = 30'000'000'000ull;
};

class Choker {
  public:
    explicit Choker(const ChokerConfig &cfg = {}, uint64_t seed = 1) : cfg_(cfg), rng_(seed | 1) {}
    // A round when one is due (the first call starts the clock); returns
    // true if it ran. peers: the live connections (any order), n of them.
    bool tick(ChokePeer *const *peers, uint32_t n, uint64_t now_ns);
    // Now, without waiting for the round: chokes unchoked peers that lost
    // interest and gives free slots to interested choked peers.
    void fill(ChokePeer *const *peers, uint32_t n, uint64_t now_ns);
    // Runs a round now (tick calls it when due).
    void round(ChokePeer *const *peers, uint32_t n, uint64_t now_ns);
    uint64_t rounds() const { return rounds_; }
    const ChokerConfig &config() const { return cfg_; }

  private:
    uint64_t rand();
    // Picks the optimistic unchoke among interested peers not unchoked as
    // regular ones; nullptr if none.
    ChokePeer *pick_optimistic(ChokePeer *const *peers, uint32_t n, uint64_t now_ns);
    ChokerConfig cfg_;
    uint64_t rng_;
    uint64_t next_round_ns_ = 0;
    uint64_t rounds_ = 0;
    bool started_ = false;
};

}  // namespace ep::swarm
