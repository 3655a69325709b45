// Daemon flags and the EAL arguments derived from them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <unistd.h>

#include <algorithm>

#include "control/config.h"
#include "control/swarm_choker_config.h"

namespace ep {
namespace {

int parse(std::vector<std::string> args, Config *cfg) {
    args.insert(args.begin(), "edgeplane");
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    return parse_config(static_cast<int>(argv.size()), argv.data(), cfg);
}

bool has(const std::vector<std::string> &v, const std::string &s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Config, Ipv4Prefix) {
    uint32_t ip, mask;
    ASSERT_TRUE(parse_ipv4_prefix("10.77.0.2/24", &ip, &mask));
    EXPECT_EQ(ip, inet_addr("10.77.0.2"));
    EXPECT_EQ(mask, inet_addr("255.255.255.0"));
    EXPECT_TRUE(parse_ipv4_prefix("1.2.3.4/32", &ip, &mask));
    EXPECT_EQ(mask, 0xffffffffu);
    for (const char *bad :
         {"10.77.0.2", "10.77.0.2/", "10.77.0.2/33", "10.77.0/24", "x/24", "1.2.3.4/0"})
        EXPECT_FALSE(parse_ipv4_prefix(bad, &ip, &mask)) << bad;
}

TEST(Config, DeviceNames) {
    EXPECT_TRUE(is_pci_address("0000:03:00.0"));
    EXPECT_TRUE(is_pci_address("03:00.1"));
    EXPECT_FALSE(is_pci_address("net_tap0,iface=edge0"));
    EXPECT_EQ(ethdev_name("net_tap0,iface=edge0"), "net_tap0");
    EXPECT_EQ(ethdev_name("03:00.0"), "0000:03:00.0");
}

TEST(Config, VdevRunNeverProbesPci) {
    Config cfg;
    ASSERT_EQ(parse({"--port", "net_tap0,iface=edge0", "--ip", "10.77.0.2/24", "--data-lcores", "1",
                     "--file-prefix", "x", "--", "--log-level=debug"},
                    &cfg),
              -1);
    auto eal = eal_arguments(cfg);
    EXPECT_TRUE(has(eal, "--no-pci"));
    EXPECT_TRUE(has(eal, "net_tap0,iface=edge0"));
    EXPECT_TRUE(has(eal, "--log-level=debug"));  // passed through after --
    EXPECT_TRUE(has(eal, "--lcores"));
    ASSERT_EQ(cfg.port_options.size(), 1u);
    EXPECT_EQ(cfg.port_options[0].device, "net_tap0");
}

// Lcore N runs on CPU N; an lcore with no CPU of that number shares one.
TEST(Config, LcoresBeyondTheCpusShareOne) {
    cpu_set_t allowed;
    ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    std::vector<unsigned> cpus;
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
    if (CPU_ISSET(100, &allowed)) GTEST_SKIP() << "this machine has a CPU 100";
    Config cfg;
    ASSERT_EQ(parse({"--port", "net_null0", "--ip", "10.0.0.1/24", "--control-lcore",
                     std::to_string(cpus[0]), "--data-lcores", "100"},
                    &cfg),
              -1);
    const std::string want = std::to_string(cpus[0]) + "@" + std::to_string(cpus[0]) + ",100@" +
                             std::to_string(cpus[100 % cpus.size()]);
    EXPECT_TRUE(has(eal_arguments(cfg), want)) << want;
}

TEST(Config, PciPortIsAllowListed) {
    Config cfg;
    ASSERT_EQ(
        parse({"--port", "0000:03:00.0", "--ip", "192.0.2.10/24", "--gateway", "192.0.2.1"}, &cfg),
        -1);
    auto eal = eal_arguments(cfg);
    EXPECT_FALSE(has(eal, "--no-pci"));
    EXPECT_TRUE(has(eal, "-a"));
    EXPECT_EQ(cfg.port_options[0].gateway, inet_addr("192.0.2.1"));
}

TEST(Config, RejectsInconsistentSettings) {
    Config a, b, c, d;
    EXPECT_GT(parse({"--port", "net_null0", "--ip", "10.0.0.1/24", "--ip", "10.0.1.1/24"}, &a), 0);
    EXPECT_GT(parse({"--port", "net_null0", "--ip", "10.0.0.1"}, &b), 0);
    EXPECT_GT(parse({"--port", "net_null0", "--ip", "10.0.0.1/24", "--data-lcores", "0"}, &c), 0);
    EXPECT_GT(parse({"--ip", "10.0.0.1/24"}, &d), 0);  // no port
}

}  // namespace
}  // namespace ep

namespace ep {
namespace {

TEST(Config, TomlFileGivesTheSameSettingsAsFlags) {
    char path[] = "/tmp/edgeplane-config-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string toml =
        "port = [\"net_tap0,iface=edge0\"]\n"
        "ip = [\"10.77.0.2/24\"]\n"
        "gateway = [\"10.77.0.1\"]\n"
        "data-lcores = [1]\n"
        "http-port = 8080\n"
        "cache-policy = \"sieve\"\n";
    ASSERT_EQ(write(fd, toml.data(), toml.size()), static_cast<ssize_t>(toml.size()));
    close(fd);
    Config cfg;
    std::vector<std::string> args{"edgeplane", "--config", path, "--tcp-cc", "newreno"};
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    ASSERT_EQ(parse_config(static_cast<int>(argv.size()), argv.data(), &cfg), -1);
    unlink(path);
    EXPECT_EQ(cfg.http_port, 8080u);
    EXPECT_EQ(cfg.cache_policy, "sieve");
    EXPECT_EQ(cfg.tcp_cc, "newreno");  // flags and the file combine
    ASSERT_EQ(cfg.port_options.size(), 1u);
    EXPECT_EQ(cfg.port_options[0].gateway, inet_addr("10.77.0.1"));
}

TEST(Config, FaultSpecIsValidated) {
    Config ok, bad;
    auto parse2 = [](std::vector<std::string> args, Config *cfg) {
        args.insert(args.begin(), "edgeplane");
        std::vector<char *> argv;
        for (auto &a : args) argv.push_back(a.data());
        return parse_config(static_cast<int>(argv.size()), argv.data(), cfg);
    };
    EXPECT_EQ(parse2({"--port", "net_null0", "--ip", "10.0.0.1/24", "--fault",
                      "drop=0.01,reorder=0.02,reorder-us=300,seed=7,dir=rx"},
                     &ok),
              -1);
    EXPECT_GT(parse2({"--port", "net_null0", "--ip", "10.0.0.1/24", "--fault", "drop=2"}, &bad), 0);
}

}  // namespace
}  // namespace ep

// The operator's first hour: mistakes in the file or flags are named where
// they are, before EAL starts.
namespace ep {
namespace {

struct Parsed {
    int rc;
    std::string err, out;
    Config cfg;
};

// Writes toml to a temporary file (when not empty) and parses it with args.
Parsed parse_with(const std::string &toml, std::vector<std::string> args,
                  std::string *path_out = nullptr) {
    char path[] = "/tmp/edgeplane-config-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, toml.data(), toml.size()), static_cast<ssize_t>(toml.size()));
    close(fd);
    if (path_out) *path_out = path;
    if (!toml.empty()) args.insert(args.begin(), {"--config", path});
    args.insert(args.begin(), "edgeplane");
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    Parsed p;
    testing::internal::CaptureStderr();
    testing::internal::CaptureStdout();
    p.rc = parse_config(static_cast<int>(argv.size()), argv.data(), &p.cfg);
    p.out = testing::internal::GetCapturedStdout();
    p.err = testing::internal::GetCapturedStderr();
    unlink(path);
    return p;
}

const std::string kBase = "port = [\"net_null0\"]\nip = [\"10.0.0.1/24\"]\n";

TEST(ConfigFile, UnknownKeyNamesFileLineAndSuggestion) {
    std::string path;
    Parsed p = parse_with(kBase + "http_port = 8080\n", {}, &path);
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find(path + ":3: unknown key 'http_port' (did you mean 'http-port'?)"),
              std::string::npos)
        << p.err;
    p = parse_with(kBase + "cache-polcy = \"lru\"\n", {});
    EXPECT_NE(p.err.find("did you mean 'cache-policy'?"), std::string::npos) << p.err;
}

TEST(ConfigFile, UnknownSectionIsRejected) {
    std::string path;
    Parsed p = parse_with(kBase + "[http]\nport = 8080\n", {}, &path);
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find(path + ":3: unknown section [http]"), std::string::npos) << p.err;
}

TEST(ConfigFile, DuplicateKeyIsRejected) {
    Parsed p = parse_with(kBase + "http-port = 8080\nhttp-port = 8081\n", {});
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find(":4: duplicate key 'http-port' (first set on line 3)"), std::string::npos)
        << p.err;
}

TEST(ConfigFile, SyntaxErrorsReportTheirLine) {
    // An unclosed array used to swallow the rest of the file: "--ip is required".
    Parsed p = parse_with("port = [\"net_null0\"\nip = [\"10.0.0.1/24\"]\n", {});
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find(":1: array of 'port' is not closed"), std::string::npos) << p.err;
    EXPECT_EQ(p.err.find("--ip is required"), std::string::npos) << p.err;

    p = parse_with(kBase + "http-port 8080\n", {});
    EXPECT_NE(p.err.find(":3: expected key = value, got 'http-port 8080'"), std::string::npos)
        << p.err;
    p = parse_with(kBase + "cache-policy = \"lru\n", {});
    EXPECT_NE(p.err.find(":3: unterminated string"), std::string::npos) << p.err;
    p = parse_with(kBase + "cache-policy = lru\n", {});
    EXPECT_NE(p.err.find(":3: "), std::string::npos) << p.err;
    EXPECT_NE(p.err.find("quotes"), std::string::npos) << p.err;
}

TEST(ConfigFile, ArraysMaySpanLinesWithComments) {
    Parsed p = parse_with(
        "# edge\nport = [\n  \"net_null0\",  # first\n  \"net_null1\",\n]\n"
        "ip = [\"10.0.0.1/24\", \"10.0.1.1/24\"]  # one per port\n"
        "data-lcores = [1]\nno-huge = true\nhttp-port = 8_080\n",
        {});
    ASSERT_EQ(p.rc, -1) << p.err;
    EXPECT_EQ(p.cfg.ports, (std::vector<std::string>{"net_null0", "net_null1"}));
    EXPECT_TRUE(p.cfg.no_huge);
    EXPECT_EQ(p.cfg.http_port, 8080u);
}

TEST(ConfigFile, FlagsOverrideTheFile) {
    Parsed p =
        parse_with(kBase + "http-port = 8080\n", {"--http-port", "9090", "--ip", "10.9.9.9/24"});
    ASSERT_EQ(p.rc, -1) << p.err;
    EXPECT_EQ(p.cfg.http_port, 9090u);
    EXPECT_EQ(p.cfg.ips, std::vector<std::string>{"10.9.9.9/24"});
}

TEST(ConfigRanges, NumbersAreCheckedBeforeEal) {
    // Used to wrap to 4464 silently.
    Parsed p = parse_with(kBase + "http-port = 70000\n", {});
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find("--http-port"), std::string::npos) << p.err;
    EXPECT_NE(p.err.find("65535"), std::string::npos) << p.err;
    EXPECT_NE(p.err.find(":3"), std::string::npos) << p.err;  // where the value came from

    const std::vector<std::string> net{"--port", "net_null0", "--ip", "10.0.0.1/24"};
    auto flags = [&](std::vector<std::string> extra) {
        extra.insert(extra.begin(), net.begin(), net.end());
        return parse_with("", extra);
    };
    p = flags({"--http-port", "70000"});
    EXPECT_GT(p.rc, 0);
    // Both used to end in "out of memory" after EAL was up.
    p = flags({"--tcp-rcvbuf-kb", "96"});
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find("power of two"), std::string::npos) << p.err;
    p = flags({"--tcp-max-conns", "0"});
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find("--tcp-max-conns"), std::string::npos) << p.err;
    EXPECT_EQ(p.err.find("memory"), std::string::npos) << p.err;
    p = flags({"--access-ring-size", "1000"});
    EXPECT_NE(p.err.find("power of two"), std::string::npos) << p.err;
    p = flags({"--http-port", "-1"});
    EXPECT_GT(p.rc, 0);
    for (const char *opt : {"--mbufs", "--ram-mb", "--max-objects", "--http-max-conns",
                            "--tcp-syn-backlog", "--http-idle-timeout-ms"}) {
        p = flags({opt, "0"});
        EXPECT_GT(p.rc, 0) << opt;
    }
    p = flags({"--data-lcores", "1,200"});
    EXPECT_GT(p.rc, 0);
    EXPECT_EQ(flags({"--http-port", "0", "--tcp-rcvbuf-kb", "128"}).rc, -1);
}

TEST(ConfigRanges, CachePolicyIsCheckedAndTheErrorListsTheNames) {
    const std::vector<std::string> net{"--port", "net_null0", "--ip", "10.0.0.1/24"};
    std::vector<std::string> a = net;
    a.insert(a.end(), {"--cache-policy", "lfu"});
    Parsed p = parse_with("", a);
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find("lfu"), std::string::npos) << p.err;
    for (const char *name : {"lru", "sieve", "s3fifo", "tinylfu+lru", "default"})
        EXPECT_NE(p.err.find(name), std::string::npos) << name << ": " << p.err;
    a = net;
    a.insert(a.end(), {"--cache-policy", "tinylfu+sieve"});
    EXPECT_EQ(parse_with("", a).rc, -1);
}

TEST(ConfigRanges, RamTierMustFitTheMemoryThereIs) {
    Config cfg;
    cfg.ram_mb = 4096;
    std::string err = memory_error(cfg, 1024);  // 1024 free 2 MiB pages
    EXPECT_NE(err.find("4096"), std::string::npos) << err;
    EXPECT_NE(err.find("2048 MiB"), std::string::npos) << err;
    cfg.ram_mb = 256;
    EXPECT_EQ(memory_error(cfg, 1024), "");
    cfg.no_huge = true;
    cfg.memory_mb = 200;  // --no-huge: the RAM tier comes out of --memory
    err = memory_error(cfg, 1024);
    EXPECT_NE(err.find("--memory"), std::string::npos) << err;
    EXPECT_NE(err.find("200 MiB"), std::string::npos) << err;
    cfg.no_huge = false;
    EXPECT_NE(memory_error(cfg, 0), "");  // no hugepages free: --no-huge with --memory 200
}

TEST(ConfigCli, VersionAndHelpWithDefaults) {
    Parsed p = parse_with("", {"--version"});
    EXPECT_EQ(p.rc, 0);
    EXPECT_NE(p.out.find(EP_VERSION), std::string::npos) << p.out;
    p = parse_with("", {"--help"});
    EXPECT_EQ(p.rc, 0);
    EXPECT_NE(p.out.find("16383"), std::string::npos) << p.out;  // --mbufs default
    EXPECT_NE(p.out.find("/run/edgeplane/edgeplane.sock"), std::string::npos) << p.out;
    EXPECT_NE(p.out.find("override"), std::string::npos) << p.out;
}

}  // namespace
}  // namespace ep

namespace ep {
namespace {

TEST(Config, TrackerAndTorrentKeys) {
    Config def, set, clash, notpow2;
    ASSERT_EQ(parse({"--port", "net_null0", "--ip", "10.0.0.1/24"}, &def), -1);
    EXPECT_EQ(def.tracker_port, 6969u);  // on by default
    EXPECT_TRUE(def.torrents);
    EXPECT_FALSE(def.tracker_open);
    ASSERT_EQ(parse({"--port", "net_null0", "--ip", "10.0.0.1/24", "--tracker-port", "0",
                     "--torrents", "false", "--tracker-open", "true", "--tracker-swarms", "1024"},
                    &set),
              -1);
    EXPECT_EQ(set.tracker_port, 0u);
    EXPECT_FALSE(set.torrents);
    EXPECT_TRUE(set.tracker_open);
    EXPECT_EQ(set.tracker_swarms, 1024u);
    EXPECT_GT(parse({"--port", "net_null0", "--ip", "10.0.0.1/24", "--udp-echo-port", "6969"}, &clash), 0);
    EXPECT_GT(parse({"--port", "net_null0", "--ip", "10.0.0.1/24", "--tracker-swarms", "1000"}, &notpow2),
              0);
}

// The seeding choker's keys (docs/swarm.md "Choking"), from the file and
// from flags, their checks, and what the peer wire's choker gets from them.
TEST(ConfigSwarm, SeedChokerKeysReachTheChoker) {
    Parsed def = parse_with(kBase, {});
    ASSERT_EQ(def.rc, -1) << def.err;
    EXPECT_EQ(def.cfg.swarm_seed_choker, "round-robin");
    EXPECT_EQ(def.cfg.swarm_upload_mbps, 0u);
    swarm::ChokerConfig c = seed_choker_config(def.cfg, 1);
    EXPECT_EQ(c.mode, swarm::ChokeMode::kSeedRoundRobin);
    EXPECT_EQ(c.regular_slots(), 4u);  // no capacity: the fixed count
    EXPECT_EQ(c.round_ns, 10'000'000'000ull);
    EXPECT_EQ(c.optimistic_rounds, 3u);

    Parsed p = parse_with(kBase +
                              "swarm-seed-choker = \"fastest\"\nswarm-unchoke-slots = 2\n"
                              "swarm-rechoke-s = 5\nswarm-optimistic-s = 20\n",
                          {});
    ASSERT_EQ(p.rc, -1) << p.err;
    c = seed_choker_config(p.cfg, 1);
    EXPECT_EQ(c.mode, swarm::ChokeMode::kSeedFastest);
    EXPECT_EQ(c.regular_slots(), 2u);
    EXPECT_EQ(c.round_ns, 5'000'000'000ull);
    EXPECT_EQ(c.optimistic_rounds, 4u);

    // 100 Mbit/s at 10 Mbit/s a slot: 10 slots, 9 regular + the optimistic
    // one; the capacity wins over the fixed count. Two queues: 5 each.
    p = parse_with(kBase + "swarm-unchoke-slots = 2\n",
                   {"--swarm-upload-mbps", "100", "--swarm-slot-kbps", "10000"});
    ASSERT_EQ(p.rc, -1) << p.err;
    EXPECT_EQ(p.cfg.swarm_upload_mbps, 100u);
    EXPECT_EQ(p.cfg.swarm_slot_kbps, 10000u);
    c = seed_choker_config(p.cfg, 1);
    EXPECT_EQ(c.upload_bps, 100'000'000u);
    EXPECT_EQ(c.slot_bps, 10'000'000u);
    EXPECT_EQ(c.regular_slots(), 9u);
    EXPECT_EQ(seed_choker_config(p.cfg, 2).regular_slots(), 4u);
    // The default slot rate (10 Mbit/s).
    p = parse_with(kBase, {"--swarm-upload-mbps", "40"});
    ASSERT_EQ(p.rc, -1) << p.err;
    EXPECT_EQ(seed_choker_config(p.cfg, 1).regular_slots(), 3u);

    p = parse_with(kBase + "swarm-seed-choker = \"fastest-first\"\n", {});
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find("--swarm-seed-choker"), std::string::npos) << p.err;
    // Less than one slot per queue is refused, naming both keys.
    p = parse_with(kBase, {"--swarm-upload-mbps", "5", "--swarm-slot-kbps", "10000"});
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find("--swarm-upload-mbps 5 holds less than one --swarm-slot-kbps 10000"),
              std::string::npos)
        << p.err;
    p = parse_with(kBase, {"--swarm-upload-mbps", "10", "--data-lcores", "1,2"});
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find("per peer-wire queue (2"), std::string::npos) << p.err;
    p = parse_with(kBase, {"--swarm-slot-kbps", "0"});
    EXPECT_GT(p.rc, 0);
}

TEST(ConfigDns, KeysInTheTomlFileAndTheirChecks) {
    const std::string zone = std::string(EP_SOURCE_ROOT) + "/docs/examples/dns/kingcdn.test.zone";
    Parsed p = parse_with(kBase + "dns-port = 53\ndns-zone = [\"" + zone + "\", \"" + zone +
                              "\"]\ndns-steer = [\"video.kingcdn.test 198.51.100.0/24 10.0.0.3\"]\n"
                              "dns-max-udp = 1400\ndns-tcp-conns = 16\nhttp-port = 0\n",
                          {});
    ASSERT_EQ(p.rc, -1) << p.err;
    EXPECT_EQ(p.cfg.dns_port, 53u);
    EXPECT_EQ(p.cfg.dns_zones, (std::vector<std::string>{zone, zone}));
    EXPECT_EQ(p.cfg.dns_steer.size(), 1u);
    EXPECT_EQ(p.cfg.dns_max_udp, 1400u);
    EXPECT_EQ(p.cfg.dns_tcp_conns, 16u);
    p = parse_with(kBase + "dns-port = 53\n", {});
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find("--dns-port needs at least one --dns-zone FILE"), std::string::npos)
        << p.err;
    p = parse_with(kBase + "dns-port = 80\ndns-zone = [\"" + zone + "\"]\n", {});  // HTTP's port
    EXPECT_GT(p.rc, 0);
    EXPECT_NE(p.err.find("is also a TCP service's port"), std::string::npos) << p.err;
    p = parse_with(kBase + "dns-max-udp = 100\n", {});
    EXPECT_GT(p.rc, 0);
    p = parse_with(kBase + "dns-zone = [\"/nonexistent.zone\"]\n", {});
    EXPECT_GT(p.rc, 0);
}

}  // namespace
}  // namespace ep

namespace ep {
namespace {

// Pull on miss: --origin routes in flags and in the config file, refused
// when malformed (the message names the route and why).
TEST(ConfigOrigin, FlagsAndFileKeys) {
    Parsed p = parse_with(kBase + "origin = [\"/vod=10.0.0.2:8080,10.0.0.3\", \"/live=10.0.0.4\"]\n"
                                  "origin-timeout-ms = 1500\norigin-readahead = 3\n",
                          {});
    ASSERT_EQ(p.rc, -1) << p.err;
    ASSERT_EQ(p.cfg.origins.size(), 2u);
    EXPECT_EQ(p.cfg.origins[0], "/vod=10.0.0.2:8080,10.0.0.3");
    EXPECT_EQ(p.cfg.origin_timeout_ms, 1500u);
    EXPECT_EQ(p.cfg.origin_readahead, 3u);
    p = parse_with("", {"--port", "net_null0", "--ip", "10.0.0.1/24", "--origin", "/=10.0.0.9:81",
                        "--origin-fetches", "4"});
    ASSERT_EQ(p.rc, -1) << p.err;
    EXPECT_EQ(p.cfg.origins, std::vector<std::string>{"/=10.0.0.9:81"});
    EXPECT_EQ(p.cfg.origin_fetches, 4u);
}

TEST(ConfigOrigin, PurgeNetworksNegativeTtlKeepalive) {
    const std::vector<std::string> base = {"--port", "net_null0", "--ip", "10.0.0.1/24"};
    auto with = [&](std::vector<std::string> more) {
        std::vector<std::string> a = base;
        a.insert(a.end(), more.begin(), more.end());
        return a;
    };
    Parsed p = parse_with("", with({"--origin", "/=10.0.0.2", "--purge-allow", "10.1.0.0/16",
                                    "--origin-negative-ttl-s", "30", "--origin-keepalive", "0"}));
    ASSERT_EQ(p.rc, -1) << p.err;
    EXPECT_EQ(p.cfg.purge_allow, std::vector<std::string>{"10.1.0.0/16"});
    EXPECT_EQ(p.cfg.origin_negative_ttl_s, 30u);
    EXPECT_EQ(p.cfg.origin_keepalive, 0u);
    p = parse_with("", with({"--origin", "/=10.0.0.2", "--purge-allow", "10.1.0.0"}));
    EXPECT_EQ(p.rc, 2);
    EXPECT_NE(p.err.find("--purge-allow '10.1.0.0'"), std::string::npos) << p.err;
    p = parse_with("", with({"--purge-allow", "10.1.0.0/16"}));
    EXPECT_EQ(p.rc, 2);
    EXPECT_NE(p.err.find("needs --origin"), std::string::npos) << p.err;
}

TEST(ConfigOrigin, MalformedRoutesAreRefused) {
    for (const char *bad : {"vod=10.0.0.2", "/vod", "/vod=origin_x.example", "/vod=10.0.0.2:0"}) {
        Parsed p = parse_with("", {"--port", "net_null0", "--ip", "10.0.0.1/24", "--origin", bad});
        EXPECT_EQ(p.rc, 2) << bad;
        EXPECT_NE(p.err.find(std::string("--origin '") + bad + "'"), std::string::npos) << p.err;
    }
    Parsed p = parse_with("", {"--port", "net_null0", "--ip", "10.0.0.1/24", "--http-port", "0",
                               "--origin", "/=10.0.0.2"});
    EXPECT_EQ(p.rc, 2);
    EXPECT_NE(p.err.find("needs the HTTP service"), std::string::npos) << p.err;
    // Several data lcores: each connects from its own ephemeral slice and
    // the steering stage hands answers over (tcp/port_steer.h).
    p = parse_with("", {"--port", "net_null0", "--ip", "10.0.0.1/24", "--data-lcores", "1,2",
                        "--origin", "/=10.0.0.2"});
    EXPECT_EQ(p.rc, -1) << p.err;
}

// Issue 14: servers by name, and the health check keys.
TEST(ConfigOrigin, NamesAndHealthKeys) {
    Parsed p =
        parse_with("", {"--port", "net_null0", "--ip", "10.0.0.1/24", "--origin",
                        "/vod/=origin.example:8080,10.0.0.5:80", "--origin-health-interval-ms",
                        "2000", "--origin-health-path", "/health", "--origin-health-rise", "2",
                        "--origin-health-fall", "3", "--origin-resolve-s", "10"});
    EXPECT_EQ(p.rc, -1) << p.err;
    EXPECT_EQ(p.cfg.origin_health_interval_ms, 2000u);
    EXPECT_EQ(p.cfg.origin_health_path, "/health");
    EXPECT_EQ(p.cfg.origin_resolve_s, 10u);
    p = parse_with("", {"--port", "net_null0", "--ip", "10.0.0.1/24", "--origin", "/=10.0.0.2",
                        "--origin-health-path", "health"});
    EXPECT_EQ(p.rc, 2);
    EXPECT_NE(p.err.find("--origin-health-path"), std::string::npos) << p.err;
}

}  // namespace
}  // namespace ep

namespace ep {
namespace {

// Active probes' TCP ports are checked with the rest, so --check-config
// rejects them too (docs/cluster_selection.md "Active probes").
TEST(ConfigProbes, PortListsAreChecked) {
    const std::vector<std::string> net{"--port", "net_null0", "--ip", "10.0.0.1/24"};
    auto flags = [&](std::vector<std::string> extra) {
        extra.insert(extra.begin(), net.begin(), net.end());
        return parse_with("", extra);
    };
    EXPECT_EQ(flags({"--probe-ldns-ports", "53", "--probe-client-ports", "80,443,8080"}).rc, -1);
    for (const char *bad : {"", "0", "80,", "http", "70000", "80;443"}) {
        const Parsed p = flags({"--probe-client-ports", bad});
        EXPECT_GT(p.rc, 0) << bad;
        EXPECT_NE(p.err.find("--probe-client-ports"), std::string::npos) << p.err;
    }
    EXPECT_GT(flags({"--probe-ldns-ports", "53,x"}).rc, 0);
    EXPECT_GT(flags({"--probes", "maybe"}).rc, 0);
}

}  // namespace
}  // namespace ep
