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
//    newcomer gets its first pieces soon. A rotation never draws the peer
//    whose turn just ended while another candidate waits: the slot rotates.
//  - Between rounds, fill(): a slot freed by a peer that left or lost
//    interest goes at once to an interested choked peer (no 10 s wait for a
//    newcomer while a slot is free), without re-picking the others.
// Modes (ChokerConfig::mode):
//  - kSeedFastest (default, above): a seed rewards the fastest takers.
//  - kSeedRoundRobin (libtorrent's `round_robin` seed choker): a regular
//    peer that has held its slot for a round and taken `rr_quota` bytes
//    since its unchoke gives the slot up to the interested peer that has
//    waited longest, so choked peers are served in turn (fair queueing).
//  - kLeech (fill mode, the textbook's tit-for-tat): the regular slots go
//    to the peers that sent to *us* fastest over the last round;
//    anti-snubbing: a peer that sent no block for `snub_ns` (60 s) does not
//    count as reciprocating: it ranks below every peer that does, whatever
//    its rate, so it only gets a regular slot no reciprocating interested
//    peer takes (as mainline's _rechoke, which fills such slots rather than
//    leave upload capacity idle), or the optimistic one.
// Slots: `regular`, or, when `upload_bps` and `slot_bps` are set (bits/s,
// the glue gives each queue's choker its share of the capacity), as many
// as the upload capacity holds at `slot_bps` each (one of them the
// optimistic slot), at least one regular.
// The caller applies the `unchoked` flags (choke/unchoke messages).
#pragma once

#include <cstdint>

namespace ep::swarm {

struct ChokePeer {
    // Set by the caller.
    uint64_t uploaded = 0;       // bytes sent to this peer so far (monotonic)
    uint64_t downloaded = 0;     // piece bytes received from it so far (kLeech)
    uint64_t last_piece_ns = 0;  // when its last block arrived (0: never; kLeech)
    uint64_t connected_ns = 0;   // when it joined
    bool interested = false;
    // The choker's decision.
    bool unchoked = false;
    bool optimistic = false;
    // The choker's bookkeeping.
    uint64_t uploaded_at_round = 0;
    uint64_t rate = 0;  // bytes over the last round (uploaded; downloaded in kLeech)
    uint64_t downloaded_at_round = 0;
    uint64_t unchoked_ns = 0;          // when it got its slot (round robin)
    uint64_t uploaded_at_unchoke = 0;  // round robin quota
    uint64_t waiting_since_ns = 0;     // choked since (round robin); 0 = at connect
    bool was_unchoked = false;
};

enum class ChokeMode : uint8_t { kSeedFastest, kSeedRoundRobin, kLeech };

struct ChokerConfig {
    ChokeMode mode = ChokeMode::kSeedFastest;
    uint32_t regular = 4;
    uint64_t upload_bps = 0;  // with slot_bps: slots sized by upload capacity
    uint64_t slot_bps = 0;
    uint64_t snub_ns = 60'000'000'000ull;  // kLeech anti-snubbing
    uint64_t rr_quota = 256 * 1024;        // kSeedRoundRobin: bytes a turn
    // Regular slots for this configuration.
    uint32_t regular_slots() const {
        if (!upload_bps || !slot_bps) return regular;
        const uint64_t total = upload_bps / slot_bps;
        return total > 2 ? static_cast<uint32_t>(total - 1) : 1;
    }
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
    // A leecher that completes becomes a seed (mainline does the same).
    void set_mode(ChokeMode m) { cfg_.mode = m; }
    bool snubbed(const ChokePeer &p, uint64_t now_ns) const;

  private:
    uint64_t rand();
    // Picks the optimistic unchoke among interested peers not unchoked as
    // regular ones; nullptr if none.
    // `exclude` (the optimistic peer whose turn ends) is left out when
    // another candidate exists.
    ChokePeer *pick_optimistic(ChokePeer *const *peers, uint32_t n, uint64_t now_ns,
                               const ChokePeer *exclude = nullptr);
    // May p take a regular slot? (interested; kLeech: not snubbed)
    bool regular_ok(const ChokePeer &p, uint64_t now_ns) const {
        return p.interested && !(cfg_.mode == ChokeMode::kLeech && snubbed(p, now_ns));
    }
    void round_robin(ChokePeer *const *peers, uint32_t n, uint64_t now_ns);
    void set_unchoked(ChokePeer *p, bool on, uint64_t now_ns);
    ChokerConfig cfg_;
    uint64_t rng_;
    uint64_t next_round_ns_ = 0;
    uint64_t rounds_ = 0;
    bool started_ = false;
};

}  // namespace ep::swarm
