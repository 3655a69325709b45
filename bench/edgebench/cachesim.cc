// `edgebench cachesim`: replays a trace through cache policies and prints
// object and byte miss ratios plus replay throughput.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/edgebench/commands.h"
#include "bench/edgebench/replay.h"
#include "bench/edgebench/size_arg.h"
#include "cache/factory.h"
#include "cache/trace_reader.h"

namespace ep::bench {

namespace {

struct SimOptions {
    std::string trace;
    cache::TraceReadOptions read;
    std::string policies = "default";
    std::string sizes = "1%,5%,10%";
    bool bytes = false;
    bool json = false;
    unsigned jobs = 1;
};

struct Result {
    std::string policy;  // as asked for
    std::string impl;    // what it resolved to ("default" -> a real policy)
    uint64_t cache_size = 0;
    uint64_t requests = 0;
    uint64_t misses = 0;
    uint64_t bytes = 0;
    uint64_t miss_bytes = 0;
    double seconds = 0;
    double cpu_seconds = 0;  // this thread's CPU time: robust on a shared box
};

double thread_cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Builds the policy and times one replay of the trace.
Result replay(const cache::Trace &t, const std::string &policy, uint64_t cache_size,
              uint64_t expected_objects) {
    cache::PolicyConfig cfg;
    cfg.capacity_bytes = cache_size;
    cfg.expected_objects = expected_objects;
    auto p = cache::make_policy(policy, cfg);
    Result r;
    r.policy = policy;
    r.impl = p->name();
    r.cache_size = cache_size;
    r.requests = t.size();
    auto t0 = std::chrono::steady_clock::now();
    double c0 = thread_cpu_seconds();
    ReplayCounts c = replay_trace(*p, t);
    auto t1 = std::chrono::steady_clock::now();
    r.cpu_seconds = thread_cpu_seconds() - c0;
    r.misses = c.misses;
    r.miss_bytes = c.miss_bytes;
    r.bytes = c.bytes;
    r.seconds = std::chrono::duration<double>(t1 - t0).count();
    return r;
}

void print(const Result &r, bool json) {
    double mr = r.requests ? double(r.misses) / double(r.requests) : 0;
    double bmr = r.bytes ? double(r.miss_bytes) / double(r.bytes) : 0;
    double mreq = r.seconds > 0 ? double(r.requests) / r.seconds / 1e6 : 0;
    double cpu_mreq = r.cpu_seconds > 0 ? double(r.requests) / r.cpu_seconds / 1e6 : 0;
    if (json) {
        std::printf(
            "{\"policy\":\"%s\",\"impl\":\"%s\",\"cache_size\":%llu,\"requests\":%llu,\"miss_"
            "ratio\":%.6f,"
            "\"byte_miss_ratio\":%.6f,\"mreq_per_s\":%.2f,\"cpu_mreq_per_s\":%.2f}\n",
            r.policy.c_str(), r.impl.c_str(), (unsigned long long)r.cache_size,
            (unsigned long long)r.requests, mr, bmr, mreq, cpu_mreq);
    } else {
        std::string label = r.policy == r.impl ? r.policy : r.policy + "(" + r.impl + ")";
        std::printf(
            "%-22s cache size %12llu, %llu req, miss ratio %.4f, byte miss ratio %.4f, %6.2f "
            "Mreq/s (%.2f per CPU-s)\n",
            label.c_str(), (unsigned long long)r.cache_size, (unsigned long long)r.requests, mr,
            bmr, mreq, cpu_mreq);
    }
    std::fflush(stdout);
}

void run(const SimOptions &o) {
    std::vector<std::string> policies = split_list(o.policies);
    std::vector<SizeArg> sizes = parse_size_list(o.sizes);
    for (const auto &p : policies) {
        cache::PolicyConfig probe;
        probe.capacity_bytes = 1;
        if (!cache::make_policy(p, probe)) {
            std::string all;
            for (const auto &n : cache::policy_names()) all += " " + n;
            throw CLI::ValidationError("--policy", "unknown policy '" + p + "'; known:" + all);
        }
    }
    auto t0 = std::chrono::steady_clock::now();
    cache::Trace trace = cache::read_trace(o.trace, o.read);
    bool future = false;
    for (const auto &p : policies) future |= cache::needs_future(p);
    if (future) cache::annotate_next_access(trace);
    cache::TraceStats st = cache::trace_stats(trace);
    double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!o.json)
        std::printf("# %s: %llu requests, %llu objects, %llu distinct bytes (loaded in %.2fs)\n",
                    o.trace.c_str(), (unsigned long long)st.requests,
                    (unsigned long long)st.objects, (unsigned long long)st.distinct_bytes, load_s);
    if (st.requests == 0) throw CLI::RuntimeError("empty trace", 1);
    uint64_t mean_size = st.distinct_bytes / st.objects;

    struct Job {
        std::string policy;
        uint64_t size;
    };
    std::vector<Job> jobs;
    for (const auto &p : policies)
        for (const auto &s : sizes) {
            uint64_t c = resolve_size(s, o.bytes ? st.distinct_bytes : st.objects);
            if (c == 0)
                throw CLI::ValidationError("--size", "'" + s.text + "' is zero for this trace");
            jobs.push_back({p, c});
        }
    // Results print in job order whatever the thread count.
    std::vector<Result> results(jobs.size());
    std::vector<char> done(jobs.size(), 0);
    std::atomic<size_t> next{0};
    size_t printed = 0;
    std::mutex mu;
    auto worker = [&] {
        for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
            uint64_t expected = jobs[j].size / (mean_size ? mean_size : 1);
            Result r = replay(trace, jobs[j].policy, jobs[j].size, expected);
            std::lock_guard<std::mutex> g(mu);
            results[j] = std::move(r);
            done[j] = 1;
            while (printed < jobs.size() && done[printed]) print(results[printed++], o.json);
        }
    };
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < o.jobs; ++i) threads.emplace_back(worker);
    worker();
    for (auto &t : threads) t.join();
}

}  // namespace

void register_cachesim(CLI::App &app) {
    auto o = std::make_shared<SimOptions>();
    CLI::App *c = app.add_subcommand("cachesim", "Replay a cache trace through eviction policies");
    c->add_option("--trace", o->trace, "Trace file (.xz/.bz2/.zst/.gz read via the system tool)")
        ->required();
    c->add_option("--format", o->read.format, "oracleGeneral|csv|cache2k|tencent|text|auto")
        ->capture_default_str();
    c->add_option("--policy", o->policies, "Comma-separated policies (see cache/factory.h)")
        ->capture_default_str();
    c->add_option("--size", o->sizes,
                  "Comma-separated cache sizes: bytes with K/M/G suffix, or N% of distinct objects "
                  "(of distinct bytes with --bytes)")
        ->capture_default_str();
    c->add_flag("--bytes", o->bytes, "Percent sizes are of the trace's distinct bytes");
    c->add_flag("--ignore-size", o->read.ignore_size, "Every object weighs 1");
    c->add_flag("--json", o->json, "One JSON object per line");
    c->add_option("--csv-key", o->read.csv_key, "CSV column used as object id")
        ->capture_default_str();
    c->add_option("--csv-size", o->read.csv_size, "CSV column used as size ('' for unit)")
        ->capture_default_str();
    c->add_option("--csv-time", o->read.csv_time, "CSV time column")->capture_default_str();
    c->add_option("--limit", o->read.limit, "Read at most this many requests (0: all)");
    c->add_option("-j,--jobs", o->jobs, "Replay this many policy/size pairs in parallel")
        ->capture_default_str()
        ->check(CLI::Range(1u, 256u));
    c->callback([o] {
        try {
            run(*o);
        } catch (const CLI::Error &) {
            throw;
        } catch (const std::exception &e) {
            std::fprintf(stderr, "cachesim: %s\n", e.what());
            throw CLI::RuntimeError(1);
        }
    });
}

}  // namespace ep::bench
