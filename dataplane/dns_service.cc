#include "dataplane/dns_service.h"

#include <cstring>
#include <new>

#include "dataplane/dns/answer.h"

namespace ep {

namespace {
constexpr uint32_t kTcpMax = 65535;  // RFC 1035 4.2.2: the length prefix's bound
}

int DnsService::on_datagram(net::udp::Datagram &d) {
    dns::AnswerEnv env;
    env.zones = cfg_.zones->load(std::memory_order_acquire);
    env.steering = cfg_.steering;
    env.client_ip = d.src_ip;
    env.max_udp = cfg_.max_udp;
    return dns::respond(d.payload, d.len, d.payload, d.room, env, c_);
}

bool DnsService::init_tcp(tcp::Stack *stack, uint16_t port) {
    stack_ = stack;
    scratch_.reset(new (std::nothrow) uint8_t[2 + kTcpMax]);
    if (!scratch_ || !pool_.init(cfg_.tcp_max_conns)) return false;
    return stack->listen(port, this);
}

void DnsService::on_accept(tcp::Stack &st, tcp::ConnId id) {
    Conn *c = pool_.acquire();
    if (!c) {
        ++c_.tcp_conn_limit;
        st.abort(id);
        return;
    }
    ++c_.tcp_connections;
    c->framer.reset();
    c->id = id;
    c->used = true;
    c->last_ns = st.now();
    st.set_user(id, c);
}

bool DnsService::answer_tcp(tcp::Stack &st, tcp::ConnId id, const uint8_t *msg, uint32_t len) {
    ++c_.tcp_queries;
    dns::AnswerEnv env;
    env.zones = cfg_.zones->load(std::memory_order_acquire);
    env.steering = cfg_.steering;
    const tcp::FlowKey k = st.flow(id);
    std::memcpy(&env.client_ip, k.remote.b + 12, 4);
    env.max_udp = cfg_.max_udp;
    env.tcp = true;
    uint8_t *out = scratch_.get();
    std::memcpy(out + 2, msg, len);
    const int n = dns::respond(out + 2, len, out + 2, kTcpMax, env, c_);
    if (n < 0) return true;  // dropped and counted, as over UDP
    dns::put16(out, static_cast<uint16_t>(n));
    // One send for prefix and message (RFC 7766 8: "in a single write").
    if (st.send_copy(id, out, static_cast<uint32_t>(n) + 2) != static_cast<uint32_t>(n) + 2) {
        ++c_.tcp_send_full;
        return false;
    }
    return true;
}

size_t DnsService::on_data(tcp::Stack &st, tcp::ConnId id, const uint8_t *data, size_t len) {
    auto *c = static_cast<Conn *>(st.user(id));
    if (!c) return len;
    c->last_ns = st.now();
    bool reset = false;
    const bool ok = c->framer.feed(data, len, [&](const uint8_t *msg, uint32_t n) {
        if (!reset && !answer_tcp(st, id, msg, n)) reset = true;
    });
    if (!ok) ++c_.tcp_too_long;
    if (!ok || reset) {
        release(id, c);
        st.abort(id);
    }
    return len;
}

void DnsService::on_peer_closed(tcp::Stack &st, tcp::ConnId id) {
    if (auto *c = static_cast<Conn *>(st.user(id))) release(id, c);
    st.close(id);
}

void DnsService::on_closed(tcp::Stack &, tcp::ConnId id, tcp::CloseReason) {
    if (auto *c = static_cast<Conn *>(stack_->user(id))) release(id, c);
}

void DnsService::release(tcp::ConnId id, Conn *c) {
    stack_->set_user(id, nullptr);
    c->used = false;
    pool_.release(c);
}

void DnsService::poll(const Clock &clk) {
    // Idle connections close (RFC 7766 6.2.3). A scan of the pool once a
    // second: a few hundred slots, no timer per connection needed.
    if (!stack_ || clk.now_ns - last_scan_ns_ < 1'000'000'000) return;
    last_scan_ns_ = clk.now_ns;
    for (uint32_t i = 0; i < pool_.size(); ++i) {
        Conn &c = pool_[i];
        if (!c.used || c.last_ns >= clk.now_ns || clk.now_ns - c.last_ns < cfg_.tcp_idle_ns)
            continue;
        ++c_.tcp_idle_closed;
        const tcp::ConnId id = c.id;
        release(id, &c);
        stack_->close(id);
    }
}

dns::Counters DnsService::counters() const {
    dns::Counters out;
#define EP_DNS_LOAD(name, help) out.name = __atomic_load_n(&c_.name, __ATOMIC_RELAXED);
    EP_DNS_COUNTERS(EP_DNS_LOAD)
#undef EP_DNS_LOAD
    return out;
}

void DnsService::visit_counters(const CounterVisitor &fn) const {
    const dns::Counters c = counters();
#define EP_DNS_VISIT(name, help) fn({#name, help, c.name});
    EP_DNS_COUNTERS(EP_DNS_VISIT)
#undef EP_DNS_VISIT
}

}  // namespace ep
