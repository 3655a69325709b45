// What the active prober probes, and what became of it (issue 16, the
// measured policy: "active probes where there is no traffic, and a fallback
// when probes go unanswered"). Pure: the model in, probe requests
// (dataplane/probe/messages.h) and measurements out; the daemon's glue is
// control/probe_control.h.
//
// Targets: every IPv4 client network of the CSV has a representative (its
// `probe` column, else the network's first host, or the address of a /32)
// and, where the CSV names one, its LDNS (`ldns` column). Networks from the
// geolocation database have no known host and are not probed.
//
// A target is probed every `interval_s` unless its block (/24) has a fresh
// passive measurement (fed by someone other than the prober within
// `passive_fresh_s`). A round tries ICMP echo first, then a TCP SYN to each
// port of its role (LDNS: 53; client: 80, 443), starting from the method that
// answered last; the first answer ends the round with an RTT. A round in
// which every method went unanswered marks the target *dark*: nothing is
// fed, so the policies keep deciding by geography (or by what passive
// measurements say), and the target is tried again after `retry_s` only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "control/cluster/model.h"
#include "dataplane/probe/messages.h"

namespace ep::cluster {

struct ProbeTargetsConfig {
    double interval_s = 60;
    double retry_s = 600;
    double lost_s = 30;  // a request with no result this long is forgotten (counted)
    std::vector<uint16_t> ldns_ports{53};
    std::vector<uint16_t> client_ports{80, 443};
    uint32_t max_in_flight = 64;
    std::size_t max_targets = 65536;
};

enum class TargetRole : uint8_t { kClient, kLdns };

struct ProbeTarget {
    uint32_t addr = 0;  // IPv4, network order
    TargetRole role = TargetRole::kClient;
    std::string of;  // the client network(s) it stands for
    // The round in progress.
    uint8_t attempt = 0;  // index into the methods: 0 ICMP, then the role's TCP ports
    uint8_t failed = 0;   // methods of this round that went unanswered
    int8_t good = -1;     // the method that answered last
    bool in_flight = false;
    uint32_t cookie = 0;
    double sent_s = 0;
    double next_s = 0;
    // What it showed.
    uint64_t sent = 0, answered = 0, unanswered = 0;
    float last_rtt_ms = -1;
    double last_answer_s = -1;
    bool dark = false;     // the last round: no method answered
    bool passive = false;  // skipped at its last turn: a fresh passive measurement
};

struct ProbeTargetsStats {
    uint64_t requests = 0;  // probes asked for
    uint64_t measured = 0;  // answers turned into measurements
    uint64_t rounds_dark = 0;
    uint64_t skipped_passive = 0;
    uint64_t stale_results = 0;  // results for no request in flight (a reload, a lost one)
    uint64_t lost = 0;           // requests that never came back
};

class ProbeTargets {
  public:
    void configure(const ProbeTargetsConfig &c) { cfg_ = c; }
    const ProbeTargetsConfig &config() const { return cfg_; }
    // The targets of the model's client networks; a target still listed
    // keeps its state and counts.
    void set_model(const Model &m);
    // Requests due at now_s: targets whose turn has come, not in flight and
    // without a fresh passive measurement (`passive(addr)`), as many as
    // max_in_flight leaves room for.
    void due(double now_s, const std::function<bool(uint32_t addr)> &passive,
             std::vector<probe::Request> *out);
    // A probe's result. True with *rtt_ms when it is a measurement of
    // r.target's block to feed (Measurements::add).
    bool result(const probe::Result &r, double now_s, float *rtt_ms);

    const std::vector<ProbeTarget> &targets() const { return targets_; }
    const ProbeTarget *find(uint32_t addr) const;
    uint32_t in_flight() const { return in_flight_; }
    uint32_t dark() const;
    const ProbeTargetsStats &stats() const { return st_; }
    // The method of attempt k for a target: "icmp", "tcp:80".
    std::string method_name(const ProbeTarget &t, int k) const;
    // `edgectl probes`: one line per target.
    std::string table(double now_s) const;
    // For `edgectl why ADDRESS`: the targets in ADDRESS's /24, one line
    // each ("" when none).
    std::string why(uint32_t addr) const;

  private:
    std::size_t methods(const ProbeTarget &t) const;
    probe::Request request(ProbeTarget &t);
    ProbeTargetsConfig cfg_;
    std::vector<ProbeTarget> targets_;
    uint32_t cookie_ = 0;
    uint32_t in_flight_ = 0;
    std::size_t cursor_ = 0;  // where the next due() starts, round robin
    ProbeTargetsStats st_;
};

// "a.b.c.d" of a network-order address.
std::string ipv4_text(uint32_t addr_be);

}  // namespace ep::cluster
