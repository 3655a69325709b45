// `edgebench mapsim`: mapping quality in simulation (issue 16). Builds one
// synthetic world (mapsim_world.h), replays it through each policy (the
// real control/cluster/ code) and the oracle (mapsim.h), prints the
// traffic-weighted scores against the goals, writes CSVs and, with --png,
// one chart per policy (mapsim_plot.py, matplotlib).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/edgebench/commands.h"
#include "bench/edgebench/find_script.h"
#include "bench/edgebench/mapsim.h"

namespace ep::bench {

namespace {

struct Opts {
    mapsim::WorldOpts world;
    mapsim::SimOpts sim;
    std::vector<std::string> policies = {"geo", "measured", "load-aware"};
    std::string cities;
    double min_pop = 100000;
    std::string goal_policy = "load-aware";  // the default policy (model.h Settings)
    std::string csv = "mapsim";
    std::string png;
};

[[noreturn]] void fail(const std::string &why) {
    std::fprintf(stderr, "edgebench mapsim: %s\n", why.c_str());
    throw CLI::RuntimeError(2);
}

const char *mark(bool met) {
    return met ? "met" : "MISSED";
}

void run(const Opts &o) {
    std::vector<mapsim::City> cities;
    if (!o.cities.empty()) {
        std::string err;
        if (!mapsim::load_cities(o.cities, o.min_pop, &cities, &err)) fail(err);
    }
    const mapsim::World w = mapsim::make_world(o.world, cities.empty() ? nullptr : &cities);
    uint32_t public_ecs = 0, public_no = 0;
    for (const auto &p : w.prefixes)
        if (p.resolver >= 0) (p.ecs ? public_ecs : public_no)++;
    uint32_t cong = 0, outages = 0;
    for (const auto &ev : w.events) (ev.kind == mapsim::Event::kOutage ? outages : cong)++;
    std::printf(
        "world: %s (%zu places), %zu client /24s in %zu networks, %zu clusters, %zu public "
        "resolver sites (%u prefixes with ECS, %u without), %u congestion and %u outage "
        "events over %.0f h, step %.0f s, seed %llu\n",
        w.real_cities ? ("cities from " + o.cities).c_str() : "generated cities", w.cities.size(),
        w.prefixes.size(), w.networks.size(), w.clusters.size(), w.sites.size(), public_ecs,
        public_no, cong, outages, o.world.hours, o.sim.step_s,
        static_cast<unsigned long long>(o.world.seed));
    std::printf(
        "measurements: passive from the cluster reached%s; members report load: %s; scored "
        "after %.1f h of warm-up\n",
        o.sim.probes
            ? (", plus active probes from the " + std::to_string(o.sim.probes) + " nearest every " +
               std::to_string(static_cast<int>(o.sim.probe_every_s)) + " s")
                  .c_str()
            : "",
        o.sim.members_load ? "yes" : "no", o.sim.warmup_h);

    std::vector<std::string> all = o.policies;
    all.push_back("oracle");
    std::vector<mapsim::Result> rs;
    std::printf("\n%-11s %8s %8s %8s %8s %8s %8s %9s %8s %9s %8s %8s %9s %7s\n", "policy",
                "mean_ms", "p95_ms", "p99_ms", "within5", "self_ms", "self_w5", "over_cap",
                "max_util", "flaps/ph", "forced", "routes", "ans/pref", "ans_x");
    for (const std::string &pol : all) {
        mapsim::SimOpts so = o.sim;
        so.policy = pol;
        rs.push_back(mapsim::replay(w, so));
        const mapsim::Result &r = rs.back();
        std::printf(
            "%-11s %8.2f %8.1f %8.1f %7.2f%% %8.2f %7.2f%% %8.2f%% %8.2f %9.3f %8.3f %8.0f "
            "%9.3f %7.2f\n",
            r.policy.c_str(), r.mean_pen, r.p95, r.p99, 100 * r.within, r.mean_self,
            100 * r.within_self, 100 * r.over_cap, r.max_util, r.flaps_ph, r.forced_ph, r.routes,
            r.answers_per_prefix, r.answers_ratio);
        std::fflush(stdout);
    }
    std::printf(
        "(penalty vs the oracle, traffic-weighted, 0.1 ms bins, upper edges; self_ms, self_w5: "
        "the same for the traffic mapped as itself, without public resolvers that send no "
        "ECS; over_cap: "
        "traffic on clusters above capacity; flaps/ph: unforced cluster changes per "
        "prefix-hour, forced: the cluster went down; routes: ECS scopes per name; "
        "ans/pref: routes per client prefix; ans_x: answers resolvers cache against one /0 "
        "answer each)\n");
    for (const mapsim::Result &r : rs) {
        if (r.policy != o.goal_policy) continue;
        std::printf(
            "\ngoals for %s: within 5 ms >= 97%%: %.2f%% %s (%.2f%% without the no-ECS resolvers); "
            "mean <= 2 ms: %.2f %s; no cluster "
            "above capacity: max %.2f %s; flaps <= 0.5 per prefix-hour: %.3f %s; DNS answers "
            "<= 3x one /0 answer: %.2fx %s\n",
            r.policy.c_str(), 100 * r.within, mark(r.within >= 0.97), 100 * r.within_self,
            r.mean_pen, mark(r.mean_pen <= 2), r.max_util, mark(r.max_util <= 1), r.flaps_ph,
            mark(r.flaps_ph <= 0.5), r.answers_ratio, mark(r.answers_ratio <= 3));
    }
    for (const mapsim::Result &r : rs)
        std::printf("%s: replay %.1f s wall, of which recomputes %.1f s\n", r.policy.c_str(),
                    r.wall_s, r.decide_s);

    // CSVs: the summary, the timeline, the penalty CDF, per-cluster peaks.
    std::ofstream sum(o.csv + "_summary.csv"), tl(o.csv + "_timeline.csv"), cdf(o.csv + "_cdf.csv"),
        util(o.csv + "_util.csv");
    if (!sum || !tl || !cdf || !util) fail("cannot write " + o.csv + "_*.csv");
    sum << "policy,mean_ms,p95_ms,p99_ms,within5,mean_self_ms,within5_self,over_cap,max_util,flaps_"
           "per_prefix_hour,forced,"
           "routes,answers_per_prefix,answers_ratio\n";
    tl << "policy,t_h,mean_ms,within5,over_cap,flaps\n";
    cdf << "policy,penalty_ms,share\n";
    util << "policy,cluster,peak_util\n";
    for (const mapsim::Result &r : rs) {
        sum << r.policy << ',' << r.mean_pen << ',' << r.p95 << ',' << r.p99 << ',' << r.within
            << ',' << r.mean_self << ',' << r.within_self << ',' << r.over_cap << ',' << r.max_util
            << ',' << r.flaps_ph << ',' << r.forced_ph << ',' << r.routes << ','
            << r.answers_per_prefix << ',' << r.answers_ratio << '\n';
        for (const mapsim::TimePoint &p : r.timeline)
            tl << r.policy << ',' << p.t_h << ',' << p.mean_pen << ',' << p.within << ','
               << p.over_cap << ',' << p.flaps << '\n';
        double total = 0, s = 0;
        for (double h : r.hist) total += h;
        for (uint32_t b = 0; b < r.hist.size() && total > 0; ++b) {
            s += r.hist[b];
            if (r.hist[b] > 0 || b == 0)
                cdf << r.policy << ',' << (b + 1) * mapsim::kBinMs << ',' << s / total << '\n';
        }
        for (std::size_t c = 0; c < r.peak_util.size(); ++c)
            util << r.policy << ',' << w.clusters[c].name << ',' << r.peak_util[c] << '\n';
    }
    sum.close(), tl.close(), cdf.close(), util.close();
    std::printf("wrote %s_summary.csv, _timeline.csv, _cdf.csv, _util.csv\n", o.csv.c_str());
    if (o.png.empty()) return;
    std::string tried;
    const std::string script = find_script("mapsim_plot.py", "EDGEBENCH_MAPSIM_PLOT", &tried);
    if (script.empty()) fail("mapsim_plot.py not found; looked for:\n" + tried);
    const std::string cmd = "/usr/bin/python3 '" + script + "' '" + o.csv + "' '" + o.png + "'";
    std::fflush(stdout);
    if (std::system(cmd.c_str()) != 0) fail("plot failed: " + cmd);
}

}  // namespace

void register_mapsim(CLI::App &app) {
    auto o = std::make_shared<Opts>();
    CLI::App *c = app.add_subcommand(
        "mapsim",
        "mapping quality in simulation: a synthetic world replayed through each cluster-selection "
        "policy (control/cluster/) and an oracle");
    c->add_option("--policies", o->policies, "policies to replay (the oracle always runs)")
        ->delimiter(',');
    c->add_option("--goal-policy", o->goal_policy, "the policy the goals are judged on");
    c->add_option("--cities", o->cities,
                  "name,lat,lon,population CSV (bench/edgebench/mapsim/cities.js); default: "
                  "generated cities");
    c->add_option("--min-pop", o->min_pop, "with --cities: leave out smaller places");
    c->add_option("--generated-cities", o->world.generated_cities, "without --cities: how many");
    c->add_option("--seed", o->world.seed, "the world's seed");
    c->add_option("--prefixes", o->world.prefixes, "client /24s");
    c->add_option("--clusters", o->world.clusters, "cluster sites");
    c->add_option("--networks", o->world.networks, "access networks");
    c->add_option("--hours", o->world.hours, "simulated time");
    c->add_option("--cap-min", o->world.cap_min, "capacity / nearest-region peak, lowest");
    c->add_option("--cap-max", o->world.cap_max, "capacity / nearest-region peak, highest");
    c->add_option("--peering-share", o->world.peering_share,
                  "(network, cluster) pairs with a peering penalty");
    c->add_option("--public-share", o->world.public_share, "clients on a public resolver");
    c->add_option("--public-ecs", o->world.public_ecs_share,
                  "of those, the share whose resolver sends ECS");
    c->add_option("--far-ldns", o->world.far_ldns_share,
                  "public-resolver clients whose anycast site is not the nearest");
    c->add_option("--congestions-per-hour", o->world.congestions_per_hour, "congestion events");
    c->add_option("--outages-per-hour", o->world.outages_per_hour, "outage events");
    c->add_option("--step", o->sim.step_s, "recompute interval, s");
    c->add_option("--warmup-h", o->sim.warmup_h, "hours not scored at the start");
    c->add_option("--probes", o->sim.probes,
                  "active probes: the nearest N clusters measure each prefix (0: passive only)");
    c->add_option("--probe-every", o->sim.probe_every_s, "active probe interval, s");
    c->add_option("--members-load", o->sim.members_load,
                  "clusters' appliances report the load they carry (etcd members' tx_gbps)");
    c->add_option("--noise-ms", o->sim.noise_ms, "mean queueing noise on a measured RTT");
    c->add_option("--csv", o->csv, "CSV file prefix (PREFIX_summary.csv, ...)");
    c->add_option("--png", o->png, "PNG prefix: PREFIX-POLICY.png per policy (python3-matplotlib)");
    c->callback([o]() { run(*o); });
}

}  // namespace ep::bench
