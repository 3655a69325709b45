// Authoritative DNS over UDP and TCP (dataplane/dns does the protocol): the
// glue between a queue's UDP bindings and TCP stack and the answer builder.
// One per data-lcore queue; the zone table is shared, read-only, published
// by the control thread (control/dns_zones.h).
//
// UDP answers are built in the received buffer (l3fwd style): a UDP answer
// is bounded by the EDNS payload size and the MTU anyway, and the buffer
// holds an MTU, so a second buffer would never help. TCP (RFC 7766) answers
// are built in one per-queue scratch buffer and copied onto the connection's
// send queue, in the order the queries arrived.
// Counters are written by the owning lcore only and read relaxed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <rte_rcu_qsbr.h>

#include "dataplane/conn_pool.h"
#include "dataplane/dns/counters.h"
#include "dataplane/dns/rrl.h"
#include "dataplane/dns/tcp_framer.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/net/udp/handler.h"
#include "dataplane/response_log.h"
#include "dataplane/service.h"

namespace ep {

namespace dns {
class ZoneTable;
class Steering;
}  // namespace dns

struct DnsConfig {
    // Both published by the control thread (control/dns_tables.h) and read
    // once per query; replaced tables are freed after every reader passed a
    // quiescent state, which poll() reports.
    const std::atomic<const dns::ZoneTable *> *zones = nullptr;
    const std::atomic<const dns::Steering *> *steering = nullptr;  // inside nullptr: none
    rte_rcu_qsbr *rcu = nullptr;
    uint32_t rcu_id = 0;                    // this instance's reader id
    uint16_t max_udp = 1232;                // our EDNS payload size (DNS flag day 2020 default)
    uint32_t tcp_max_conns = 256;           // per queue; 0: no TCP
    uint64_t tcp_idle_ns = 10'000'000'000;  // RFC 7766 6.2.3: seconds, not minutes
    dns::RrlConfig rrl;                     // UDP answers only; rate 0: off
    uint64_t log_interval_ns = 10'000'000'000;  // access log: one summary record this often
};

class DnsService final : public Service, public net::udp::Handler, public tcp::Handler {
  public:
    explicit DnsService(const DnsConfig &cfg) : cfg_(cfg) {}
    // The rate limiter's table (control side, before the lcore runs).
    bool init_rrl() { return rrl_.init(cfg_.rrl); }
    // Listens on `port` of `stack` too (RFC 7766). False when out of memory
    // or the port is taken.
    bool init_tcp(tcp::Stack *stack, uint16_t port);

    std::string_view name() const override { return "dns"; }
    void visit_counters(const CounterVisitor &fn) const override;
    void poll(const Clock &clk) override;
    int on_datagram(net::udp::Datagram &d) override;
    dns::Counters counters() const;
    // The lcore's access-log ring (--access-log): a summary record every
    // log_interval_ns with queries in it (not one per query: a DNS server's
    // rate would flood any log). nullptr: no access log.
    void set_response_log(ResponseLog *log) { rlog_ = log; }

    void on_accept(tcp::Stack &, tcp::ConnId) override;
    size_t on_data(tcp::Stack &, tcp::ConnId, const uint8_t *data, size_t len) override;
    void on_peer_closed(tcp::Stack &, tcp::ConnId) override;
    void on_writable(tcp::Stack &, tcp::ConnId) override;
    void on_closed(tcp::Stack &, tcp::ConnId, tcp::CloseReason) override;

  private:
    struct Conn {
        dns::TcpFramer framer;
        tcp::ConnId id;
        uint64_t last_ns = 0;
        bool used = false;
        // An answer the send queue could not take whole: the query is held
        // in the framer, the rest of the input in the TCP receive buffer.
        bool waiting = false;
        bool peer_closed = false;  // FIN came while waiting: close once answered
        uint32_t wait_len = 0;     // bytes the held answer needs
        Conn *next_free = nullptr;
    };
    enum class TcpAnswer { done, wait, reset };
    void release(tcp::ConnId id, Conn *c);
    TcpAnswer answer_tcp(tcp::Stack &st, tcp::ConnId id, const uint8_t *msg, uint32_t len);
    void hold(Conn *c);
    void retry(tcp::Stack &st, Conn *c);
    void log_summary(const Clock &clk);

    DnsConfig cfg_;
    dns::Counters c_;
    tcp::Stack *stack_ = nullptr;
    ConnPool<Conn> pool_;
    std::unique_ptr<uint8_t[]> scratch_;  // 2 + 65535: one TCP answer
    uint64_t last_scan_ns_ = 0;
    uint32_t last_wait_len_ = 0;
    dns::Rrl rrl_;
    uint64_t now_ns_ = 0;  // the loop's clock at the last poll(): RRL's time
    ResponseLog *rlog_ = nullptr;
    dns::Counters logged_{};     // counters at the last summary
    uint64_t log_start_ns_ = 0;  // the summary interval began (0: not yet)
};

}  // namespace ep
