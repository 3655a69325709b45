#include "control/config.h"

#include "dataplane/fault_stage.h"

#include <arpa/inet.h>
#include <sched.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
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

int parse_config(int argc, char **argv, Config *cfg) {
    // Split at a lone "--": what follows belongs to EAL.
    int ours = argc;
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--") {
            ours = i;
            for (int j = i + 1; j < argc; ++j) cfg->eal_extra.emplace_back(argv[j]);
            break;
        }

    CLI::App app{"edgeplane: CDN edge appliance with a kernel-bypass data plane"};
    app.set_config("--config", "", "Read settings from a TOML file (same keys as the long flags)");
    app.add_option("--port", cfg->ports,
                   "Port: a DPDK vdev string (net_tap0,iface=edge0) or a PCI address; repeatable")
        ->required();
    app.add_option("--ip", cfg->ips, "IPv4 address/prefix of each port, in --port order")
        ->required();
    app.add_option("--gateway", cfg->gateways, "Default gateway of each port, in --port order");
    app.add_option("--data-lcores", cfg->data_lcores, "Lcores that run the data plane loop")
        ->delimiter(',');
    app.add_option("--control-lcore", cfg->control_lcore, "Lcore of the control thread");
    app.add_option("--admin-socket", cfg->admin_socket, "Unix socket for edgectl");
    app.add_option("--file-prefix", cfg->file_prefix,
                   "DPDK runtime/hugepage file prefix; unique per process on one host");
    app.add_flag("--no-huge", cfg->no_huge,
                 "Use ordinary memory instead of hugepages (automatic when none are free)");
    app.add_option("--memory", cfg->memory_mb, "MiB of memory with --no-huge");
    app.add_flag("--allow-pci", cfg->allow_pci,
                 "Let EAL probe PCI devices beyond those named in --port (off: --no-pci)");
    app.add_option("--mbufs", cfg->mbufs, "Packet buffers in the pool");
    app.add_option("--log-level", cfg->log_level, "DPDK log level (emerg..debug)");
    app.add_option("--store", cfg->store_path,
                   "Chunk store file or block device (persistent disk tier); empty: RAM only");
    app.add_option("--ram-mb", cfg->ram_mb, "RAM tier of the chunk store, MiB of hugepage memory");
    app.add_option("--disk-mb", cfg->disk_mb, "Size of the store file when it is created, MiB");
    app.add_option("--max-objects", cfg->max_objects, "Objects the store can index");
    app.add_option("--http-port", cfg->http_port, "TCP port of the HTTP server (0: off)");
    app.add_option("--http-header-timeout-ms", cfg->http_header_timeout_ms,
                   "A request head must arrive within this time after its first byte (else 408)");
    app.add_option("--http-idle-timeout-ms", cfg->http_idle_timeout_ms,
                   "Idle keep-alive connections close after this");
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
        "TCP discard service (RFC 863) that hashes what it receives (edgectl sink); 0: off");
    app.add_option("--tcp-syn-backlog", cfg->tcp_syn_backlog,
                   "Half-open connections per listener before SYN cookies (RFC 4987)");
    app.add_option("--cache-policy", cfg->cache_policy,
                   "Eviction/admission policy of the RAM tier (lru, fifo, sieve, s3fifo, "
                   "tinylfu+..., default)");
    app.add_option("--cache-high-pct", cfg->cache_high_pct,
                   "Evict when the RAM tier is this full (%)")
        ->check(CLI::Range(1, 100));
    app.add_option("--cache-low-pct", cfg->cache_low_pct, "... down to this (%)")
        ->check(CLI::Range(0, 100));
    app.add_option("--access-ring-size", cfg->access_ring_size,
                   "Access records buffered per data lcore for the cache policy (power of two)");
    app.add_option("--http-max-conns", cfg->http_max_conns, "HTTP sessions per data lcore");
    app.add_option("--tcp-max-conns", cfg->tcp_max_conns, "TCP connections per data lcore");
    app.add_option("--tcp-rcvbuf-kb", cfg->tcp_rcvbuf_kb,
                   "Receive buffer per connection, KiB (power of two)");
    app.add_option("--tcp-cc", cfg->tcp_cc, "Congestion control: cubic or newreno")
        ->check(CLI::IsMember({"cubic", "newreno"}));
    app.add_option("--tcp-rto-min-ms", cfg->tcp_rto_min_ms,
                   "Minimum retransmission timeout (RFC 6298 2.4)");
    app.add_option("--tcp-tick-us", cfg->tcp_tick_us,
                   "TCP timer granularity; the tail-loss probe floor is 2 ticks (RFC 8985)")
        ->check(CLI::Range(10, 10000));
    app.footer("Arguments after a lone -- are passed to DPDK's EAL.");
    try {
        app.parse(ours, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    }

    auto fail = [](const std::string &msg) {
        std::fprintf(stderr, "edgeplane: %s\n", msg.c_str());
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

    if (cfg->cache_low_pct > cfg->cache_high_pct)
        return fail("--cache-low-pct is above --cache-high-pct");
    if (cfg->access_ring_size < 16 || (cfg->access_ring_size & (cfg->access_ring_size - 1)))
        return fail("--access-ring-size must be a power of two >= 16");
    if (!cfg->fault.empty()) {
        FaultSpec spec;
        std::string err;
        if (!parse_fault_spec(cfg->fault, &spec, &err)) return fail(err);
    }
    cfg->port_options.clear();
    for (std::size_t i = 0; i < cfg->ports.size(); ++i) {
        PortOptions p;
        p.device = ethdev_name(cfg->ports[i]);
        if (!parse_ipv4_prefix(cfg->ips[i], &p.ip, &p.netmask))
            return fail("bad --ip '" + cfg->ips[i] + "': expected A.B.C.D/LEN");
        if (i < cfg->gateways.size() && !cfg->gateways[i].empty() &&
            !parse_ipv4(cfg->gateways[i], &p.gateway))
            return fail("bad --gateway '" + cfg->gateways[i] + "'");
        cfg->port_options.push_back(p);
    }
    return -1;
}

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
    a.insert(a.end(), {"--lcores", lcores.str(), "--main-lcore", std::to_string(cfg.control_lcore),
                       "--file-prefix", cfg.file_prefix, "--log-level", cfg.log_level});
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
