#include "control/probe_control.h"

#include <arpa/inet.h>

#include <cstring>

namespace ep {

namespace {
// The results and the due targets are looked at this often: probes go out
// at --probe-rate anyway, and a result waits at most this long.
constexpr uint64_t kTurnMs = 50;

uint32_t block24(uint32_t addr_be) {
    return addr_be & htonl(0xffffff00u);
}
}  // namespace

void ProbeControl::attach(cluster::Engine *engine, int32_t self, ProbeChannel *ch) {
    engine_ = engine;
    self_ = self;
    ch_ = ch;
    active_ = false;
    if (!ch) {
        off_why_ = "off (--probes off, no --cluster-self, or --probe-rate 0)";
        return;
    }
    const ProbeSettings &ps = ch->settings;
    const std::string policy = engine->policy().name();
    if (self < 0) {
        off_why_ = "off (--cluster-self names no cluster of the model)";
        return;
    }
    if (ps.mode == "off" || (ps.mode == "auto" && policy != "measured")) {
        off_why_ = "off (--probes " + ps.mode + ", policy " + policy + ")";
        return;
    }
    cluster::ProbeTargetsConfig c;
    c.interval_s = ps.interval_s;
    c.retry_s = ps.retry_s;
    c.ldns_ports = ps.ldns_ports;
    c.client_ports = ps.client_ports;
    c.max_in_flight = ps.max_in_flight;
    targets_.configure(c);
    targets_.set_model(engine->model());
    active_ = true;
}

bool ProbeControl::passive(uint32_t addr, double now_s) const {
    cluster::Prefix p;
    p.family = 1;
    p.len = 32;
    std::memcpy(p.net, &addr, 4);
    const cluster::Measured *m = engine_->measurements().find(static_cast<uint16_t>(self_), p);
    if (!m) return false;
    // Fed by someone else (the TCP stack's passive feed, `edgectl call
    // measure`) since our last answer, and not yet half forgotten.
    const auto it = fed_.find(block24(addr));
    const bool ours = it != fed_.end() && m->updated_s <= it->second;
    return !ours && now_s - m->updated_s < engine_->model().settings.measure_half_life_s;
}

void ProbeControl::poll(uint64_t now_ms) {
    now_ms_ = now_ms;
    if (!active_ || now_ms < next_ms_) return;
    next_ms_ = now_ms + kTurnMs;
    const double now_s = static_cast<double>(now_ms) / 1000.0;
    probe::Result res[64];
    unsigned n;
    while ((n = ch_->drain(res, 64)) > 0)
        for (unsigned i = 0; i < n; ++i) {
            float rtt = 0;
            if (!targets_.result(res[i], now_s, &rtt)) continue;
            cluster::Prefix p;
            p.family = 1;
            p.len = 32;
            std::memcpy(p.net, &res[i].target, 4);
            // One sample, no loss: an unanswered probe says little about
            // loss (filters drop probes), so loss stays the passive feed's.
            engine_->measurements().add(static_cast<uint16_t>(self_), p, rtt, 0, 1, now_s);
            fed_[block24(res[i].target)] = now_s;
        }
    std::vector<probe::Request> reqs;
    targets_.due(
        now_s, [this, now_s](uint32_t a) { return passive(a, now_s); }, &reqs);
    for (const probe::Request &r : reqs)
        if (!ch_->post(r)) {
            ++post_refused_;
            // Never sent: its turn comes again once the lost timer frees it.
        }
}

std::string ProbeControl::text() const {
    if (!active_) return "probes: " + off_why_ + "\n";
    const ProbeSettings &ps = ch_->settings;
    char head[256];
    std::snprintf(head, sizeof head,
                  "probes: on, from cluster %s; interval %.1f s, retry %.1f s; %zu targets, %u in "
                  "flight, %u unanswered by every method\n",
                  engine_->model().clusters[static_cast<std::size_t>(self_)].name.c_str(),
                  ps.interval_s, ps.retry_s, targets_.targets().size(), targets_.in_flight(),
                  targets_.dark());
    return head + targets_.table(static_cast<double>(now_ms_) / 1000.0);
}

std::string ProbeControl::why(const std::string &address) const {
    if (!active_) return "";
    in_addr a{};
    if (inet_pton(AF_INET, address.c_str(), &a) != 1) return "";
    const std::string s = targets_.why(a.s_addr);
    return s.empty() ? "" : "active probes in its /24:\n" + s;
}

void ProbeControl::visit_counters(const CounterVisitor &fn) const {
    const cluster::ProbeTargetsStats &s = targets_.stats();
    const uint64_t probe_requests = s.requests, probe_post_refused = post_refused_,
                   probe_measurements = s.measured, probe_rounds_dark = s.rounds_dark,
                   probe_skipped_passive = s.skipped_passive, probe_stale_results = s.stale_results,
                   probe_lost = s.lost;
#define EP_X(name, help) fn({#name, help, name, false});
    EP_PROBE_CONTROL_COUNTERS(EP_X)
#undef EP_X
    fn({"probe_targets", "active probe targets (client representatives and LDNSes)",
        targets_.targets().size(), true});
    fn({"probe_targets_dark", "probe targets whose last round no method answered", targets_.dark(),
        true});
}

}  // namespace ep
