#include "control/cluster/measurements.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ep::cluster {

Prefix Measurements::block_of(const Prefix &addr) {
    const uint8_t len = addr.family == 1 ? 24 : 48;
    return truncate(addr, std::min(len, addr.len));
}

Measurements::Key Measurements::key_of(uint16_t cluster, const Prefix &block, uint16_t source) {
    Key k{0, 0, cluster, block.family, source};
    std::memcpy(&k.hi, block.net, 8);
    std::memcpy(&k.lo, block.net + 8, 8);
    return k;
}

void Measurements::add(uint16_t cluster, const Prefix &addr, float rtt_ms, float loss_pct,
                       uint32_t samples, double now_s) {
    if (samples == 0 || !(rtt_ms >= 0) || !(loss_pct >= 0)) return;
    Measured &m = map_[key_of(cluster, block_of(addr), kLocal)];
    const double age = now_s > m.updated_s ? now_s - m.updated_s : 0;
    const double old_w = m.weight * std::exp2(-age / half_life_s_);
    const double w = old_w + samples;
    m.rtt_ms = static_cast<float>((m.rtt_ms * old_w + double{rtt_ms} * samples) / w);
    m.loss_pct = static_cast<float>((m.loss_pct * old_w + double{loss_pct} * samples) / w);
    m.weight = static_cast<float>(w);
    m.updated_s = now_s;
}

double Measurements::weight_at(const Measured &m, double now_s) const {
    const double age = now_s > m.updated_s ? now_s - m.updated_s : 0;
    return m.weight * std::exp2(-age / half_life_s_);
}

void Measurements::replace_source(uint16_t source, const std::vector<Shared> &entries,
                                  double now_s) {
    if (source == kLocal) return;
    for (auto it = map_.begin(); it != map_.end();)
        it = it->first.source == source ? map_.erase(it) : std::next(it);
    for (const Shared &e : entries) {
        if (!(e.rtt_ms >= 0) || !(e.loss_pct >= 0) || !(e.weight > 0) || !(e.age_s >= 0)) continue;
        Measured &m = map_[key_of(e.cluster, block_of(e.block), source)];
        m.rtt_ms = e.rtt_ms;
        m.loss_pct = e.loss_pct;
        m.weight = e.weight;
        m.updated_s = now_s - e.age_s;
        m.source = source;
    }
}

uint16_t Measurements::source_id(const std::string &member) {
    for (std::size_t i = 1; i < source_names_.size(); ++i)
        if (source_names_[i] == member) return static_cast<uint16_t>(i);
    source_names_.push_back(member);
    return static_cast<uint16_t>(source_names_.size() - 1);
}

const std::string &Measurements::source_name(uint16_t id) const {
    return id < source_names_.size() ? source_names_[id] : source_names_[0];
}

std::vector<uint16_t> Measurements::sources() const {
    std::vector<uint16_t> out;
    for (const auto &[k, m] : map_)
        if (k.source != kLocal && std::find(out.begin(), out.end(), k.source) == out.end())
            out.push_back(k.source);
    return out;
}

std::vector<Measurements::Shared> Measurements::top_local(uint16_t cluster, std::size_t k,
                                                          double now_s) const {
    std::vector<Shared> out;
    for_each([&](const Prefix &b, uint16_t c, const Measured &m) {
        if (c != cluster || m.source != kLocal) return;
        out.push_back({c, b, m.rtt_ms, m.loss_pct, static_cast<float>(weight_at(m, now_s)),
                       now_s > m.updated_s ? now_s - m.updated_s : 0});
    });
    std::sort(out.begin(), out.end(), [](const Shared &a, const Shared &b) {
        if (a.weight != b.weight) return a.weight > b.weight;
        return std::memcmp(a.block.net, b.block.net, 16) < 0;  // a stable order to publish
    });
    if (out.size() > k) out.resize(k);
    return out;
}

const Measured *Measurements::find(uint16_t cluster, const Prefix &addr) const {
    const auto it = map_.find(key_of(cluster, block_of(addr), kLocal));
    return it == map_.end() ? nullptr : &it->second;
}

void Measurements::expire(double now_s) {
    for (auto it = map_.begin(); it != map_.end();)
        it = now_s - it->second.updated_s > max_age_s_ ? map_.erase(it) : std::next(it);
}

void Measurements::for_each(
    const std::function<void(const Prefix &, uint16_t, const Measured &)> &fn) const {
    for (const auto &[k, m] : map_) {
        Prefix p;
        p.family = k.family;
        p.len = k.family == 1 ? 24 : 48;
        std::memcpy(p.net, &k.hi, 8);
        std::memcpy(p.net + 8, &k.lo, 8);
        fn(p, k.cluster, m);
    }
}

}  // namespace ep::cluster
