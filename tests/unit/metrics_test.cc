// /metrics: names, help, labels and grouping of the text exposition format,
// the scrape endpoint over a real loopback socket, and --check-config.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "control/config.h"
#include "control/metrics.h"
#include "control/metrics_server.h"

namespace ep {
namespace {

TEST(Metrics, NamesAreSanitisedAndCountersEndInTotal) {
    Metric m{"http", "parse_error.bad_method", "h", 1};
    EXPECT_EQ(prometheus_name(m), "edgeplane_http_parse_error_total");
    EXPECT_EQ(prometheus_text({m}),
              "# HELP edgeplane_http_parse_error_total h\n# TYPE edgeplane_http_parse_error_total "
              "counter\nedgeplane_http_parse_error_total{reason=\"bad_method\"} 1\n");
    Metric s{"http", "status-200", "h", 1};
    EXPECT_EQ(prometheus_name(s), "edgeplane_http_status_200_total");
    m.gauge = true;
    m.name = "pinned_bytes";
    EXPECT_EQ(prometheus_name(m), "edgeplane_http_pinned_bytes");
    Metric t{"x", "already_total", "h", 1};
    EXPECT_EQ(prometheus_name(t), "edgeplane_x_already_total");
}

TEST(Metrics, FamiliesAreGroupedWithOneHelpAndType) {
    std::vector<Metric> v;
    for (int lcore : {1, 2}) {
        Metric a{"tcp", "rx_segments", "segments\nin \\ here", 10u + lcore};
        a.lcore = lcore;
        a.port = "net_tap0";
        Metric b{"tcp", "connections_open", "", 3};
        b.gauge = true;
        b.lcore = lcore;
        b.port = "net\"q";
        v.push_back(a);
        v.push_back(b);
    }
    Metric r{"cache", "hit_ratio", "ratio"};
    r.gauge = r.is_real = true;
    r.real = 0.25;
    v.push_back(r);
    const std::string text = prometheus_text(v);
    EXPECT_EQ(text,
              "# HELP edgeplane_tcp_rx_segments_total segments\\nin \\\\ here\n"
              "# TYPE edgeplane_tcp_rx_segments_total counter\n"
              "edgeplane_tcp_rx_segments_total{lcore=\"1\",port=\"net_tap0\"} 11\n"
              "edgeplane_tcp_rx_segments_total{lcore=\"2\",port=\"net_tap0\"} 12\n"
              "# HELP edgeplane_tcp_connections_open connections_open\n"
              "# TYPE edgeplane_tcp_connections_open gauge\n"
              "edgeplane_tcp_connections_open{lcore=\"1\",port=\"net\\\"q\"} 3\n"
              "edgeplane_tcp_connections_open{lcore=\"2\",port=\"net\\\"q\"} 3\n"
              "# HELP edgeplane_cache_hit_ratio ratio\n"
              "# TYPE edgeplane_cache_hit_ratio gauge\n"
              "edgeplane_cache_hit_ratio 0.25\n");
}

TEST(Metrics, LcoreCountersCarryEveryCounterAndDropWithHelp) {
    LcoreCounters c;
    c.rx_packets = 7;
    c.drop(Drop::ipv4_bad_checksum);
    c.drop(Drop::ipv4_bad_checksum);
    std::vector<Metric> v;
    append_lcore_metrics(c, 3, &v);
    std::size_t drops = 0;
    bool rx = false, bad = false;
    for (const Metric &m : v) {
        EXPECT_EQ(m.lcore, 3);
        EXPECT_FALSE(m.help.empty()) << m.name;
        drops += m.name.starts_with("drops.");
        if (m.name == "rx_packets") rx = m.value == 7;
        if (m.name == "drops.ipv4_bad_checksum") bad = m.value == 2;
    }
    EXPECT_EQ(drops, kDropReasons - 1);
    EXPECT_TRUE(rx);
    EXPECT_TRUE(bad);
}

std::string http_get(uint16_t port, const std::string &request) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) return "connect failed";
    send(fd, request.data(), request.size(), 0);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    close(fd);
    return out;
}

TEST(MetricsServer, ServesMetricsAndRefusesTheRest) {
    MetricsServer srv;
    std::string err;
    ASSERT_TRUE(srv.open(
        "127.0.0.1:0", [] { return std::string("edgeplane_up 1\n"); }, &err))
        << err;
    ASSERT_NE(srv.port(), 0);
    std::atomic<bool> done{false};
    std::thread loop([&] {
        while (!done) srv.poll(5);
    });
    const std::string ok = http_get(srv.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
    EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
    EXPECT_NE(ok.find("Content-Length: 15\r\n"), std::string::npos) << ok;
    EXPECT_TRUE(ok.ends_with("\r\n\r\nedgeplane_up 1\n")) << ok;
    EXPECT_EQ(http_get(srv.port(), "GET /other HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
    EXPECT_EQ(http_get(srv.port(), "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
    const std::string head = http_get(srv.port(), "HEAD /metrics HTTP/1.0\r\n\r\n");
    EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
    done = true;
    loop.join();
    EXPECT_EQ(srv.counters().scrapes, 2u);
    EXPECT_EQ(srv.counters().bad_requests, 2u);
}

TEST(MetricsServer, ListenAddressIsChecked) {
    uint32_t ip;
    uint16_t port;
    EXPECT_TRUE(parse_listen_address("127.0.0.1:9100", &ip, &port));
    EXPECT_EQ(ntohs(port), 9100);
    for (const char *bad : {"127.0.0.1", ":9100", "127.0.0.1:", "localhost:9100", "1.2.3.4:70000"})
        EXPECT_FALSE(parse_listen_address(bad, &ip, &port)) << bad;
}

int check(const std::string &toml, std::string *err) {
    char path[] = "/tmp/edgeplane-check-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_EQ(write(fd, toml.data(), toml.size()), static_cast<ssize_t>(toml.size()));
    close(fd);
    std::vector<std::string> args{"edgeplane", "--check-config", path};
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    Config cfg;
    testing::internal::CaptureStderr();
    int rc = parse_config(static_cast<int>(argv.size()), argv.data(), &cfg);
    *err = testing::internal::GetCapturedStderr();
    unlink(path);
    if (rc == -1 && cfg.check_config != path) rc = 99;
    return rc;
}

TEST(CheckConfig, GoodFileContinuesBadFileIsExitTwoWithTheReason) {
    const std::string base = "port = [\"net_null0\"]\nip = [\"10.0.0.1/24\"]\n";
    std::string err;
    EXPECT_EQ(check(base + "metrics-listen = \"127.0.0.1:9100\"\n", &err), -1) << err;
    EXPECT_EQ(check(base + "http_port = 8080\n", &err), 2);
    EXPECT_NE(err.find(":3: unknown key 'http_port'"), std::string::npos) << err;
    EXPECT_EQ(check(base + "metrics-listen = \"127.0.0.1\"\n", &err), 2);
    EXPECT_NE(err.find("A.B.C.D:PORT"), std::string::npos) << err;
    EXPECT_EQ(check("ip = [\"10.0.0.1/24\"]\n", &err), 2);  // no port
    EXPECT_NE(err.find("--port"), std::string::npos) << err;
    EXPECT_EQ(check(base + "check-config = \"x\"\n", &err), 2);  // a flag, not a key
    EXPECT_EQ(check(base + "tcp-rcvbuf-kb = 100\n", &err), 2);  // CLI11's own exit code is not 2
    EXPECT_NE(err.find("power of two"), std::string::npos) << err;
}

}  // namespace
}  // namespace ep
