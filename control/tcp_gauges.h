// The TCP stack's levels (not totals) as gauges, one visitor for every
// output: `edgectl stats tcp`, /metrics and telemetry (Daemon::stats_sections
// and Daemon::metrics). Connections per state (RFC 9293 3.3.2) are what an
// operator graphs to see a SYN flood (syn_received), clients that stop
// reading (fin_wait1, last_ack) or a leak (close_wait).
#pragma once

#include "dataplane/net/tcp/stack.h"
#include "dataplane/service.h"

namespace ep {

template <class Fn>
void visit_tcp_gauges(const tcp::Stack &st, Fn &&fn) {
    using tcp::State;
    fn(CounterRef{"connections_open", "TCP connections open now", st.connections(), true});
    fn(CounterRef{"time_wait_entries", "connections in TIME-WAIT now", st.time_wait_entries(),
                  true});
    static constexpr struct {
        State s;
        const char *name, *help;
    } kStates[] = {
        {State::kSynSent, "state_syn_sent", "connections in SYN-SENT now (origin fetches)"},
        {State::kSynRcvd, "state_syn_received", "connections in SYN-RECEIVED now"},
        {State::kEstablished, "state_established", "connections in ESTABLISHED now"},
        {State::kFinWait1, "state_fin_wait1", "connections in FIN-WAIT-1 now"},
        {State::kFinWait2, "state_fin_wait2", "connections in FIN-WAIT-2 now"},
        {State::kCloseWait, "state_close_wait", "connections in CLOSE-WAIT now"},
        {State::kClosing, "state_closing", "connections in CLOSING now"},
        {State::kLastAck, "state_last_ack", "connections in LAST-ACK now"},
    };
    for (const auto &k : kStates) fn(CounterRef{k.name, k.help, st.in_state(k.s), true});
}

}  // namespace ep
