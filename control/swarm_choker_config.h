// The choker settings the config gives the peer wire and the fill mode
// (docs/swarm.md "Choking"): pure, so the plumbing is unit-tested.
#pragma once

#include <cstdint>

#include "control/config.h"
#include "dataplane/swarm/choker.h"

namespace ep {

// The optimistic interval in whole rounds (at least one).
uint32_t optimistic_rounds(const Config &cfg);

// The seeding choker of each peer-wire queue: --swarm-seed-choker's mode,
// the slots from --swarm-upload-mbps (each of the `queues` chokers gets
// its share, in bits/s, at --swarm-slot-kbps a slot) or, without a
// capacity, --swarm-unchoke-slots; the rechoke and optimistic intervals.
swarm::ChokerConfig seed_choker_config(const Config &cfg, uint32_t queues);

}  // namespace ep
