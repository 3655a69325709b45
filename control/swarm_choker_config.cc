#include "control/swarm_choker_config.h"

namespace ep {

uint32_t optimistic_rounds(const Config &cfg) {
    const unsigned r = cfg.swarm_rechoke_s ? cfg.swarm_optimistic_s / cfg.swarm_rechoke_s : 1;
    return r ? r : 1;
}

swarm::ChokerConfig seed_choker_config(const Config &cfg, uint32_t queues) {
    swarm::ChokerConfig c;
    c.mode = cfg.swarm_seed_choker == "round-robin" ? swarm::ChokeMode::kSeedRoundRobin
                                                    : swarm::ChokeMode::kSeedFastest;
    c.regular = cfg.swarm_unchoke_slots;
    // The capacity is the appliance's; every queue's choker serves its own
    // connections (RSS spreads them), so each takes an equal share.
    c.upload_bps = uint64_t{cfg.swarm_upload_mbps} * 1'000'000 / (queues ? queues : 1);
    c.slot_bps = uint64_t{cfg.swarm_slot_kbps} * 1000;
    c.round_ns = uint64_t{cfg.swarm_rechoke_s} * 1'000'000'000ull;
    c.optimistic_rounds = optimistic_rounds(cfg);
    return c;
}

}  // namespace ep
