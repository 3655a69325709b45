#include "control/cluster/probe_targets.h"

#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace ep::cluster {

namespace {

uint32_t addr_of(const Prefix &p) {
    uint32_t a;
    std::memcpy(&a, p.net, 4);
    return a;
}

// The network's representative: the CSV's, else the address of a /32, else
// the first host (network + 1; a router or a gateway more often than not).
uint32_t representative(const ClientNet &c) {
    if (c.probe.len == 32 && c.probe.family == 1) return addr_of(c.probe);
    uint32_t a = addr_of(c.prefix);
    if (c.prefix.len < 31) {
        uint8_t b[4];
        std::memcpy(b, &a, 4);
        const uint32_t h =
            (uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3]) + 1;
        b[0] = static_cast<uint8_t>(h >> 24);
        b[1] = static_cast<uint8_t>(h >> 16);
        b[2] = static_cast<uint8_t>(h >> 8);
        b[3] = static_cast<uint8_t>(h);
        std::memcpy(&a, b, 4);
    }
    return a;
}

}  // namespace

std::string ipv4_text(uint32_t addr_be) {
    uint8_t b[4];
    std::memcpy(b, &addr_be, 4);
    char s[16];
    std::snprintf(s, sizeof s, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return s;
}

void ProbeTargets::set_model(const Model &m) {
    std::unordered_map<uint32_t, ProbeTarget> old;
    for (ProbeTarget &t : targets_) old.emplace(t.addr, std::move(t));
    targets_.clear();
    in_flight_ = 0;
    std::unordered_map<uint32_t, std::size_t> at;
    auto add = [&](uint32_t addr, TargetRole role, const std::string &of) {
        if (addr == 0) return;
        if (const auto it = at.find(addr); it != at.end()) {
            std::string &o = targets_[it->second].of;
            if (o.size() < 64) o += "," + of;
            return;
        }
        if (targets_.size() >= cfg_.max_targets) return;
        ProbeTarget t;
        if (auto it = old.find(addr); it != old.end()) t = std::move(it->second);
        t.addr = addr;
        t.role = role;
        t.of = of;
        if (t.attempt >= methods(t)) t.attempt = 0;
        if (t.good >= static_cast<int>(methods(t))) t.good = -1;
        if (t.in_flight) ++in_flight_;
        at[addr] = targets_.size();
        targets_.push_back(std::move(t));
    };
    for (const ClientNet &c : m.clients) {
        if (c.prefix.family != 1 || c.source != Source::kCsv) continue;
        const std::string net = to_string(c.prefix);
        add(representative(c), TargetRole::kClient, net);
        if (c.ldns.len == 32 && c.ldns.family == 1) add(addr_of(c.ldns), TargetRole::kLdns, net);
    }
    cursor_ = 0;
}

std::size_t ProbeTargets::methods(const ProbeTarget &t) const {
    return 1 + (t.role == TargetRole::kLdns ? cfg_.ldns_ports : cfg_.client_ports).size();
}

std::string ProbeTargets::method_name(const ProbeTarget &t, int k) const {
    if (k <= 0) return "icmp";
    const auto &ports = t.role == TargetRole::kLdns ? cfg_.ldns_ports : cfg_.client_ports;
    return "tcp:" + std::to_string(ports[static_cast<std::size_t>(k - 1)]);
}

probe::Request ProbeTargets::request(ProbeTarget &t) {
    probe::Request r;
    r.target = t.addr;
    r.cookie = ++cookie_;
    if (t.attempt == 0) {
        r.method = probe::Method::kIcmp;
    } else {
        const auto &ports = t.role == TargetRole::kLdns ? cfg_.ldns_ports : cfg_.client_ports;
        r.method = probe::Method::kTcp;
        r.port = ports[t.attempt - 1u];
    }
    t.cookie = r.cookie;
    return r;
}

void ProbeTargets::due(double now_s, const std::function<bool(uint32_t)> &passive,
                       std::vector<probe::Request> *out) {
    const std::size_t n = targets_.size();
    for (std::size_t k = 0; k < n && in_flight_ < cfg_.max_in_flight; ++k) {
        ProbeTarget &t = targets_[(cursor_ + k) % n];
        if (t.in_flight) {
            if (now_s - t.sent_s < cfg_.lost_s) continue;
            t.in_flight = false;  // its result was lost (a full ring): start again
            --in_flight_;
            ++st_.lost;
        }
        if (t.next_s > now_s) continue;
        if (passive && passive(t.addr)) {
            t.passive = true;
            t.next_s = now_s + cfg_.interval_s;
            ++st_.skipped_passive;
            continue;
        }
        t.passive = false;
        out->push_back(request(t));
        t.in_flight = true;
        t.sent_s = now_s;
        ++t.sent;
        ++in_flight_;
        ++st_.requests;
    }
    if (n) cursor_ = (cursor_ + 1) % n;
}

const ProbeTarget *ProbeTargets::find(uint32_t addr) const {
    for (const ProbeTarget &t : targets_)
        if (t.addr == addr) return &t;
    return nullptr;
}

uint32_t ProbeTargets::dark() const {
    uint32_t n = 0;
    for (const ProbeTarget &t : targets_) n += t.dark;
    return n;
}

bool ProbeTargets::result(const probe::Result &r, double now_s, float *rtt_ms) {
    ProbeTarget *t = nullptr;
    for (ProbeTarget &x : targets_)
        if (x.addr == r.target) t = &x;
    if (!t || !t->in_flight || t->cookie != r.cookie) {
        ++st_.stale_results;
        return false;
    }
    t->in_flight = false;
    --in_flight_;
    if (probe::answered(r.outcome)) {
        ++t->answered;
        t->good = static_cast<int8_t>(t->attempt);
        t->failed = 0;
        t->dark = false;
        t->last_rtt_ms = static_cast<float>(r.rtt_us / 1000.0);
        t->last_answer_s = now_s;
        t->next_s = now_s + cfg_.interval_s;
        *rtt_ms = t->last_rtt_ms;
        ++st_.measured;
        return true;
    }
    ++t->unanswered;
    const std::size_t n = methods(*t);
    // No route: the neighbour never answered ARP; no other method fares better.
    t->failed = r.outcome == probe::Outcome::kNoRoute ? static_cast<uint8_t>(n)
                                                      : static_cast<uint8_t>(t->failed + 1);
    if (t->failed >= n) {
        // Every method of the round went unanswered: dark. Nothing is fed,
        // so geography (or passive figures) decides; tried again rarely.
        t->dark = true;
        t->failed = 0;
        t->attempt = 0;
        t->next_s = now_s + cfg_.retry_s;
        ++st_.rounds_dark;
        return false;
    }
    t->attempt = static_cast<uint8_t>((t->attempt + 1) % n);
    t->next_s = now_s;  // the next method at once
    return false;
}

std::string ProbeTargets::table(double now_s) const {
    std::string s =
        "  target           role    method    last_rtt_ms  sent  answered  unanswered  state\n";
    char line[256];
    for (const ProbeTarget &t : targets_) {
        char rtt[16] = "-";
        if (t.last_rtt_ms >= 0) std::snprintf(rtt, sizeof rtt, "%.2f", t.last_rtt_ms);
        std::string state;
        if (t.in_flight)
            state = "probing by " + method_name(t, t.attempt);
        else if (t.passive)
            state = "skipped: fresh passive measurement";
        else if (t.dark)
            state = "unanswered by every method (geography decides), again in " +
                    std::to_string(static_cast<long>(t.next_s - now_s + 0.5)) + " s";
        else if (t.answered)
            state = "answered";
        else
            state = "not probed yet";
        std::snprintf(line, sizeof line, "  %-16s %-7s %-9s %11s %5llu %9llu %11llu  %s (for %s)\n",
                      ipv4_text(t.addr).c_str(), t.role == TargetRole::kLdns ? "ldns" : "client",
                      t.good >= 0 ? method_name(t, t.good).c_str() : "-", rtt,
                      static_cast<unsigned long long>(t.sent),
                      static_cast<unsigned long long>(t.answered),
                      static_cast<unsigned long long>(t.unanswered), state.c_str(), t.of.c_str());
        s += line;
    }
    return s;
}

std::string ProbeTargets::why(uint32_t addr) const {
    std::string s;
    uint8_t a[4];
    std::memcpy(a, &addr, 4);
    for (const ProbeTarget &t : targets_) {
        uint8_t b[4];
        std::memcpy(b, &t.addr, 4);
        if (a[0] != b[0] || a[1] != b[1] || a[2] != b[2]) continue;  // not in its /24
        s += "  probe " + ipv4_text(t.addr) +
             (t.role == TargetRole::kLdns ? " (ldns): " : " (client): ");
        char rtt[64] = "";
        if (t.last_rtt_ms >= 0) std::snprintf(rtt, sizeof rtt, ", last rtt %.2f ms", t.last_rtt_ms);
        if (t.dark) {
            std::string all;
            for (std::size_t k = 0; k < methods(t); ++k)
                all += (k ? ", " : "") + method_name(t, static_cast<int>(k));
            s += "unanswered by " + all + ": no probe measurement, geography decides" +
                 std::string(rtt) + "\n";
        } else if (t.good >= 0) {
            s += "answered by " + method_name(t, t.good) + rtt + "\n";
        } else if (t.passive) {
            s += "not probed: fresh passive measurement\n";
        } else {
            s += "not answered yet\n";
        }
    }
    return s;
}

}  // namespace ep::cluster
