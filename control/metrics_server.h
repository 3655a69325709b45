// The /metrics endpoint: a kernel TCP socket on a management address, served
// by the control thread between its other duties (--metrics-listen). It is
// built like the admin socket (control/admin_socket.h) so no scraper can
// stall that thread: every socket is non-blocking and served from one
// poll(), at most kMaxClients at once (more are closed at once), a request
// head must arrive within kRequestTimeoutMs and fit kMaxRequest, and a client
// that stops reading its answer is dropped after kWriteStallMs.
//
// HTTP here is the least a scraper needs (RFC 9112): one request per
// connection, GET or HEAD of /metrics, answered with Content-Length and
// Connection: close. It is not the data plane's HTTP server.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ep {

struct MetricsServerCounters {
    uint64_t scrapes = 0;           // 200 answers to /metrics
    uint64_t bad_requests = 0;      // 400/404/405 answers
    uint64_t refused_busy = 0;      // closed at once: kMaxClients already served
    uint64_t request_timeouts = 0;  // no complete head in time
    uint64_t write_timeouts = 0;    // stopped reading its answer
};

// "A.B.C.D:PORT" -> address and port (network order); false on anything else.
bool parse_listen_address(const std::string &s, uint32_t *ip_be, uint16_t *port_be);

class MetricsServer {
  public:
    static constexpr std::size_t kMaxClients = 16;
    static constexpr std::size_t kMaxRequest = 8192;
    static constexpr int kRequestTimeoutMs = 2000;
    static constexpr int kWriteStallMs = 5000;

    ~MetricsServer();
    // render() builds the body of each scrape, on the calling thread.
    bool open(const std::string &listen, std::function<std::string()> render, std::string *err);
    bool is_open() const { return listen_fd_ >= 0; }
    // Serves whatever is ready; waits at most timeout_ms. Never blocks on a client.
    void poll(int timeout_ms);
    void close();
    const MetricsServerCounters &counters() const { return ctr_; }
    uint16_t port() const { return port_; }  // the bound port (useful with :0)

  private:
    struct Client {
        int fd = -1;
        bool writing = false;
        std::string in, out;
        uint64_t deadline_ms = 0;
    };
    void accept_clients(uint64_t now);
    void read_from(Client &c, uint64_t now);
    void answer(Client &c, uint64_t now);
    bool flush(Client &c, uint64_t now);  // false: done or failed, drop
    void drop(std::size_t i);

    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::function<std::string()> render_;
    std::vector<Client> clients_;
    MetricsServerCounters ctr_;
};

}  // namespace ep
