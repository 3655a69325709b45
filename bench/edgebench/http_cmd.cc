// `edgebench http`: HTTP/1.1 load over DPDK with edgeplane's own TCP engine
// on the client side (bench/loadgen/dpdk_client.h + http_load.h). Bounded
// by --duration and --requests; a progress line every second on stderr; the
// report as text, --json or --csv on stdout.
#include <xxhash.h>

#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "bench/edgebench/http_commands.h"
#include "bench/edgebench/http_load.h"
#include "bench/loadgen/dpdk_client.h"

namespace ep::bench {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

struct HttpCmdOptions {
    loadgen::DpdkOptions dpdk;
    HttpLoadOptions load;
    std::string server = "10.79.0.2";
    std::string workload = "urls";
    std::string abr = "throughput";
    std::vector<std::string> urls;
    std::string url_file;
    std::string verify_dir;
    std::string verify_prefix = "/";
    uint32_t rcvbuf_kb = 256;
    bool json = false, csv = false, quiet = false;
    std::string label;
    std::string start_when;  // --start-when-exists: wait for this path before the load
};

// What the process ran between two points, all threads (RUSAGE_SELF): the
// client's CPU share over the load window alone, without EAL start-up or a
// --start-when-exists wait.
double self_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct WindowFigures {
    uint64_t rx_linearized = 0;
    double cpu_s = 0, wall_s = 0;
};

// XXH3-64 of every regular file under dir, keyed by its URL path.
std::unordered_map<std::string, uint64_t> hash_tree(const std::string &dir,
                                                    const std::string &prefix) {
    namespace fs = std::filesystem;
    std::unordered_map<std::string, uint64_t> out;
    for (const auto &e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::ifstream f(e.path(), std::ios::binary);
        std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::string key = prefix + fs::relative(e.path(), dir).generic_string();
        if (key.empty() || key[0] != '/') key = "/" + key;
        out[key] = XXH3_64bits(data.data(), data.size());
    }
    return out;
}

double pct_ms(const LatencyHistogram &h, double q) {
    return static_cast<double>(h.percentile(q)) / 1e6;
}

struct SessionSummary {
    size_t n = 0, complete = 0;
    double bitrate = 0, rebuffer = 0, startup = 0, switches = 0, stalls = 0;
};
SessionSummary summarize(const std::vector<SessionReport> &s) {
    SessionSummary o;
    o.n = s.size();
    for (const auto &r : s) {
        o.complete += r.complete;
        o.bitrate += r.m.avg_bitrate_bps;
        o.rebuffer += r.m.rebuffer_ratio;
        o.startup += r.m.startup_delay_s > 0 ? r.m.startup_delay_s : 0;
        o.switches += r.m.switches;
        o.stalls += r.m.stalls;
    }
    if (o.n) {
        const double n = static_cast<double>(o.n);
        o.bitrate /= n, o.rebuffer /= n, o.startup /= n, o.switches /= n, o.stalls /= n;
    }
    return o;
}

void print_report(const HttpCmdOptions &o, const HttpLoadReport &r, const LcoreCounters &lc,
                  const tcp::Counters &tc, const WindowFigures &wf) {
    const double secs = r.seconds > 0 ? r.seconds : 1e-9;
    const double rps = static_cast<double>(r.requests) / secs;
    const double gbps = static_cast<double>(r.body_bytes) * 8 / secs / 1e9;
    const LatencyHistogram &h = *r.latency;
    const SessionSummary ss = summarize(r.sessions);
    if (o.json) {
        std::printf(
            "{\"label\":\"%s\",\"workload\":\"%s\",\"seconds\":%.6f,\"connections\":%u,"
            "\"pipeline\":%u,"
            "\"requests\":%llu,\"requests_per_s\":%.1f,\"body_bytes\":%llu,\"head_bytes\":%llu,"
            "\"gbit_per_s\":%.4f,\"connects\":%llu,\"verified\":%llu,\"retried\":%llu,",
            o.label.c_str(), o.workload.c_str(), r.seconds, o.load.conns, o.load.pipeline,
            (unsigned long long)r.requests, rps, (unsigned long long)r.body_bytes,
            (unsigned long long)r.head_bytes, gbps, (unsigned long long)r.connects,
            (unsigned long long)r.verified, (unsigned long long)r.retried);
        std::printf(
            "\"rate\":%.1f,\"scheduled\":%llu,\"max_backlog\":%llu,\"latency_from\":\"%s\",",
            r.rate, (unsigned long long)r.scheduled, (unsigned long long)r.max_backlog,
            r.rate > 0 ? "scheduled" : "sent");
        std::printf(
            "\"latency_ms\":{\"min\":%.4f,\"mean\":%.4f,\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,"
            "\"p999\":%.4f,\"max\":%.4f},",
            static_cast<double>(h.min()) / 1e6, h.mean() / 1e6, pct_ms(h, 0.5), pct_ms(h, 0.9),
            pct_ms(h, 0.99), pct_ms(h, 0.999), static_cast<double>(h.max()) / 1e6);
        std::printf("\"errors\":{");
        for (size_t i = 0; i < r.errors.size(); ++i)
            std::printf("%s\"%s\":%llu", i ? "," : "", err_kind_name(static_cast<ErrKind>(i)),
                        (unsigned long long)r.errors[i]);
        std::printf("},\"errors_total\":%llu,\"status\":{", (unsigned long long)r.total_errors());
        bool first = true;
        for (auto [code, n] : r.status) {
            std::printf("%s\"%d\":%llu", first ? "" : ",", code, (unsigned long long)n);
            first = false;
        }
        std::printf("},\"tcp\":{");
        // Every engine counter of our side, and every non-zero port counter.
        bool firstc = true;
        tc.for_each([&](const char *name, const char *, uint64_t v) {
            std::printf("%s\"%s\":%llu", firstc ? "" : ",", name, (unsigned long long)v);
            firstc = false;
        });
        std::printf("},\"port\":{");
        firstc = true;
        for_each_counter(lc, [&](std::string_view name, std::string_view, uint64_t v, bool) {
            if (!v) return;
            std::printf("%s\"%.*s\":%llu", firstc ? "" : ",", static_cast<int>(name.size()),
                        name.data(), (unsigned long long)v);
            firstc = false;
        });
        std::printf("},\"rx_linearized\":%llu,\"window_cpu_s\":%.6f,\"window_wall_s\":%.6f",
                    (unsigned long long)wf.rx_linearized, wf.cpu_s, wf.wall_s);
        if (!r.sessions.empty()) {
            std::printf(
                ",\"dash\":{\"sessions\":%zu,\"complete\":%zu,\"avg_bitrate_bps\":%.0f,"
                "\"rebuffer_ratio\":%.5f,\"startup_delay_s\":%.4f,\"switches\":%.3f,\"stalls\":%."
                "3f,"
                "\"per_session\":[",
                ss.n, ss.complete, ss.bitrate, ss.rebuffer, ss.startup, ss.switches, ss.stalls);
            for (size_t i = 0; i < r.sessions.size(); ++i) {
                const auto &s = r.sessions[i];
                std::printf(
                    "%s{\"mpd\":\"%s\",\"complete\":%s,\"segments\":%u,\"avg_bitrate_bps\":%.0f,"
                    "\"rebuffer_ratio\":%.5f,\"startup_delay_s\":%.4f,\"switches\":%u}",
                    i ? "," : "", s.mpd.c_str(), s.complete ? "true" : "false", s.m.segments,
                    s.m.avg_bitrate_bps, s.m.rebuffer_ratio, s.m.startup_delay_s, s.m.switches);
            }
            std::printf("]}");
        }
        std::printf("}\n");
        return;
    }
    if (o.csv) {
        std::printf(
            "label,workload,seconds,connections,pipeline,requests,requests_per_s,body_bytes,gbit_"
            "per_s,"
            "p50_ms,p99_ms,p999_ms,errors,verified,sessions,avg_bitrate_bps,rebuffer_ratio,"
            "startup_delay_s,switches\n");
        std::printf(
            "%s,%s,%.6f,%u,%u,%llu,%.1f,%llu,%.4f,%.4f,%.4f,%.4f,%llu,%llu,%zu,%.0f,%.5f,%.4f,%."
            "3f\n",
            o.label.c_str(), o.workload.c_str(), r.seconds, o.load.conns, o.load.pipeline,
            (unsigned long long)r.requests, rps, (unsigned long long)r.body_bytes, gbps,
            pct_ms(h, 0.5), pct_ms(h, 0.99), pct_ms(h, 0.999), (unsigned long long)r.total_errors(),
            (unsigned long long)r.verified, ss.n, ss.bitrate, ss.rebuffer, ss.startup, ss.switches);
        return;
    }
    std::printf("edgebench http: %s, %u connections, pipeline %u, %.2f s\n", o.workload.c_str(),
                o.load.conns, o.load.pipeline, r.seconds);
    std::printf("  requests   %llu (%.0f req/s)\n", (unsigned long long)r.requests, rps);
    if (r.rate > 0)
        std::printf(
            "  open loop  offered %.0f req/s, achieved %.0f req/s; %llu sent on schedule, most "
            "behind at once %llu; latency from the scheduled send time\n",
            r.rate, rps, (unsigned long long)r.scheduled, (unsigned long long)r.max_backlog);
    std::printf("  payload    %llu bytes (%.3f Gbit/s), headers %llu bytes\n",
                (unsigned long long)r.body_bytes, gbps, (unsigned long long)r.head_bytes);
    std::printf(
        "  latency    p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  (mean %.3f ms)\n",
        pct_ms(h, 0.5), pct_ms(h, 0.99), pct_ms(h, 0.999), static_cast<double>(h.max()) / 1e6,
        h.mean() / 1e6);
    std::printf("  status    ");
    for (auto [code, n] : r.status) std::printf(" %d:%llu", code, (unsigned long long)n);
    std::printf(
        "\n  connects   %llu; bodies verified %llu; requests retried after a server close %llu\n",
        (unsigned long long)r.connects, (unsigned long long)r.verified,
        (unsigned long long)r.retried);
    std::printf("  errors     %llu", (unsigned long long)r.total_errors());
    for (size_t i = 0; i < r.errors.size(); ++i)
        if (r.errors[i])
            std::printf("  %s:%llu", err_kind_name(static_cast<ErrKind>(i)),
                        (unsigned long long)r.errors[i]);
    std::printf("\n  tcp        retransmits %llu, resets received %llu\n",
                (unsigned long long)tc.retransmits, (unsigned long long)tc.rst_rx);
    if (!r.sessions.empty())
        std::printf(
            "  dash       %zu sessions (%zu complete): bitrate %.0f kbit/s, rebuffering %.2f%%, "
            "startup %.3f s, %.2f switches, %.2f stalls per session\n",
            ss.n, ss.complete, ss.bitrate / 1e3, ss.rebuffer * 100, ss.startup, ss.switches,
            ss.stalls);
    const size_t shown = std::min<size_t>(r.sessions.size(), 20);
    for (size_t i = 0; i < shown; ++i) {
        const SessionReport &s = r.sessions[i];
        std::printf(
            "    %-40s %s %3u segments %8.0f kbit/s rebuffer %6.2f%% startup %.3f s switches %u\n",
            s.mpd.c_str(), s.complete ? "done" : "cut ", s.m.segments, s.m.avg_bitrate_bps / 1e3,
            s.m.rebuffer_ratio * 100, s.m.startup_delay_s, s.m.switches);
    }
    if (shown < r.sessions.size())
        std::printf("    ... %zu more in --json\n", r.sessions.size() - shown);
}

void run(HttpCmdOptions &o) {
    // Workload and URLs.
    if (o.workload == "urls")
        o.load.workload = Workload::urls;
    else if (o.workload == "zipf")
        o.load.workload = Workload::zipf;
    else if (o.workload == "dash")
        o.load.workload = Workload::dash;
    else
        throw CLI::ValidationError("--workload", "urls, zipf or dash");
    if (o.load.workload == Workload::dash && o.load.rate > 0)
        throw CLI::ValidationError("--rate", "urls and zipf only (DASH players pace themselves)");
    o.load.abr.rule = o.abr == "buffer" ? AbrRule::buffer : AbrRule::throughput;
    o.load.urls = o.urls;
    if (!o.url_file.empty()) {
        std::ifstream f(o.url_file);
        if (!f) throw CLI::RuntimeError("cannot read " + o.url_file, 2);
        for (std::string line; std::getline(f, line);)
            if (!line.empty() && line[0] != '#') o.load.urls.push_back(line);
    }
    if (o.load.urls.empty()) throw CLI::RuntimeError("no URLs (--url or --url-file)", 2);
    if (!o.verify_dir.empty()) {
        o.load.expected = hash_tree(o.verify_dir, o.verify_prefix);
        if (o.load.verify_every == 0) o.load.verify_every = 1;
    }
    std::string host = o.server;
    if (const size_t colon = o.server.find(':'); colon != std::string::npos) {
        host = o.server.substr(0, colon);
        o.load.server_port = static_cast<uint16_t>(std::stoi(o.server.substr(colon + 1)));
    }
    uint32_t server_be;
    if (!loadgen::parse_ipv4(host, &server_be))
        throw CLI::ValidationError("--server", "want a.b.c.d[:port]");
    o.load.server_ip = __builtin_bswap32(server_be);
    o.load.progress = !o.quiet;

    // Our side of the TCP connections.
    tcp::StackConfig &sc = o.dpdk.tcp;
    sc.max_connections = o.load.conns * 2 + 64;
    sc.rcv_buf_bytes = o.rcvbuf_kb * 1024;
    sc.inline_blocks = o.load.conns * (o.load.pipeline + 2) + 256;
    sc.time_wait_capacity = 4096;
    sc.msl_ns = 1'000'000'000;  // a load generator reuses ports fast; TIME-WAIT is bounded anyway

    loadgen::DpdkClient dc;
    std::string err;
    if (!dc.open(o.dpdk, &err)) throw CLI::RuntimeError("edgebench http: " + err, 1);
    o.load.local_ip = __builtin_bswap32(dc.local_ip_be());
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    if (!o.start_when.empty()) {
        // The server is started after us (edgeplane's virtio-user port
        // connects to our net_vhost socket) and filled before the load:
        // keep the port serviced (its link, ARP) until the caller says go.
        std::error_code ec;
        while (!std::filesystem::exists(o.start_when, ec) && !g_stop) {
            dc.rx();
            dc.tx();
            usleep(1000);
        }
        if (g_stop) {
            dc.close();
            throw CLI::RuntimeError("edgebench http: stopped before " + o.start_when + " appeared",
                                    1);
        }
    }
    if (!dc.resolve(server_be, 3.0)) {
        dc.close();
        throw CLI::RuntimeError("edgebench http: no ARP answer from " + host, 1);
    }
    {
        const double cpu0 = self_cpu_s();
        HttpLoad load(o.load, dc.stack());
        const uint64_t start = dc.now_ns();
        // Hard bound whatever happens: duration + drain + close + slack.
        const uint64_t hard =
            start + static_cast<uint64_t>((o.load.duration_s + o.load.drain_s + 5) * 1e9);
        load.start(start);
        dc.tx();
        while (true) {
            dc.rx();
            const uint64_t now = dc.now_ns();
            if (!load.poll(now)) break;
            dc.tx();
            if (now > hard || g_stop) {
                load.abort_all();
                break;
            }
        }
        // Let the last FINs/RSTs leave.
        for (int i = 0; i < 1000; ++i) {
            dc.rx();
            dc.tx();
        }
        WindowFigures wf;
        wf.rx_linearized = dc.rx_linearized();
        wf.cpu_s = self_cpu_s() - cpu0;
        wf.wall_s = static_cast<double>(dc.now_ns() - start) / 1e9;
        print_report(o, load.report(), dc.counters(), dc.stack().counters(), wf);
        std::fflush(stdout);
        const bool failed = load.report().total_errors() > 0;
        dc.close();
        if (failed) throw CLI::RuntimeError(3);
    }
}

}  // namespace

void register_http(CLI::App &app) {
    auto o = std::make_shared<HttpCmdOptions>();
    CLI::App *c = app.add_subcommand(
        "http", "HTTP/1.1 load over DPDK with edgeplane's TCP engine as the client");
    c->add_option("--port", o->dpdk.port,
                  "vdev string or PCI address (e.g. net_memif0,role=client,socket=PATH)")
        ->required();
    c->add_option("--ip", o->dpdk.ip, "our IPv4 address/prefix")->required();
    c->add_option("--gateway", o->dpdk.gateway, "next hop for servers off the subnet");
    c->add_option("--server", o->server, "server address[:port]")->capture_default_str();
    c->add_option("--host", o->load.host, "Host header")->capture_default_str();
    c->add_option("--lcore", o->dpdk.lcore, "lcore this process runs on")->capture_default_str();
    c->add_option("--file-prefix", o->dpdk.file_prefix,
                  "DPDK --file-prefix (default edgebench-PID)");
    c->add_flag("--no-huge", o->dpdk.no_huge, "run EAL without hugepages");
    c->add_option("--mbufs", o->dpdk.mbufs, "packet buffers")->capture_default_str();
    c->add_flag("--trust-checksums", o->dpdk.trust_rx_l4_csum,
                "don't verify received TCP checksums (memif, vhost-user: shared memory between two "
                "processes can't corrupt; a vhost peer's offloaded sums are partial)");
    c->add_option("--workload", o->workload, "urls | zipf | dash")->capture_default_str();
    c->add_option("--url", o->urls, "URL path (repeatable): objects, or MPDs for dash");
    c->add_option("--url-file", o->url_file, "file with one URL path per line");
    c->add_option("--alpha", o->load.zipf_alpha, "Zipf exponent (zipf)")->capture_default_str();
    c->add_option("--seed", o->load.seed, "random seed")->capture_default_str();
    c->add_option("-c,--conns", o->load.conns, "connections")->capture_default_str();
    c->add_option("--pipeline", o->load.pipeline, "requests in flight per connection")
        ->capture_default_str();
    c->add_option("--rate", o->load.rate,
                  "open loop: requests/s over all connections (urls, zipf; 0: closed loop). "
                  "Latency is measured from each request's scheduled send time")
        ->check(CLI::NonNegativeNumber);
    c->add_option("-d,--duration", o->load.duration_s, "seconds of load")->capture_default_str();
    c->add_option("-n,--requests", o->load.max_requests,
                  "stop after this many requests (0: no limit)");
    c->add_option("--drain", o->load.drain_s, "seconds to wait for responses in flight at the end")
        ->capture_default_str();
    c->add_option("--rcvbuf-kb", o->rcvbuf_kb,
                  "TCP receive buffer per connection, KiB (power of two)")
        ->capture_default_str();
    c->add_option("--verify-dir", o->verify_dir,
                  "source tree of the served objects: hash bodies against it");
    c->add_option("--verify-prefix", o->verify_prefix, "URL prefix of --verify-dir's files")
        ->capture_default_str();
    c->add_option("--verify-every", o->load.verify_every,
                  "hash every Nth response (default with --verify-dir: 1)");
    c->add_option("--abr", o->abr, "dash adaptation: throughput | buffer")->capture_default_str();
    c->add_option("--max-buffer", o->load.abr.max_buffer_s, "dash: playback buffer, seconds")
        ->capture_default_str();
    c->add_option("--label", o->label, "label echoed in --json/--csv");
    c->add_option("--start-when-exists", o->start_when,
                  "after the port is up, wait (servicing it) until this path exists, then load "
                  "(a server that connects to our port, e.g. virtio-user to net_vhost, and is "
                  "filled before the window)");
    c->add_flag("--json", o->json, "JSON report");
    c->add_flag("--csv", o->csv, "CSV report (header + one row)");
    c->add_flag("-q,--quiet", o->quiet, "no progress line");
    c->callback([o]() { run(*o); });
}

}  // namespace ep::bench
