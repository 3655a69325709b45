#include "dataplane/dns_service.h"

#include "dataplane/dns/answer.h"

namespace ep {

int DnsService::on_datagram(net::udp::Datagram &d) {
    dns::AnswerEnv env;
    env.zones = cfg_.zones->load(std::memory_order_acquire);
    env.steering = cfg_.steering;
    env.client_ip = d.src_ip;
    env.max_udp = cfg_.max_udp;
    return dns::respond(d.payload, d.len, d.payload, d.room, env, c_);
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
