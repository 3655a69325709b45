// edgebench: edgeplane's benchmark and simulation tool. A thin dispatcher:
// subcommands register themselves (see commands.h) and run from CLI11
// callbacks; a failing subcommand throws CLI::RuntimeError with its exit code.
#include <CLI/CLI.hpp>

#include "bench/edgebench/commands.h"
#include "bench/edgebench/http_commands.h"

int main(int argc, char **argv) {
    CLI::App app{"edgebench: edgeplane benchmarks, load generation and cache simulation"};
    app.require_subcommand(1);
    ep::bench::register_cachesim(app);
    ep::bench::register_tracegen(app);
    ep::bench::register_http(app);
    ep::bench::register_compare(app);
    ep::bench::register_udp(app);
    ep::bench::register_dns(app);
    ep::bench::register_synflood(app);
    ep::bench::register_swarm_sim(app);
    ep::bench::register_tracker(app);
    ep::bench::register_mapsim(app);
    CLI11_PARSE(app, argc, argv);
    return 0;
}
