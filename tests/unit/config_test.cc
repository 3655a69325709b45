// Daemon flags and the EAL arguments derived from them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <unistd.h>

#include <algorithm>

#include "control/config.h"

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
