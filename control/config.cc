#include "control/config.h"

#include "cache/factory.h"
#include "control/cluster/model_load.h"
#include "control/metrics_server.h"
#include "control/probe_row.h"
#include "dataplane/fault_stage.h"
#include "dataplane/lcore.h"
#include "control/origin_push/window.h"
#include "dataplane/origin/origin_table.h"

#include <arpa/inet.h>
#include <rte_build_config.h>
#include <rte_mbuf_core.h>
#include <sched.h>
#include <sys/un.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace ep {

bool parse_ipv4(const std::string &s, uint32_t *ip_be) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
    *ip_be = a.s_addr;
    return true;
}

bool parse_ipv4_prefix(const std::string &s, uint32_t *ip_be, uint32_t *mask_be) {
    const auto slash = s.find('/');
    if (slash == std::string::npos) return false;
    if (!parse_ipv4(s.substr(0, slash), ip_be)) return false;
    const std::string len_s = s.substr(slash + 1);
    if (len_s.empty() || len_s.size() > 2 ||
        len_s.find_first_not_of("0123456789") != std::string::npos)
        return false;
    const int len = std::stoi(len_s);
    if (len < 1 || len > 32) return false;
    *mask_be = htonl(len == 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1));
    return true;
}

bool is_pci_address(const std::string &dev) {
    static const std::regex pci(
        R"(^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7](,.*)?$)");
    return std::regex_match(dev, pci);
}

std::string ethdev_name(const std::string &device) {
    std::string name = device.substr(0, device.find(','));
    // EAL names PCI devices in their full domain:bus:dev.fn form.
    if (is_pci_address(name) && std::count(name.begin(), name.end(), ':') == 1)
        name = "0000:" + name;
    return name;
}

unsigned free_hugepages() {
    std::ifstream f("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
    unsigned n = 0;
    f >> n;
    return n;
}

std::string memory_error(const Config &cfg, unsigned free_hp) {
    // The mbuf pool shares the memory with the RAM tier: count it too, so the
    // message is not "out of memory" from a later, unrelated allocation.
    const uint64_t mbuf_mb =
        (uint64_t{cfg.mbufs} * (RTE_MBUF_DEFAULT_BUF_SIZE + sizeof(rte_mbuf) + 64) >> 20) + 1;
    const uint64_t need = uint64_t{cfg.ram_mb} + mbuf_mb;
    const bool no_huge = cfg.no_huge || free_hp == 0;
    const uint64_t have = no_huge ? cfg.memory_mb : uint64_t{free_hp} * 2;
    if (need <= have) return "";
    std::string msg = "--ram-mb " + std::to_string(cfg.ram_mb) + " plus " +
                      std::to_string(mbuf_mb) + " MiB of packet buffers (--mbufs) needs " +
                      std::to_string(need) + " MiB, more than the ";
    if (no_huge)
        msg += std::to_string(have) + " MiB of --memory (--no-huge" +
               std::string(cfg.no_huge ? "" : ", no hugepage is free") + "); raise --memory";
    else
        msg += std::to_string(have) + " MiB of free hugepages (" + std::to_string(free_hp) +
               " x 2 MiB); reserve more (vm.nr_hugepages)";
    return msg + " or lower --ram-mb";
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

// CLI11 2.1's own TOML reader keeps no line numbers, merges a repeated key
// into one, ignores unknown keys and sections, and lets an unclosed array
// swallow the rest of the file (which then fails with "--ip is required").
// This reader takes the TOML edgeplane needs (top-level keys; strings,
// integers, booleans and one-level arrays of them, over several lines if need
// be; comments) and names the file and line of anything else. CLI11 still
// maps the items to options and runs each option's validators.
class StrictToml : public CLI::ConfigBase {
  public:
    explicit StrictToml(const CLI::App *app) : app_(app) {}

    std::vector<CLI::ConfigItem> from_config(std::istream &in) const override {
        const std::string_view text = [&] {
            text_.assign(std::istreambuf_iterator<char>(in), {});
            return std::string_view(text_);
        }();
        const CLI::Option *opt = app_->get_config_ptr();
        file = opt && !opt->results().empty() ? opt->results().back() : "config";
        lines.clear();
        std::vector<std::string> known;
        for (const CLI::Option *o : app_->get_options())
            for (const std::string &n : o->get_lnames())
                if (n != "help" && n != "version" && n != "config") known.push_back(n);

        std::vector<CLI::ConfigItem> items;
        Cursor c{text};
        for (;;) {
            c.skip(true);
            if (c.eof()) break;
            const int line = c.line;
            const std::size_t start = c.i;
            if (c.peek() == '[') {
                const std::string name(c.line_from(start));
                fail(line, "unknown section " + name +
                               " (edgeplane has no sections: every key sits at the top level)");
            }
            std::string key;
            while (!c.eof() && (std::isalnum(static_cast<unsigned char>(c.peek())) ||
                                c.peek() == '-' || c.peek() == '_'))
                key += c.get();
            c.skip(false);
            if (key.empty() || c.eof() || c.peek() != '=')
                fail(line, "expected key = value, got '" + std::string(c.line_from(start)) + "'");
            c.get();
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                std::string best, norm = key;
                std::replace(norm.begin(), norm.end(), '_', '-');
                std::size_t best_d = 3;  // farther than that is no longer a typo
                for (const std::string &k : known)
                    if (const std::size_t d = edit_distance(norm, k); d < best_d)
                        best = k, best_d = d;
                fail(line, "unknown key '" + key + "'" +
                               (best.empty() ? "" : " (did you mean '" + best + "'?)"));
            }
            if (auto it = lines.find(key); it != lines.end())
                fail(line, "duplicate key '" + key + "' (first set on line " +
                               std::to_string(it->second) + ")");
            lines[key] = line;
            CLI::ConfigItem item;
            item.name = key;
            c.skip(false);
            value(c, key, line, &item.inputs, false);
            c.skip(false);
            if (!c.eof() && c.peek() != '\n' && c.peek() != '#')
                fail(c.line, "unexpected text after the value of '" + key + "'");
            items.push_back(std::move(item));
        }
        return items;
    }

    // The key and line of the last file read, for errors CLI11's validators raise later.
    mutable std::map<std::string, int> lines;
    mutable std::string file;

  private:
    struct Cursor {
        std::string_view s;
        std::size_t i = 0;
        int line = 1;
        bool eof() const { return i >= s.size(); }
        char peek() const { return s[i]; }
        char get() {
            if (s[i] == '\n') ++line;
            return s[i++];
        }
        // Spaces, and with newlines also line ends and comments.
        void skip(bool newlines) {
            while (!eof()) {
                const char ch = peek();
                if (ch == ' ' || ch == '\t' || ch == '\r') {
                    get();
                } else if (newlines && ch == '\n') {
                    get();
                } else if (newlines && ch == '#') {
                    while (!eof() && peek() != '\n') get();
                } else {
                    break;
                }
            }
        }
        // From start to the end of its line, for messages.
        std::string_view line_from(std::size_t start) const {
            const std::size_t end = std::min(s.find('\n', start), s.size());
            std::string_view r = s.substr(start, end - start);
            while (!r.empty() && (r.back() == ' ' || r.back() == '\r')) r.remove_suffix(1);
            return r;
        }
    };

    [[noreturn]] void fail(int line, const std::string &msg) const {
        throw CLI::ConfigError(file + ":" + std::to_string(line) + ": " + msg);
    }

    void value(Cursor &c, const std::string &key, int line, std::vector<std::string> *out,
               bool in_array) const {
        if (c.eof() || c.peek() == '\n' || c.peek() == '#')
            fail(c.line, "missing value for '" + key + "'");
        const char q = c.peek();
        if (q == '"' || q == '\'') {
            c.get();
            std::string v;
            while (!c.eof() && c.peek() != q && c.peek() != '\n') {
                char ch = c.get();
                if (q == '"' && ch == '\\' && !c.eof() && c.peek() != '\n') {
                    ch = c.get();
                    ch = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch;
                }
                v += ch;
            }
            if (c.eof() || c.peek() != q)
                fail(c.line, "unterminated string in the value of '" + key + "'");
            c.get();
            out->push_back(std::move(v));
            return;
        }
        if (q == '[') {
            if (in_array) fail(c.line, "'" + key + "': arrays inside arrays are not supported");
            c.get();
            for (;;) {
                c.skip(true);
                if (c.eof()) break;
                if (c.peek() == ']') {
                    c.get();
                    return;
                }
                value(c, key, line, out, true);
                c.skip(true);
                if (c.eof()) break;
                if (c.peek() == ',') {
                    c.get();
                } else if (c.peek() != ']') {
                    fail(line, "array of '" + key +
                                   "' is not closed (expected ',' or ']' before line " +
                                   std::to_string(c.line) + ")");
                }
            }
            fail(line, "array of '" + key + "' is not closed (missing ']')");
        }
        std::string tok;
        while (!c.eof() && !std::isspace(static_cast<unsigned char>(c.peek())) && c.peek() != ',' &&
               c.peek() != ']' && c.peek() != '#')
            tok += c.get();
        static const std::regex number(R"(^[+-]?[0-9][0-9_]*$)");
        if (tok == "true" || tok == "false") {
            out->push_back(tok);
        } else if (std::regex_match(tok, number)) {
            tok.erase(std::remove(tok.begin(), tok.end(), '_'), tok.end());  // TOML's 8_080
            out->push_back(tok);
        } else {
            fail(c.line, "the value of '" + key +
                             "' is neither a number nor true/false; strings need quotes: " + key +
                             " = \"" + tok + "\"");
        }
    }

    const CLI::App *app_;
    mutable std::string text_;
};

// Sizes the data plane allocates by: the error states the rule.
const CLI::Validator kPowerOfTwo(
    [](std::string &s) -> std::string {
        unsigned long long v = 0;
        if (!CLI::detail::lexical_cast(s, v) || v == 0 || (v & (v - 1)) != 0)
            return "must be a power of two (" + s + " is not)";
        return "";
    },
    "POWER OF 2", "power of two");

// The names cache/factory.h accepts, minus the offline oracles (they need the future).
const CLI::Validator kCachePolicy(
    [](std::string &s) -> std::string {
        cache::PolicyConfig pc;
        pc.capacity_bytes = 1 << 20;
        pc.expected_objects = 1024;
        if (!cache::needs_future(s) && cache::make_policy(s, pc)) return "";
        std::string names;
        for (const std::string &n : cache::policy_names())
            if (!cache::needs_future(n)) names += (names.empty() ? "" : ", ") + n;
        return "unknown cache policy '" + s + "'; valid: " + names +
               " (s3fifo+sketch@T sets the sketch threshold)";
    },
    "POLICY", "cache policy");

// A CLI11 error about an option whose value came from the config file gets the file and line.
std::string with_origin(const std::string &what, const StrictToml &toml, int argc, char **argv) {
    for (const auto &[key, line] : toml.lines) {
        const std::string flag = "--" + key;
        const std::size_t at = what.find(flag);
        if (at == std::string::npos) continue;
        const char after = at + flag.size() < what.size() ? what[at + flag.size()] : ' ';
        if (std::isalnum(static_cast<unsigned char>(after)) || after == '-') continue;
        bool on_command_line = false;
        for (int i = 1; i < argc; ++i)
            on_command_line |= std::string_view(argv[i]) == flag ||
                               std::string_view(argv[i]).starts_with(flag + "=");
        if (!on_command_line) return what + " (" + toml.file + ":" + std::to_string(line) + ")";
    }
    return what;
}

}  // namespace

namespace {
int parse_config_args(int argc, char **argv, Config *cfg);
}

namespace {
// Where parse messages go: stderr, or a reload's reason (parse_config_quiet).
thread_local std::string *g_message_sink = nullptr;
void report(const std::string &msg) {
    if (g_message_sink)
        *g_message_sink += msg;
    else
        std::fprintf(stderr, "edgeplane: %s\n", msg.c_str());
}
}  // namespace

void split_title(const std::string &spec, std::string *name, std::string *dir) {
    const std::size_t eq = spec.find('=');
    *name = eq == std::string::npos ? "" : spec.substr(0, eq);
    *dir = eq == std::string::npos ? spec : spec.substr(eq + 1);
}

int parse_config_quiet(const std::vector<std::string> &args, Config *cfg, std::string *err) {
    std::vector<std::string> copy = args;
    std::vector<char *> av;
    for (std::string &a : copy) av.push_back(a.data());
    av.push_back(nullptr);
    std::string msg;
    g_message_sink = &msg;
    const int rc = parse_config(static_cast<int>(copy.size()), av.data(), cfg);
    g_message_sink = nullptr;
    *err = msg;
    return rc;
}

int parse_config(int argc, char **argv, Config *cfg) {
    cfg->argv.assign(argv, argv + argc);
    // --check-config FILE reads FILE as --config FILE would (flags beside it
    // still override), and any error is exit code 2.
    std::vector<std::string> args(argv, argv + argc);
    for (std::size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
        if (args[i] == "--check-config" && i + 1 < args.size()) {
            cfg->check_config = args[i + 1];
            args[i] = "--config";
        } else if (args[i].starts_with("--check-config=")) {
            cfg->check_config = args[i].substr(15);
            args[i] = "--config=" + cfg->check_config;
        }
    }
    std::vector<char *> av;
    for (std::string &a : args) av.push_back(a.data());
    av.push_back(nullptr);
    const int rc = parse_config_args(argc, av.data(), cfg);
    return !cfg->check_config.empty() && rc > 0 ? 2 : rc;
}

namespace {

int parse_config_args(int argc, char **argv, Config *cfg) {
    // Split at a lone "--": what follows belongs to EAL.
    int ours = argc;
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--") {
            ours = i;
            for (int j = i + 1; j < argc; ++j) cfg->eal_extra.emplace_back(argv[j]);
            break;
        }

    CLI::App app{"edgeplane: CDN edge appliance with a kernel-bypass data plane"};
    app.option_defaults()->always_capture_default();  // --help shows each default
    app.set_version_flag("--version", "edgeplane " EP_VERSION);
    app.set_config("--config", "", "Read settings from a TOML file (same keys as the long flags)");
    auto toml = std::make_shared<StrictToml>(&app);
    app.config_formatter(toml);
    const auto port_range = CLI::Range(0, 65535);
    app.add_option("--port", cfg->ports,
                   "Port: a DPDK vdev string (net_tap0,iface=edge0) or a PCI address; repeatable")
        ->required();
    app.add_option("--ip", cfg->ips, "IPv4 address/prefix of each port, in --port order")
        ->required();
    app.add_option("--gateway", cfg->gateways, "Default gateway of each port, in --port order");
    app.add_option("--data-lcores", cfg->data_lcores, "Lcores that run the data plane loop")
        ->delimiter(',')
        ->check(CLI::Range(0, RTE_MAX_LCORE - 1));
    app.add_option("--control-lcore", cfg->control_lcore, "Lcore of the control thread")
        ->check(CLI::Range(0, RTE_MAX_LCORE - 1));
    app.add_option("--admin-socket", cfg->admin_socket, "Unix socket for edgectl");
    app.add_option("--metrics-listen", cfg->metrics_listen,
                   "Serve Prometheus /metrics on this management address, A.B.C.D:PORT (a "
                   "kernel socket on the control thread; empty: off)")
        ->check(CLI::Validator(
            [](std::string &s) -> std::string {
                uint32_t ip;
                uint16_t port;
                return s.empty() || parse_listen_address(s, &ip, &port)
                           ? ""
                           : "expected A.B.C.D:PORT, got '" + s + "'";
            },
            "A.B.C.D:PORT", "listen address"));
    app.add_option("--file-prefix", cfg->file_prefix,
                   "DPDK runtime/hugepage file prefix; unique per process on one host");
    app.add_flag("--no-huge", cfg->no_huge,
                 "Use ordinary memory instead of hugepages (automatic when none are free)");
    app.add_option("--memory", cfg->memory_mb, "MiB of memory with --no-huge")
        ->check(CLI::Range(64, 1 << 20));
    app.add_flag("--allow-pci", cfg->allow_pci,
                 "Let EAL probe PCI devices beyond those named in --port (off: --no-pci)");
    app.add_option("--mbufs", cfg->mbufs, "Packet buffers in the pool")
        ->check(CLI::Range(1023, 1 << 24));
    // The start-up check keeps the pool well above what the rings hold, so
    // no --mbufs exhausts it when TSO sends a window in a few frames: the
    // exhaustion test (tests/integration/test_abuse.py) shrinks the spare
    // pool with this instead.
    app.add_option("--test-reserve-mbufs", cfg->test_reserve_mbufs,
                   "Tests only: take N mbufs out of the pool at start (held by the control "
                   "thread, returned at exit), so a test can run the data plane out of mbufs "
                   "with a pool the start-up check accepts")
        ->check(CLI::Range(0, 1 << 24));
    app.add_option("--log-level", cfg->log_level, "DPDK log level (emerg..debug)");
    app.add_option("--log-format", cfg->log_format,
                   "The daemon's log lines on stderr: kv (ts=... level=... msg=\"...\") or json")
        ->check(CLI::IsMember({"kv", "json"}));
    app.add_option("--store", cfg->store_path,
                   "Chunk store file or block device (persistent disk tier); empty: RAM only");
    app.add_option("--ram-mb", cfg->ram_mb, "RAM tier of the chunk store, MiB of hugepage memory")
        ->check(CLI::Range(1, 1 << 20));
    app.add_option("--disk-mb", cfg->disk_mb, "Size of the store file when it is created, MiB")
        ->check(CLI::Range(1, 1 << 26));
    app.add_option("--max-objects", cfg->max_objects, "Objects the store can index")
        ->check(CLI::Range(1, 1 << 26));
    app.add_option("--http-port", cfg->http_port, "TCP port of the HTTP server (0: off)")
        ->check(port_range);
    app.add_option("--http-header-timeout-ms", cfg->http_header_timeout_ms,
                   "A request head must arrive within this time after its first byte (else 408)")
        ->check(CLI::Range(1, 3'600'000));
    app.add_option("--http-idle-timeout-ms", cfg->http_idle_timeout_ms,
                   "Idle keep-alive connections close after this")
        ->check(CLI::Range(1, 3'600'000));
    app.add_option("--http-send-timeout-s", cfg->http_send_timeout_s,
                   "Reset a connection whose response sees no byte acknowledged this long (0: off)");
    app.add_option("--http-pin-conn-kb", cfg->http_pin_conn_kb,
                   "Chunk bytes one connection may queue ahead of its ACK point (whole chunks)");
    app.add_option("--http-pin-ram-pct", cfg->http_pin_ram_pct,
                   "Share of the RAM tier all connections' unacked data may pin (%)")
        ->check(CLI::Range(1, 100));
    app.add_option(
        "--fault", cfg->fault,
        "Inject faults at the ports, seeded: drop=P,dup=P,reorder=P,reorder-us=N,delay=P,"
        "delay-us=N,corrupt=P,seed=N,dir=rx|tx|both");
    app.add_option(
           "--discard-port", cfg->discard_port,
           "TCP discard service (RFC 863) that hashes what it receives (edgectl sink); 0: off")
        ->check(port_range);
    app.add_option("--udp-echo-port", cfg->udp_echo_port, "UDP echo service (RFC 862); 0: off")
        ->check(port_range);
    app.add_option("--drain-deadline-s", cfg->drain_deadline_s,
                   "On SIGTERM stop accepting connections and give the open ones this long to "
                   "finish before exiting (0: stop at once; a second SIGTERM stops at once)")
        ->check(CLI::Range(0, 3600));
    app.add_option("--tracker-port", cfg->tracker_port,
                   "UDP port of the BitTorrent tracker (BEP 15); 0: off")
        ->check(port_range);
    app.add_option("--tracker-open", cfg->tracker_open,
                   "Track any info hash (true), or only the appliance's own torrents (false)");
    app.add_option("--tracker-interval-s", cfg->tracker_interval_s,
                   "Announce interval told to clients; peers silent for 2 intervals + 60 s expire")
        ->check(CLI::Range(10, 86400));
    app.add_option("--tracker-min-interval-s", cfg->tracker_min_interval_s,
                   "HTTP tracker's 'min interval': clients announce no more often than this")
        ->check(CLI::Range(1, 86400));
    app.add_option("--tracker-http", cfg->tracker_http,
                   "Also answer the tracker over HTTP (BEP 3 /announce, BEP 48 /scrape) on the "
                   "HTTP port, sharing the UDP tracker's swarms (needs --tracker-port)");
    app.add_option("--tracker-swarms", cfg->tracker_swarms,
                   "Swarms each data lcore's tracker shard holds (power of two)")
        ->check(CLI::Range(16, 1 << 20))
        ->check(kPowerOfTwo);
    app.add_option("--tracker-peers", cfg->tracker_peers,
                   "Peer slots per swarm in each data lcore's shard")
        ->check(CLI::Range(1, 4096));
    app.add_option("--torrents", cfg->torrents,
                   "Make a BitTorrent v1 .torrent (pieces = the store's chunks) for every "
                   "ingested object and directory");
    app.add_option("--test-ingest-hold", cfg->test_ingest_hold,
                   "Tests only: hold every ingest after its first chunk until the daemon stops "
                   "(logs \"ingest held\"), so a test can signal it mid-title");
    app.add_option("--swarm-port", cfg->swarm_port,
                   "TCP port of the BitTorrent peer wire that seeds our torrents (BEP 3); 0: off")
        ->check(port_range);
    app.add_option("--swarm-max-conns", cfg->swarm_max_conns,
                   "Peer-wire connections each data lcore's queue holds (about 50 KiB each)")
        ->check(CLI::Range(1, 65536));
    app.add_option("--swarm-unchoke-slots", cfg->swarm_unchoke_slots,
                   "Regular unchoke slots per data lcore, re-picked every 10 s (plus one "
                   "optimistic unchoke every 30 s)")
        ->check(CLI::Range(1, 1024));
    app.add_option("--swarm-rechoke-s", cfg->swarm_rechoke_s,
                   "Choker round: the regular unchokes are re-picked this often (seeding: by "
                   "upload rate; fill mode: tit-for-tat, by download rate from each peer)")
        ->check(CLI::Range(1, 3600));
    app.add_option("--swarm-optimistic-s", cfg->swarm_optimistic_s,
                   "The optimistic unchoke rotates this often (rounded down to whole rounds, at "
                   "least one)")
        ->check(CLI::Range(1, 3600));
    app.add_option("--swarm-seed-choker", cfg->swarm_seed_choker,
                   "Seeding choker: fastest (the regular slots go to the peers taking data "
                   "fastest) or round-robin (libtorrent's round_robin: each peer holds a slot for "
                   "a turn, then the longest-waiting peer gets it)")
        ->check(CLI::IsMember({"fastest", "round-robin"}));
    app.add_option(
           "--swarm-upload-mbps", cfg->swarm_upload_mbps,
           "Upload capacity of the peer wire (Mbit/s, the appliance's; each queue's seeding "
           "choker takes an equal share) in unchoke slots of --swarm-slot-kbps (one of "
           "them optimistic); 0: --swarm-unchoke-slots")
        ->check(CLI::Range(0, 10'000'000));
    app.add_option("--swarm-slot-kbps", cfg->swarm_slot_kbps,
                   "With --swarm-upload-mbps: the upload rate (kbit/s) one unchoke slot gets")
        ->check(CLI::Range(8, 100'000'000));
    app.add_option("--swarm-fetch-ban-after", cfg->swarm_fetch_ban_after,
                   "Fill mode (edgectl swarm fetch): a peer that contributed to this many pieces "
                   "whose SHA-1 failed is banned for the rest of the fetch")
        ->check(CLI::Range(1, 1000));
    app.add_option(
           "--origin", cfg->origins,
           "Pull on miss from an origin (docs/origin.md): 'PREFIX=ADDR[:PORT][,ADDR[:PORT]...]'"
           ", e.g. /vod=origin.example:8080,10.0.0.3; ADDR an IPv4 address or a host name "
           "(system resolver, --origin-resolve-s); the first server is primary, the rest "
           "failover; repeatable (longest prefix wins)")
        ->allow_extra_args(false);
    app.add_option("--origin-timeout-ms", cfg->origin_timeout_ms,
                   "An origin attempt's connect, and its longest silence between reads (as nginx's "
                   "proxy_read_timeout); then the next server, and 504 after the last")
        ->check(CLI::Range(10, 600'000));
    app.add_option("--origin-fetches", cfg->origin_fetches,
                   "Origin connections at once per data lcore and port (256 KiB staging each)")
        ->check(CLI::Range(1, 1024));
    app.add_option("--origin-readahead", cfg->origin_readahead,
                   "Chunks fetched from the one a reader needs on (1: only that one)")
        ->check(CLI::Range(1, 64));
    app.add_option("--origin-fail-hold-ms", cfg->origin_fail_hold_ms,
                   "A failed fill answers requests for it with 502/504 this long before it is "
                   "tried again")
        ->check(CLI::Range(0, 600'000));
    app.add_option("--origin-stale-if-error-s", cfg->origin_stale_if_error_s,
                   "When revalidating an expired object fails, serve the stored copy if it expired "
                   "at most this long ago (RFC 5861 stale-if-error, set here); 0: 502/504")
        ->check(CLI::Range(0, 30 * 86400));
    app.add_option("--origin-keepalive", cfg->origin_keepalive,
                   "Idle origin connections each data lcore keeps for the next range to the same "
                   "server (HTTP/1.1 persistence, closed after 10 s idle); 0: one per range")
        ->check(CLI::Range(0, 32));
    app.add_option("--origin-negative-ttl-s", cfg->origin_negative_ttl_s,
                   "Remember an origin's 404/410 this long: requests meanwhile get 404 without "
                   "asking it (negative caching); 0: only --origin-fail-hold-ms")
        ->check(CLI::Range(0, 86400));
    app.add_option("--origin-health-interval-ms", cfg->origin_health_interval_ms,
                   "Check every origin server this often with a HEAD from the data plane (below "
                   "500: pass; refused, timeout, 5xx: fail); down servers are skipped by fills; "
                   "0: no checks")
        ->check(CLI::Range(0, 3'600'000));
    app.add_option("--origin-health-path", cfg->origin_health_path,
                   "Request path of the health check (default: the route's prefix)");
    app.add_option("--origin-health-rise", cfg->origin_health_rise,
                   "Consecutive passed checks that mark a down origin server up (haproxy's rise)")
        ->check(CLI::Range(1, 100));
    app.add_option("--origin-health-fall", cfg->origin_health_fall,
                   "Consecutive failed checks or fills that mark an origin server down (fall)")
        ->check(CLI::Range(1, 100));
    app.add_option("--origin-resolve-s", cfg->origin_resolve_s,
                   "Look origin server names up again this often (and on every reload)")
        ->check(CLI::Range(1, 86400));
    app.add_option("--push-list", cfg->push_list,
                   "Off-peak push (docs/origin.md): request path of the origin's popularity list "
                   "(JSON, most popular first), e.g. /vod/popular.json; read at every window "
                   "start through the origin route that matches it; empty: no push");
    app.add_option("--push-window", cfg->push_window,
                   "Off-peak push: local-time window HH:MM-HH:MM (wraps past midnight) in which "
                   "the most popular titles that fit are fetched before anyone asks");
    app.add_option("--push-mbps", cfg->push_mbps,
                   "Off-peak push: bandwidth cap in Mbit/s on the chunk fetches it starts (a token "
                   "bucket of one 256 KiB chunk); 0: no cap")
        ->check(CLI::Range(0.0, 1e6));
    app.add_option("--push-share-pct", cfg->push_share_pct,
                   "Off-peak push: percent of the store's RAM tier (where filled chunks live) "
                   "pushed titles may take in one window")
        ->check(CLI::Range(1, 100));
    app.add_option("--push-clock-offset-s", cfg->push_clock_offset_s,
                   "Tests only: seconds added to the clock the push window reads (edgectl fill "
                   "now HH:MM sets it live)")
        ->check(CLI::Range(-86400LL * 366, 86400LL * 366));
    app.add_option("--purge-allow", cfg->purge_allow,
                   "HTTP PURGE is accepted from this IPv4 network (A.B.C.D/LEN), repeatable; others "
                   "get 403, and with none PURGE is 405 (edgectl purge always works)");
    app.add_option("--dns-port", cfg->dns_port,
                   "Authoritative DNS on this UDP and TCP port (docs/dns.md), usually 53; 0: off")
        ->check(port_range);
    app.add_option("--dns-zone", cfg->dns_zones,
                   "Zone file (RFC 1035 master format) the DNS service answers for; repeatable")
        ->check(CLI::ExistingFile);
    app.add_option("--dns-max-udp", cfg->dns_max_udp,
                   "Largest DNS answer over UDP with EDNS (RFC 6891 6.2.5; 512 without EDNS)")
        ->check(CLI::Range(512, 4096));
    app.add_option("--dns-steer", cfg->dns_steer,
                   "Steered DNS answer: 'NAME PREFIX ADDR[,ADDR...] [TTL]', clients (ECS or "
                   "resolver address) in PREFIX get ADDRs with ECS scope = its length; repeatable")
        ->allow_extra_args(false);
    app.add_option("--dns-rrl-rate", cfg->dns_rrl_rate,
                   "DNS response rate limit (Knot/NSD RRL): UDP answers per second to one source "
                   "prefix, of one kind, for one name; over it dropped or slipped; 0: off")
        ->check(CLI::Range(0, 10'000'000));
    app.add_option("--dns-rrl-slip", cfg->dns_rrl_slip,
                   "Every Nth rate-limited DNS answer is sent truncated (TC) so real clients "
                   "retry over TCP; 0: drop all, 1: truncate all")
        ->check(CLI::Range(0, 100));
    app.add_option("--dns-rrl-v4-prefix", cfg->dns_rrl_v4_prefix,
                   "IPv4 source prefix length one RRL bucket covers")
        ->check(CLI::Range(8, 32));
    app.add_option("--dns-rrl-v6-prefix", cfg->dns_rrl_v6_prefix,
                   "IPv6 source prefix length one RRL bucket covers")
        ->check(CLI::Range(16, 128));
    app.add_option("--dns-rrl-buckets", cfg->dns_rrl_buckets,
                   "RRL buckets per data lcore queue (power of two)")
        ->check(CLI::Range(64, 1 << 22))
        ->check(kPowerOfTwo);
    app.add_option("--clusters", cfg->clusters,
                   "Cluster selection: the clusters, client networks and steered names (TOML, "
                   "docs/cluster_selection.md); edgectl clusters / why ADDRESS")
        ->check(CLI::ExistingFile);
    app.add_option("--cluster-policy", cfg->cluster_policy,
                   "Cluster selection policy, overriding the file's: geo, measured, load-aware, "
                   "content")
        ->check(CLI::IsMember({"geo", "measured", "load-aware", "content"}));
    app.add_option("--cluster-self", cfg->cluster_self,
                   "The cluster of the --clusters model this appliance belongs to: turns on HTTP "
                   "redirects and DASH content steering (docs/cluster_selection.md)");
    app.add_option("--http-redirect", cfg->http_redirect,
                   "With --cluster-self: 302 a manifest request to the client's chosen cluster "
                   "when it scores --http-redirect-margin-ms better than this one");
    app.add_option("--http-redirect-margin-ms", cfg->http_redirect_margin_ms,
                   "How much better (ms of expected RTT) the chosen cluster must score to redirect")
        ->check(CLI::Range(0.0, 100000.0));
    app.add_option("--dash-steering", cfg->dash_steering,
                   "With --cluster-self: serve the DASH content steering manifest at /steer");
    app.add_option("--dash-steer-ttl-s", cfg->dash_steer_ttl_s,
                   "TTL of the steering manifest (seconds before the player asks again)")
        ->check(CLI::Range(1, 86400));
    app.add_option("--dash-steer-min-kbps", cfg->dash_steer_min_kbps,
                   "A player reporting less throughput on its pathway has it demoted (0: off)");
    app.add_option("--probes", cfg->probes,
                   "Active probes (ICMP echo, then TCP SYN) to client networks and LDNSes with no "
                   "fresh passive measurement: auto (with --cluster-self and the measured "
                   "policy), on, off")
        ->check(CLI::IsMember({"auto", "on", "off"}));
    app.add_option("--probe-rate", cfg->probe_rate,
                   "Probes per second this appliance sends at most, all targets together")
        ->check(CLI::Range(0.0, 10000.0));
    app.add_option("--probe-interval-s", cfg->probe_interval_s,
                   "Seconds before a target is probed again")
        ->check(CLI::Range(0.1, 86400.0));
    app.add_option("--probe-retry-s", cfg->probe_retry_s,
                   "Seconds before a target that answered no probe is tried again")
        ->check(CLI::Range(0.1, 864000.0));
    app.add_option("--probe-timeout-ms", cfg->probe_timeout_ms,
                   "A probe with no answer after this is unanswered")
        ->check(CLI::Range(10, 60000));
    app.add_option("--probe-ldns-ports", cfg->probe_ldns_ports,
                   "TCP ports an LDNS is sent a SYN on when it does not answer ICMP (comma list)");
    app.add_option("--probe-client-ports", cfg->probe_client_ports,
                   "TCP ports a client network's representative is sent a SYN on when it does "
                   "not answer ICMP (comma list)");
    app.add_option("--idle-backoff", cfg->idle_backoff,
                   "Data lcores with no work pause, then sleep (growing to --idle-sleep-max-us), "
                   "and poll at full speed again from the first packet (l3fwd-power's way)");
    app.add_option("--idle-sleep-after", cfg->idle_sleep_after,
                   "Empty loop turns in a row before a data lcore starts sleeping")
        ->check(CLI::Range(64, 100'000'000));
    app.add_option("--idle-sleep-max-us", cfg->idle_sleep_max_us,
                   "The longest idle sleep of a data lcore (microseconds)")
        ->check(CLI::Range(1, 10'000));
    app.add_option("--etcd", cfg->etcd,
                   "Membership in etcd: HOST:PORT[,HOST:PORT...] of its client port (the v3 JSON "
                   "gateway); this appliance registers with a lease and follows the others "
                   "(needs --clusters and --appliance-cluster)");
    app.add_option("--etcd-prefix", cfg->etcd_prefix,
                   "Key prefix of the appliances in etcd (each at PREFIX<cluster>/<name>)");
    app.add_option("--etcd-lease-ttl", cfg->etcd_lease_ttl_s,
                   "Seconds an appliance that stopped renewing its etcd lease stays listed")
        ->check(CLI::Range(2, 3600));
    app.add_option("--etcd-poll-ms", cfg->etcd_poll_ms, "How often the member list is read from etcd")
        ->check(CLI::Range(50, 60000));
    app.add_option("--appliance-name", cfg->appliance_name,
                   "This appliance's name in etcd (default: the host name)");
    app.add_option("--appliance-cluster", cfg->appliance_cluster,
                   "The cluster this appliance belongs to (a [[cluster]] name of --clusters)");
    app.add_option("--dns-tcp-conns", cfg->dns_tcp_conns,
                   "DNS over TCP (RFC 7766) connections per data lcore, same port; 0: UDP only")
        ->check(CLI::Range(0, 1 << 16));
    app.add_option("--icmp-error-rate", cfg->icmp_error_rate,
                   "ICMP errors (UDP port unreachable) each data lcore may send per second "
                   "(RFC 1812 4.3.2.8); 0: none")
        ->check(CLI::Range(0, 1'000'000));
    app.add_option("--rx-desc", cfg->rx_desc,
                   "RX ring descriptors per queue (each holds an mbuf from --mbufs)")
        ->check(CLI::Range(64, 16384));
    app.add_option("--tx-desc", cfg->tx_desc, "TX ring descriptors per queue")
        ->check(CLI::Range(64, 16384));
    app.add_option(
        "--tso", cfg->tso,
        "TCP segmentation offload where the port offers it: one header per up to "
        "64 KiB of new data, cut into MSS segments by the port (false: one frame per MSS)");
    app.add_option("--arp-reachable-s", cfg->arp_reachable_s,
                   "Seconds a neighbour's MAC is used before it is polled by unicast ARP; "
                   "unanswered for 4 more seconds, it is forgotten (RFC 1122 2.3.2.1)")
        ->check(CLI::Range(0.1, 86400.0));
    app.add_option("--tcp-syn-backlog", cfg->tcp_syn_backlog,
                   "Half-open connections per listener before SYN cookies (RFC 4987)")
        ->check(CLI::Range(1, 1 << 20));
    app.add_option("--cache-policy", cfg->cache_policy,
                   "Eviction/admission policy of the RAM tier (lru, fifo, sieve, s3fifo, "
                   "tinylfu+..., default)")
        ->check(kCachePolicy);
    app.add_option("--cache-high-pct", cfg->cache_high_pct,
                   "Evict when the RAM tier is this full (%)")
        ->check(CLI::Range(1, 100));
    app.add_option("--cache-low-pct", cfg->cache_low_pct, "... down to this (%)")
        ->check(CLI::Range(0, 100));
    app.add_option("--access-ring-size", cfg->access_ring_size,
                   "Access records buffered per data lcore for the cache policy (power of two)")
        ->check(CLI::Range(16, 1 << 24))
        ->check(kPowerOfTwo);
    app.add_option("--access-log", cfg->access_log,
                   "Append one line per response to this file (reopened on SIGUSR1); empty: off");
    app.add_option("--access-log-format", cfg->access_log_format,
                   "Access-log lines: nginx 'combined' plus our fields, or 'json' (one object a line)")
        ->check(CLI::IsMember({"combined", "json"}));
    app.add_option("--access-log-sample", cfg->access_log_sample,
                   "Log one response in this many, per data lcore (1: every response)")
        ->check(CLI::Range(1, 1'000'000));
    app.add_option("--access-log-ring", cfg->access_log_ring,
                   "Access-log records buffered per data lcore (power of two; a full ring drops "
                   "and counts response_log_drops)")
        ->check(CLI::Range(16, 1 << 20))
        ->check(kPowerOfTwo);
    app.add_option("--access-log-dns-interval-s", cfg->access_log_dns_interval_s,
                   "DNS in the access log: one summary record per data lcore and port this often "
                   "(queries, answers by rcode), never one line per query")
        ->check(CLI::Range(1, 86'400));
    app.add_option("--title", cfg->titles,
                   "Content to serve, NAME=DIR (objects NAME/...) or DIR: ingested at start; a "
                   "reload (SIGHUP, edgectl reload) ingests the ones added since; repeatable");
    app.add_option("--http-max-conns", cfg->http_max_conns, "HTTP sessions per data lcore")
        ->check(CLI::Range(1, 1 << 20));
    app.add_option("--tcp-max-conns", cfg->tcp_max_conns, "TCP connections per data lcore")
        ->check(CLI::Range(1, 1 << 20));
    // The window scale (at most 14, RFC 7323) bounds what a peer can fill: 1 GiB.
    app.add_option("--tcp-rcvbuf-kb", cfg->tcp_rcvbuf_kb,
                   "Receive buffer per connection, KiB (power of two)")
        ->check(CLI::Range(1, 1 << 20))
        ->check(kPowerOfTwo);
    app.add_option("--tcp-cc", cfg->tcp_cc, "Congestion control: cubic or newreno")
        ->check(CLI::IsMember({"cubic", "newreno"}));
    app.add_option("--tcp-rto-min-ms", cfg->tcp_rto_min_ms,
                   "Minimum retransmission timeout (RFC 6298 2.4)")
        ->check(CLI::Range(1, 60'000));
    app.add_option("--tcp-tick-us", cfg->tcp_tick_us,
                   "TCP timer granularity; the tail-loss probe floor is 2 ticks (RFC 8985)")
        ->check(CLI::Range(10, 10000));
    app.footer(
        "=VALUE is the default. Flags override the same key in the --config file.\n"
        "Arguments after a lone -- are passed to DPDK's EAL.\n"
        "--check-config FILE validates FILE (read as --config FILE, other flags applied) and\n"
        "exits: 0 when it is good, 2 with the reason; EAL is not started.\n");
    try {
        app.parse(ours, argv);
    } catch (const CLI::Success &e) {
        return app.exit(e);  // --help, --version
    } catch (const CLI::ParseError &e) {
        report(with_origin(e.what(), *toml, ours, argv) +
               (g_message_sink ? "" : "\nRun with --help for more information."));
        return e.get_exit_code();
    }

    auto fail = [](const std::string &msg) {
        report(msg);
        return 2;
    };
    if (cfg->ips.size() != cfg->ports.size())
        return fail("give one --ip A.B.C.D/LEN per --port (" + std::to_string(cfg->ports.size()) +
                    " ports, " + std::to_string(cfg->ips.size()) + " addresses)");
    if (cfg->gateways.size() > cfg->ports.size()) return fail("more --gateway values than ports");
    if (cfg->ports.size() > 4) return fail("at most 4 ports");
    if (cfg->data_lcores.empty()) return fail("--data-lcores needs at least one lcore");
    std::set<unsigned> seen(cfg->data_lcores.begin(), cfg->data_lcores.end());
    if (seen.size() != cfg->data_lcores.size()) return fail("--data-lcores lists an lcore twice");
    if (seen.count(cfg->control_lcore))
        return fail("the control lcore must not also be a data lcore");

    if (cfg->admin_socket.empty() || cfg->admin_socket.size() >= sizeof(sockaddr_un::sun_path))
        return fail("--admin-socket must be a path shorter than " +
                    std::to_string(sizeof(sockaddr_un::sun_path)) + " bytes");
    if (cfg->http_port != 0 && cfg->http_port == cfg->discard_port)
        return fail("--http-port and --discard-port are both " + std::to_string(cfg->http_port));
    if (cfg->swarm_port != 0 &&
        (cfg->swarm_port == cfg->http_port || cfg->swarm_port == cfg->discard_port ||
         (cfg->dns_tcp_conns != 0 && cfg->swarm_port == cfg->dns_port)))
        return fail("--swarm-port " + std::to_string(cfg->swarm_port) +
                    " is also another TCP service's port");
    // A capacity must hold one slot per peer-wire queue (each queue's
    // choker takes its share, data lcores x ports): less would unchoke more
    // than the capacity says.
    const uint64_t swarm_queues = uint64_t{cfg->data_lcores.size()} * cfg->ports.size();
    if (cfg->swarm_upload_mbps != 0 &&
        uint64_t{cfg->swarm_upload_mbps} * 1000 < uint64_t{cfg->swarm_slot_kbps} * swarm_queues)
        return fail("--swarm-upload-mbps " + std::to_string(cfg->swarm_upload_mbps) +
                    " holds less than one --swarm-slot-kbps " +
                    std::to_string(cfg->swarm_slot_kbps) + " slot per peer-wire queue (" +
                    std::to_string(swarm_queues) + ": data lcores x ports)");
    if (cfg->tracker_port != 0 && cfg->tracker_port == cfg->udp_echo_port)
        return fail("--tracker-port and --udp-echo-port are both " +
                    std::to_string(cfg->tracker_port));
    if (cfg->dns_port != 0 && cfg->dns_port == cfg->udp_echo_port)
        return fail("--dns-port and --udp-echo-port are both " + std::to_string(cfg->dns_port));
    if (cfg->dns_port != 0 && cfg->dns_tcp_conns != 0 &&
        (cfg->dns_port == cfg->http_port || cfg->dns_port == cfg->discard_port))
        return fail("--dns-port " + std::to_string(cfg->dns_port) +
                    " is also a TCP service's port (DNS listens on TCP too; --dns-tcp-conns 0 "
                    "turns that off)");
    if (cfg->dns_port != 0 && cfg->dns_zones.empty())
        return fail("--dns-port needs at least one --dns-zone FILE");
    for (const std::string &o : cfg->origins) {
        origin::Route r;
        const char *why = "";
        if (!origin::parse_route(o, &r, &why)) return fail("--origin '" + o + "': " + why);
    }
    if (cfg->origins.size() > origin::Table::kMaxRoutes)
        return fail("at most " + std::to_string(origin::Table::kMaxRoutes) + " --origin routes");
    if (!cfg->origins.empty() && cfg->http_port == 0)
        return fail("--origin needs the HTTP service (--http-port)");
    if (!cfg->origin_health_path.empty() &&
        (cfg->origin_health_path[0] != '/' || cfg->origin_health_path.size() >= 128 ||
         cfg->origin_health_path.find_first_of(" \r\n\t") != std::string::npos))
        return fail("--origin-health-path '" + cfg->origin_health_path +
                    "': want a request path /PATH (no spaces, under 128 bytes)");
    for (const std::string &n : cfg->purge_allow) {
        uint32_t ip, mask;
        if (!parse_ipv4_prefix(n, &ip, &mask))
            return fail("--purge-allow '" + n + "': not an IPv4 network A.B.C.D/LEN");
    }
    if (cfg->purge_allow.size() > kMaxPurgeNets)
        return fail("at most " + std::to_string(kMaxPurgeNets) + " --purge-allow");
    if (!cfg->push_list.empty()) {
        push::Window w;
        std::string why;
        if (!push::parse_window(cfg->push_window, &w, &why)) return fail("--push-window: " + why);
        if (cfg->origins.empty()) return fail("--push-list needs --origin (pushes are fills)");
        if (cfg->push_list.size() < 2 || cfg->push_list[0] != '/')
            return fail("--push-list '" + cfg->push_list + "': want a request path /PATH");
    }
    if (!cfg->purge_allow.empty() && cfg->origins.empty())
        return fail("--purge-allow needs --origin (PURGE travels the fill channel)");
    // Each lcore's origin connections use its own slice of the ephemeral
    // ports; answers that reach another lcore are handed over (tcp/port_steer.h).
    if (!cfg->origins.empty() && cfg->data_lcores.size() > kMaxSteerLcores)
        return fail("--origin works with at most " + std::to_string(kMaxSteerLcores) +
                    " data lcores");
    if (!cfg->cluster_policy.empty() && cfg->clusters.empty())
        return fail("--cluster-policy needs --clusters FILE");
    if (!cfg->etcd.empty() && (cfg->clusters.empty() || cfg->appliance_cluster.empty()))
        return fail("--etcd needs --clusters FILE and --appliance-cluster NAME");
    if (cfg->etcd.empty() && !cfg->appliance_cluster.empty())
        return fail("--appliance-cluster needs --etcd");
    if (!cfg->clusters.empty()) {
        // The whole model is checked here, so --check-config judges it too.
        cluster::Model m;
        std::string err;
        if (!cluster::load_and_validate(cfg->clusters, &m, &err)) return fail(err);
        if (!cfg->cluster_self.empty()) {
            bool found = false;
            for (const cluster::Cluster &c : m.clusters) found |= c.name == cfg->cluster_self;
            if (!found)
                return fail("--cluster-self '" + cfg->cluster_self + "' is no cluster of " +
                            cfg->clusters);
        }
    }
    if (!cfg->cluster_self.empty() && cfg->clusters.empty())
        return fail("--cluster-self needs --clusters FILE");
    {
        std::vector<uint16_t> ports;
        std::string e;
        if (!parse_probe_ports(cfg->probe_ldns_ports, &ports, &e))
            return fail("--probe-ldns-ports: " + e);
        if (!parse_probe_ports(cfg->probe_client_ports, &ports, &e))
            return fail("--probe-client-ports: " + e);
    }
    if (cfg->cache_low_pct > cfg->cache_high_pct)
        return fail("--cache-low-pct is above --cache-high-pct");
    if (cfg->access_ring_size < 16 || (cfg->access_ring_size & (cfg->access_ring_size - 1)))
        return fail("--access-ring-size must be a power of two >= 16");
    for (const std::string &t : cfg->titles) {
        std::string name, dir;
        split_title(t, &name, &dir);
        std::error_code ec;
        if (dir.empty() || !std::filesystem::exists(dir, ec))
            return fail("--title '" + t + "': no file or directory '" + dir + "'");
    }
    if (!cfg->fault.empty()) {
        FaultSpec spec;
        std::string err;
        if (!parse_fault_spec(cfg->fault, &spec, &err)) return fail(err);
    }
    cfg->port_options.clear();
    for (std::size_t i = 0; i < cfg->ports.size(); ++i) {
        PortOptions p;
        p.device = ethdev_name(cfg->ports[i]);
        p.rx_desc = static_cast<uint16_t>(cfg->rx_desc);
        p.tx_desc = static_cast<uint16_t>(cfg->tx_desc);
        p.tso = cfg->tso;
        if (!parse_ipv4_prefix(cfg->ips[i], &p.ip, &p.netmask))
            return fail("bad --ip '" + cfg->ips[i] + "': expected A.B.C.D/LEN");
        if (i < cfg->gateways.size() && !cfg->gateways[i].empty() &&
            !parse_ipv4(cfg->gateways[i], &p.gateway))
            return fail("bad --gateway '" + cfg->gateways[i] + "'");
        cfg->port_options.push_back(p);
    }
    return -1;
}

}  // namespace

std::vector<std::string> eal_arguments(const Config &cfg) {
    std::vector<std::string> a{"edgeplane"};
    // Lcore N runs on CPU N. An lcore id past the CPUs this process may use
    // shares one of them (id modulo the count): a test or a small VM can
    // still run several data lcores, and the log says so.
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    std::vector<unsigned> cpus;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (unsigned c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
    std::ostringstream lcores;
    auto place = [&](unsigned l) {
        unsigned cpu = l;
        if (!cpus.empty() && (l >= CPU_SETSIZE || !CPU_ISSET(l, &allowed))) {
            cpu = cpus[l % cpus.size()];
            std::fprintf(stderr, "edgeplane: lcore %u has no CPU of its own, shares CPU %u\n", l,
                         cpu);
        }
        lcores << (lcores.tellp() > 0 ? "," : "") << l << '@' << cpu;
    };
    place(cfg.control_lcore);
    for (unsigned l : cfg.data_lcores) place(l);
    // --in-memory: hugepage files are unlinked as soon as they are mapped, so
    // none is left behind even when the daemon is killed (no secondary
    // process attaches to edgeplane, so nothing needs them on disk).
    a.insert(a.end(),
             {"--lcores", lcores.str(), "--main-lcore", std::to_string(cfg.control_lcore),
              "--file-prefix", cfg.file_prefix, "--log-level", cfg.log_level, "--in-memory"});
    bool any_pci = false;
    for (const std::string &p : cfg.ports) {
        if (is_pci_address(p)) {
            any_pci = true;
            a.insert(a.end(), {"-a", p});
        } else {
            a.insert(a.end(), {"--vdev", p});
        }
    }
    // Never probe the host's own NICs unless asked: only named devices are touched.
    if (!any_pci && !cfg.allow_pci) a.emplace_back("--no-pci");
    if (cfg.no_huge || free_hugepages() == 0)
        a.insert(a.end(), {"--no-huge", "-m", std::to_string(cfg.memory_mb)});
    a.insert(a.end(), cfg.eal_extra.begin(), cfg.eal_extra.end());
    return a;
}

}  // namespace ep
