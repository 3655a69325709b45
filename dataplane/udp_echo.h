// RFC 862 Echo over UDP: every datagram goes back to its sender unchanged,
// answered in the received buffer. The test service for the UDP path, off
// unless --udp-echo-port is given. One per data-lcore queue; counters are
// written by that lcore only and read relaxed by the control thread.
#pragma once

#include <cstdint>

#include "dataplane/net/udp/handler.h"
#include "dataplane/service.h"

namespace ep {

struct UdpEchoCounters {
    uint64_t datagrams = 0;
    uint64_t bytes = 0;
    uint64_t too_large = 0;  // the reply would not fit the buffer or the MTU: dropped
};

class UdpEchoServer final : public Service, public net::udp::Handler {
  public:
    std::string_view name() const override { return "udp_echo"; }
    void visit_counters(const CounterVisitor &fn) const override {
        const UdpEchoCounters c = counters();
        fn({"datagrams", "datagrams echoed (RFC 862)", c.datagrams});
        fn({"bytes", "payload bytes echoed", c.bytes});
        fn({"too_large", "dropped: the reply would not fit the buffer or the MTU", c.too_large});
    }
    int on_datagram(net::udp::Datagram &d) override {
        if (d.len > d.room) {
            ++c_.too_large;
            return -1;
        }
        ++c_.datagrams;
        c_.bytes += d.len;
        return d.len;  // the payload is already where the reply goes
    }
    UdpEchoCounters counters() const {
        return {__atomic_load_n(&c_.datagrams, __ATOMIC_RELAXED),
                __atomic_load_n(&c_.bytes, __ATOMIC_RELAXED),
                __atomic_load_n(&c_.too_large, __ATOMIC_RELAXED)};
    }

  private:
    UdpEchoCounters c_;
};

}  // namespace ep
