// `edgebench tracegen`: writes a synthetic trace (Zipf popularity; unit,
// lognormal or DASH-ladder sizes; optional shifting popularity).
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "bench/edgebench/commands.h"
#include "bench/edgebench/size_arg.h"
#include "cache/synthetic.h"
#include "cache/trace_reader.h"

namespace ep::bench {

namespace {

struct GenOptions {
    cache::SyntheticSpec spec;
    std::string out;
    std::string format = "text";
    std::string ladder = "300,750,1500,3000,6000";
};

void run(GenOptions &o) {
    o.spec.ladder_kbps.clear();
    for (const auto &s : split_list(o.ladder)) o.spec.ladder_kbps.push_back(std::stoul(s));
    if (o.spec.ladder_kbps.empty()) throw std::invalid_argument("empty --ladder");
    cache::Trace t = cache::generate_trace(o.spec);
    if (o.format == "oracleGeneral") {
        cache::annotate_next_access(t);
        cache::write_trace_oracle(o.out, t);
    } else {
        cache::write_trace_text(o.out, t);
    }
    cache::TraceStats st = cache::trace_stats(t);
    std::fprintf(stderr, "tracegen: wrote %s: %llu requests, %llu objects, %llu distinct bytes\n",
                 o.out.c_str(), (unsigned long long)st.requests, (unsigned long long)st.objects,
                 (unsigned long long)st.distinct_bytes);
}

}  // namespace

void register_tracegen(CLI::App &app) {
    auto o = std::make_shared<GenOptions>();
    CLI::App *c = app.add_subcommand("tracegen", "Write a synthetic cache trace");
    c->add_option("-o,--out", o->out, "Output file")->required();
    c->add_option("--format", o->format, "text ('time key size' lines) or oracleGeneral")
        ->check(CLI::IsMember({"text", "oracleGeneral"}))
        ->capture_default_str();
    c->add_option("--requests", o->spec.requests, "Number of requests")->capture_default_str();
    c->add_option("--objects", o->spec.objects, "Catalogue size (Zipf ranks)")
        ->capture_default_str();
    c->add_option("--alpha", o->spec.alpha, "Zipf exponent")->capture_default_str();
    c->add_option("--sizes", o->spec.sizes, "unit | lognormal | dash")
        ->check(CLI::IsMember({"unit", "lognormal", "dash"}))
        ->capture_default_str();
    c->add_option("--lognormal-mu", o->spec.lognormal_mu, "ln-size mean")->capture_default_str();
    c->add_option("--lognormal-sigma", o->spec.lognormal_sigma, "ln-size sigma")
        ->capture_default_str();
    c->add_option("--ladder", o->ladder, "DASH bitrate ladder, kbit/s")->capture_default_str();
    c->add_option("--segment-seconds", o->spec.segment_seconds, "DASH segment duration")
        ->capture_default_str();
    c->add_option("--shift-every", o->spec.shift_every,
                  "New releases: every N requests new objects take the top ranks (0: off)")
        ->capture_default_str();
    c->add_option("--shift-new", o->spec.shift_new, "How many new objects per shift")
        ->capture_default_str();
    c->add_option("--seed", o->spec.seed, "Random seed")->capture_default_str();
    c->callback([o] {
        try {
            run(*o);
        } catch (const std::exception &e) {
            std::fprintf(stderr, "tracegen: %s\n", e.what());
            throw CLI::RuntimeError(1);
        }
    });
}

}  // namespace ep::bench
