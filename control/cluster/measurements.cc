#include "control/cluster/measurements.h"

#include <cmath>
#include <cstring>

namespace ep::cluster {

Prefix Measurements::block_of(const Prefix &addr) {
    const uint8_t len = addr.family == 1 ? 24 : 48;
    return truncate(addr, std::min(len, addr.len));
}

void Measurements::add(uint16_t cluster, const Prefix &addr, float rtt_ms, float loss_pct,
                       uint32_t samples, double now_s) {
    if (samples == 0 || !(rtt_ms >= 0) || !(loss_pct >= 0)) return;
    const Prefix b = block_of(addr);
    Key k{0, 0, cluster, b.family};
    std::memcpy(&k.hi, b.net, 8);
    std::memcpy(&k.lo, b.net + 8, 8);
    Measured &m = map_[k];
    const double age = now_s > m.updated_s ? now_s - m.updated_s : 0;
    const double old_w = m.weight * std::exp2(-age / half_life_s_);
    const double w = old_w + samples;
    m.rtt_ms = static_cast<float>((m.rtt_ms * old_w + double{rtt_ms} * samples) / w);
    m.loss_pct = static_cast<float>((m.loss_pct * old_w + double{loss_pct} * samples) / w);
    m.weight = static_cast<float>(w);
    m.updated_s = now_s;
}

const Measured *Measurements::find(uint16_t cluster, const Prefix &addr) const {
    const Prefix b = block_of(addr);
    Key k{0, 0, cluster, b.family};
    std::memcpy(&k.hi, b.net, 8);
    std::memcpy(&k.lo, b.net + 8, 8);
    const auto it = map_.find(k);
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
