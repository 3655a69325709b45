// edgebench: edgeplane's benchmark and simulation tool. A thin dispatcher:
// subcommands register themselves (see commands.h) and run from CLI11
// callbacks; a failing subcommand throws CLI::RuntimeError with its exit code
// and, where it has one, its reason (printed here: CLI11 would not).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string_view>

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
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError &e) {
        // CLI11's exit() prints nothing for a RuntimeError; a subcommand
        // that gave a reason ("no ARP answer from ...") must be heard. A
        // bare exit code (RuntimeError(n)) has already said why itself.
        if (std::string_view(e.what()) != CLI::RuntimeError(e.get_exit_code()).what())
            std::fprintf(stderr, "%s\n", e.what());
        return e.get_exit_code();
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    }
    return 0;
}
