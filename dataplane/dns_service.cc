#include "dataplane/dns_service.h"

#include <algorithm>
#include <cstdio>
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
    env.steering = cfg_.steering ? cfg_.steering->load(std::memory_order_acquire) : nullptr;
    env.client_ip = d.src_ip;
    env.max_udp = cfg_.max_udp;
    const int n = dns::respond(d.payload, d.len, d.payload, d.room, env, c_);
    if (n < 0 || !rrl_.enabled()) return n;
    // Rate limiting is by the resolver's address (not ECS: the attack's
    // victim is whoever the source address names).
    return dns::rrl_apply(rrl_, d.payload, n, 1, reinterpret_cast<const uint8_t *>(&d.src_ip),
                          now_ns_, c_);
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
    c->waiting = c->peer_closed = false;
    c->wait_len = 0;
    c->last_ns = st.now();
    st.set_user(id, c);
}

DnsService::TcpAnswer DnsService::answer_tcp(tcp::Stack &st, tcp::ConnId id, const uint8_t *msg,
                                             uint32_t len) {
    dns::AnswerEnv env;
    env.zones = cfg_.zones->load(std::memory_order_acquire);
    env.steering = cfg_.steering ? cfg_.steering->load(std::memory_order_acquire) : nullptr;
    const tcp::FlowKey k = st.flow(id);
    std::memcpy(&env.client_ip, k.remote.b + 12, 4);
    env.max_udp = cfg_.max_udp;
    env.tcp = true;
    uint8_t *out = scratch_.get();
    std::memcpy(out + 2, msg, len);
    // Counted only once the answer goes: a query that waits for room is
    // answered again when offered again.
    dns::Counters tmp;
    const int n = dns::respond(out + 2, len, out + 2, kTcpMax, env, tmp);
    const auto total = static_cast<uint32_t>(n) + 2;
    if (n >= 0 && !st.reserve_copy(id, total)) {
        ++c_.tcp_send_waited;
        last_wait_len_ = total;
        return TcpAnswer::wait;
    }
    ++c_.tcp_queries;
#define EP_DNS_ADD(name, help) c_.name += tmp.name;
    EP_DNS_COUNTERS(EP_DNS_ADD)
#undef EP_DNS_ADD
    if (n < 0) return TcpAnswer::done;  // dropped and counted, as over UDP
    dns::put16(out, static_cast<uint16_t>(n));
    // One send for prefix and message (RFC 7766 8: "in a single write");
    // reserve_copy() said it all fits.
    if (st.send_copy(id, out, total) != total) {
        ++c_.tcp_send_full;
        return TcpAnswer::reset;
    }
    return TcpAnswer::done;
}

size_t DnsService::on_data(tcp::Stack &st, tcp::ConnId id, const uint8_t *data, size_t len) {
    auto *c = static_cast<Conn *>(st.user(id));
    if (!c) return len;
    c->last_ns = st.now();
    if (c->framer.held()) return 0;  // waiting for send room: the bytes stay buffered
    bool reset = false;
    size_t used = 0;
    const bool ok = c->framer.feed(
        data, len,
        [&](const uint8_t *msg, uint32_t n) {
            if (reset) return true;
            const TcpAnswer a = answer_tcp(st, id, msg, n);
            reset = a == TcpAnswer::reset;
            return a != TcpAnswer::wait;
        },
        &used);
    if (!ok) ++c_.tcp_too_long;
    if (!ok || reset) {
        release(id, c);
        st.abort(id);
        return len;
    }
    if (c->framer.held()) {
        // RFC 7766 6.2.1.1: answers in order, so everything after the held
        // query waits too, in the receive buffer (its window closes: the
        // client's own backpressure). on_writable() or poll() retries.
        hold(c);
        return used;
    }
    return len;
}

void DnsService::hold(Conn *c) {
    c->waiting = true;
    c->wait_len = last_wait_len_;
    pool_.wake(c);  // retried at the next poll()
}

// Offers the held query again; when it went, the rest of the buffered input.
void DnsService::retry(tcp::Stack &st, Conn *c) {
    bool reset = false;
    const tcp::ConnId id = c->id;
    if (!st.reserve_copy(id, c->wait_len)) return;  // still no room: not worth answering again
    const bool went = c->framer.retry([&](const uint8_t *msg, uint32_t n) {
        const TcpAnswer a = answer_tcp(st, id, msg, n);
        reset = a == TcpAnswer::reset;
        return a != TcpAnswer::wait;
    });
    if (reset) {
        release(id, c);
        st.abort(id);
        return;
    }
    if (!went) {
        c->wait_len = last_wait_len_;
        return;
    }
    c->waiting = false;
    st.resume_read(id);  // may hold again: on_data() re-links it
    if (c->used && c->id == id && c->peer_closed && !c->framer.held()) {
        release(id, c);
        st.close(id);
    }
}

void DnsService::on_writable(tcp::Stack &st, tcp::ConnId id) {
    auto *c = static_cast<Conn *>(st.user(id));
    if (c && c->framer.held()) retry(st, c);
}

void DnsService::on_peer_closed(tcp::Stack &st, tcp::ConnId id) {
    auto *c = static_cast<Conn *>(st.user(id));
    if (c && c->framer.held()) {
        c->peer_closed = true;  // answer what was asked first, then close
        return;
    }
    if (c) release(id, c);
    st.close(id);
}

void DnsService::on_closed(tcp::Stack &, tcp::ConnId id, tcp::CloseReason) {
    if (auto *c = static_cast<Conn *>(stack_->user(id))) release(id, c);
}

void DnsService::release(tcp::ConnId id, Conn *c) {
    stack_->set_user(id, nullptr);
    c->used = false;
    c->waiting = false;
    pool_.release(c);
}

void DnsService::poll(const Clock &clk) {
    // No table pointer is held between queries: a quiescent state (RCU),
    // once per loop iteration.
    if (cfg_.rcu) rte_rcu_qsbr_quiescent(cfg_.rcu, cfg_.rcu_id);
    now_ns_ = clk.now_ns;
    if (rlog_) log_summary(clk);
    // Held answers: offered again while they wait (on_writable() only
    // comes when this connection's own queue drains; the shared inline
    // blocks can free up through any connection).
    pool_.drain_wakes([this](Conn *c) {
        if (!c->used || !c->waiting) return;
        retry(*stack_, c);
        if (c->used && c->waiting) pool_.wake(c);
    });
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

// The access log's DNS line: per interval, the queries and the answers by
// rcode (RFC 1035 4.1.1, RFC 6891 for BADVERS), as the deltas of this
// instance's counters. An interval without queries writes nothing.
void DnsService::log_summary(const Clock &clk) {
    if (log_start_ns_ == 0) {
        log_start_ns_ = clk.now_ns ? clk.now_ns : 1;
        return;
    }
    if (clk.now_ns - log_start_ns_ < cfg_.log_interval_ns) return;
    const dns::Counters &c = c_;
    const dns::Counters &o = logged_;
    const uint64_t queries = c.queries - o.queries;
    if (queries) {
        ResponseRecord rec;
        rec.service = LogService::kDns;
        rec.unix_s = clk.unix_s;
        rec.duration_us = (clk.now_ns - log_start_ns_) / 1000;
        rec.count = queries;
        rec.status = 200;
        rec.set_method("SUMMARY");
        rec.set_path("/");
        // NOERROR covers answers, NODATA and referrals; "dropped" what got
        // no answer (rate limit, short or QR-set messages).
        const struct {
            const char *name;
            uint64_t n;
        } parts[] = {
            {"noerror",
             (c.answers + c.nodata + c.referrals) - (o.answers + o.nodata + o.referrals)},
            {"nxdomain", c.nxdomain - o.nxdomain},
            {"refused", c.refused - o.refused},
            {"formerr", c.formerr - o.formerr},
            {"notimp", c.notimp - o.notimp},
            {"badvers", c.badvers - o.badvers},
            {"truncated", c.truncated - o.truncated},
            {"dropped",
             (c.rrl_dropped + c.drop_short_header + c.drop_response + c.drop_no_room) -
                 (o.rrl_dropped + o.drop_short_header + o.drop_response + o.drop_no_room)},
        };
        char d[kLogDetailBytes];
        std::size_t n = 0;
        for (const auto &p : parts) {
            if (p.n == 0 || n >= sizeof d) continue;
            const int k = std::snprintf(d + n, sizeof d - n, "%s%s:%llu", n ? "," : "", p.name,
                                        static_cast<unsigned long long>(p.n));
            if (k > 0) n += static_cast<std::size_t>(k);
        }
        rec.set_detail({d, std::min(n, sizeof d - 1)});
        rlog_->push(rec);
    }
    logged_ = c_;
    log_start_ns_ = clk.now_ns;
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
