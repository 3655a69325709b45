// The swarm distribution-time model behind `edgebench swarm-sim` (issue 12,
// third benchmark): one seed and N leechers that all arrive at t = 0, a
// fluid link model in fixed time steps, and per peer the REAL fill-mode
// code: swarm::PiecePicker (rarest first, random first pieces, strict
// priority, endgame) and swarm::Choker (tit-for-tat while leeching, the
// seed choker once complete and for the seed). What is modelled, not run:
// the bytes (a block is a byte count; no SHA-1), TCP (a stream gets its
// share of the uploader's rate at once, no slow start or RTT), the wire
// messages (have/interested/choke take effect in the same step).
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/swarm/choker.h"

namespace ep::bench {

struct SwarmSimConfig {
    uint32_t peers = 100;                 // N leechers
    uint32_t pieces = 128;                // F = pieces * 256 KiB
    double seed_bps = 2.0 * 1048576;      // u_s
    std::vector<double> upload_bps;       // u_i, cycled over the leechers
    double download_bps = 8.0 * 1048576;  // d_i (all leechers)
    double dt = 0.05;                     // step, seconds
    uint32_t neighbours = 50;             // peers a tracker reply gives each leecher
    uint32_t queue_depth = 16;            // outstanding requests per connection
    uint32_t random_first = 4;
    swarm::ChokeMode seed_mode = swarm::ChokeMode::kSeedFastest;
    uint64_t rng = 1;
    double max_time = 36000;  // give up (a stall) after this many simulated seconds
};

struct SwarmSimResult {
    double d = 0;           // measured: the last leecher's completion time
    double mean = 0;        // mean completion time
    double bound = 0;       // max{F/u_s, F/d_min, N F / (u_s + sum u_i)}
    double cs = 0;          // client-server: N F / u_s
    double seed_share = 0;  // bytes the seed uploaded / (N F)
    double dup_share = 0;   // endgame bytes that arrived twice / (N F)
    double idle_none = 0;   // upload capacity unused: nobody unchoked (share of all capacity)
    double idle_empty = 0;  // upload capacity unused: unchoked peers had no requests
    uint32_t done = 0;      // leechers complete
    bool stalled = false;
};

SwarmSimResult run_swarm_sim(const SwarmSimConfig &cfg);

}  // namespace ep::bench
