// `edgebench swarm-sim`: distribution time of one file to N leechers vs the
// textbook bound (issue 12, third benchmark). Runs the model in
// swarm_model.h (the real piece picker and choker per peer) for each N and
// each rate scenario, prints D, the P2P bound max{F/u_s, F/d_min,
// N F/(u_s + sum u_i)} and client-server N F/u_s, writes a CSV and, with
// --png, draws them against N (swarm_sim_plot.py, matplotlib).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/edgebench/commands.h"
#include "bench/edgebench/find_script.h"
#include "bench/edgebench/swarm_model.h"

namespace ep::bench {

namespace {

constexpr double kMiB = 1048576.0;

struct Opts {
    std::vector<uint32_t> peers = {10, 30, 100, 300, 1000};
    uint32_t pieces = 256;
    double seed_rate = 2;
    std::vector<double> homo = {1};
    std::vector<double> hetero = {0.5, 1, 2};
    double download = 8;
    double dt = 0.05;
    uint32_t neighbours = 50;
    uint32_t queue_depth = 16;
    std::string seed_choker = "fastest";
    std::string scenarios = "homogeneous,heterogeneous";
    uint64_t rng = 1;
    double goal = 1.1;
    std::string csv = "swarm_sim.csv";
    std::string png;
};

[[noreturn]] void fail(const std::string &why) {
    std::fprintf(stderr, "edgebench swarm-sim: %s\n", why.c_str());
    throw CLI::RuntimeError(2);
}

std::string rates(const std::vector<double> &v) {
    std::ostringstream o;
    for (size_t i = 0; i < v.size(); ++i) o << (i ? "/" : "") << v[i];
    return o.str();
}

void run(const Opts &o) {
    std::vector<std::pair<std::string, std::vector<double>>> sc;
    if (o.scenarios.find("homogeneous") != std::string::npos) sc.push_back({"homogeneous", o.homo});
    if (o.scenarios.find("heterogeneous") != std::string::npos)
        sc.push_back({"heterogeneous", o.hetero});
    if (sc.empty()) fail("--scenarios: homogeneous and/or heterogeneous");
    FILE *csv = std::fopen(o.csv.c_str(), "w");
    if (!csv) fail("cannot write " + o.csv + ": " + std::strerror(errno));
    std::fprintf(csv,
                 "scenario,upload_mibps,seed_mibps,download_mibps,pieces,N,D_s,mean_s,bound_s,"
                 "client_server_s,ratio,seed_share,dup_share,idle_none,idle_empty,stalled\n");
    std::printf(
        "F = %u pieces x 256 KiB = %.0f MiB, u_s = %g MiB/s, d = %g MiB/s, dt = %g s, "
        "%u neighbours from the tracker, seed choker %s\n",
        o.pieces, o.pieces / 4.0, o.seed_rate, o.download, o.dt, o.neighbours,
        o.seed_choker.c_str());
    std::printf("%-14s %6s %9s %9s %7s %10s %9s %8s %7s\n", "scenario", "N", "D (s)", "bound",
                "D/bound", "D_cs (s)", "mean (s)", "seed/NF", "wall");
    double worst = 0;
    std::string worst_at;
    for (const auto &[name, up] : sc) {
        for (uint32_t n : o.peers) {
            SwarmSimConfig c;
            c.peers = n;
            c.pieces = o.pieces;
            c.seed_bps = o.seed_rate * kMiB;
            for (double u : up) c.upload_bps.push_back(u * kMiB);
            c.download_bps = o.download * kMiB;
            c.dt = o.dt;
            c.neighbours = o.neighbours;
            c.queue_depth = o.queue_depth;
            c.seed_mode = o.seed_choker == "round-robin" ? swarm::ChokeMode::kSeedRoundRobin
                                                         : swarm::ChokeMode::kSeedFastest;
            c.rng = o.rng;
            const auto t0 = std::chrono::steady_clock::now();
            const SwarmSimResult r = run_swarm_sim(c);
            const double wall =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const double ratio = r.d / r.bound;
            std::printf("%-14s %6u %9.1f %9.1f %7.3f %10.0f %9.1f %8.3f %6.1fs%s\n", name.c_str(),
                        n, r.d, r.bound, ratio, r.cs, r.mean, r.seed_share, wall,
                        r.stalled ? "  STALLED" : "");
            std::fflush(stdout);
            std::fprintf(csv, "%s,%s,%g,%g,%u,%u,%.3f,%.3f,%.3f,%.3f,%.4f,%.4f,%.4f,%.4f,%.4f,%d\n",
                         name.c_str(), rates(up).c_str(), o.seed_rate, o.download, o.pieces, n, r.d,
                         r.mean, r.bound, r.cs, ratio, r.seed_share, r.dup_share, r.idle_none,
                         r.idle_empty, r.stalled ? 1 : 0);
            if (ratio > worst) worst = ratio, worst_at = name + " N=" + std::to_string(n);
        }
    }
    std::fclose(csv);
    std::printf("worst D/bound %.3f (%s): goal %.2f %s\n", worst, worst_at.c_str(), o.goal,
                worst <= o.goal ? "met" : "missed");
    std::printf("csv: %s\n", o.csv.c_str());
    if (o.png.empty()) return;
    std::string tried;
    const std::string script = find_script("swarm_sim_plot.py", "EDGEBENCH_SWARM_PLOT", &tried);
    if (script.empty()) fail("swarm_sim_plot.py not found; looked for:\n" + tried);
    const std::string cmd = "/usr/bin/python3 '" + script + "' '" + o.csv + "' '" + o.png + "'";
    std::fflush(stdout);
    if (std::system(cmd.c_str()) != 0) fail("plot failed: " + cmd);
}

}  // namespace

void register_swarm_sim(CLI::App &app) {
    auto o = std::make_shared<Opts>();
    CLI::App *c = app.add_subcommand(
        "swarm-sim",
        "distribution time of a file to N BitTorrent leechers (the real piece picker and "
        "choker over a fluid link model) vs the P2P bound and client-server");
    c->add_option("--peers", o->peers, "N values (leechers)")->delimiter(',');
    c->add_option("--pieces", o->pieces, "file size in 256 KiB pieces");
    c->add_option("--seed-rate", o->seed_rate, "seed upload u_s, MiB/s");
    c->add_option("--upload", o->homo, "homogeneous leecher upload, MiB/s")->delimiter(',');
    c->add_option("--hetero-upload", o->hetero,
                  "heterogeneous leecher uploads, MiB/s, cycled over the leechers")
        ->delimiter(',');
    c->add_option("--download", o->download, "leecher download capacity d, MiB/s");
    c->add_option("--dt", o->dt, "time step, s");
    c->add_option("--neighbours", o->neighbours, "peers in a tracker reply");
    c->add_option("--queue-depth", o->queue_depth, "outstanding 16 KiB requests per connection");
    c->add_option("--seed-choker", o->seed_choker, "fastest | round-robin")
        ->check(CLI::IsMember({"fastest", "round-robin"}));
    c->add_option("--scenarios", o->scenarios, "homogeneous,heterogeneous");
    c->add_option("--rng", o->rng, "random seed");
    c->add_option("--goal", o->goal, "D/bound goal (issue 12: 1.1)");
    c->add_option("--csv", o->csv, "CSV output");
    c->add_option("--png", o->png, "PNG chart (needs python3-matplotlib)");
    c->callback([o]() { run(*o); });
}

}  // namespace ep::bench
