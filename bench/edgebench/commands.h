// edgebench subcommands. Each lives in its own file and registers itself on
// the top-level CLI11 app; main.cc only dispatches.
#pragma once

namespace CLI {
class App;
}

namespace ep::bench {

void register_cachesim(CLI::App &app);
void register_tracegen(CLI::App &app);
void register_swarm_sim(CLI::App &app);  // swarm_sim_cmd.cc: distribution time vs the bound
void register_tracker(CLI::App &app);    // tracker_cmd.cc: BEP 15 / HTTP announce load
void register_mapsim(CLI::App &app);     // mapsim_cmd.cc: cluster selection vs an oracle

}  // namespace ep::bench
