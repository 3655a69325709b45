#include "bench/edgebench/dash_abr.h"

#include <algorithm>

namespace ep::bench {

size_t throughput_choice(const std::vector<uint64_t> &ladder, double estimate_bps, double safety) {
    size_t best = 0;
    for (size_t i = 0; i < ladder.size(); ++i)
        if (static_cast<double>(ladder[i]) <= safety * estimate_bps) best = i;
    return best;
}

size_t bba_choice(const std::vector<uint64_t> &ladder, double buffer_s, size_t prev,
                  double reservoir_s, double cushion_s) {
    const size_t top = ladder.size() - 1;
    if (buffer_s <= reservoir_s) return 0;
    if (buffer_s >= reservoir_s + cushion_s) return top;
    const double rmin = static_cast<double>(ladder.front()),
                 rmax = static_cast<double>(ladder.back());
    const double f = rmin + (buffer_s - reservoir_s) / cushion_s * (rmax - rmin);
    prev = std::min(prev, top);
    // BBA-0 (Huang et al. 2014, Algorithm 1): with R+ / R- the rates next
    // above / below the previous one, f(B) >= R+ picks max{R_i < f(B)};
    // f(B) <= R- picks min{R_i > f(B)}; otherwise the rate stays.
    if (prev < top && f >= static_cast<double>(ladder[prev + 1])) {
        size_t i = prev;
        while (i < top && static_cast<double>(ladder[i + 1]) < f) ++i;
        return i;
    }
    if (prev > 0 && f <= static_cast<double>(ladder[prev - 1])) {
        size_t i = 0;
        while (i < top && static_cast<double>(ladder[i]) <= f) ++i;
        return i;
    }
    return prev;
}

double harmonic_mean(const std::vector<double> &v, int window) {
    if (v.empty()) return 0;
    const size_t n = std::min(v.size(), static_cast<size_t>(std::max(window, 1)));
    double inv = 0;
    for (size_t i = v.size() - n; i < v.size(); ++i) inv += 1.0 / std::max(v[i], 1.0);
    return static_cast<double>(n) / inv;
}

Player::Player(const AbrConfig &cfg, std::vector<uint64_t> ladder, double seg_s, uint32_t nsegs)
    : cfg_(cfg), ladder_(std::move(ladder)), seg_s_(seg_s), nsegs_(nsegs) {
    if (ladder_.empty()) ladder_.push_back(0);
}

void Player::start(double now) {
    t0_ = last_ = now;
}

void Player::advance(double now) {
    if (now <= last_) return;
    double dt = now - last_;
    last_ = now;
    if (!started_) return;
    const double play = std::min(dt, buffer_s_);
    buffer_s_ -= play;
    played_s_ += play;
    dt -= play;
    // Dry buffer with media still to come: rebuffering.
    if (dt > 0 && next_seg_ < nsegs_) {
        if (!stalled_) ++stalls_;
        stalled_ = true;
        stall_s_ += dt;
    }
}

Player::Decision Player::next(double now) {
    advance(now);
    Decision d;
    if (fetching_) {  // one request at a time; the caller asks again on completion
        d.kind = Decision::wait;
        d.until = now + seg_s_;
        return d;
    }
    if (next_seg_ >= nsegs_) {
        if (buffer_s_ > 1e-9) {
            d.kind = Decision::wait;
            d.until = now + buffer_s_;
        }
        return d;  // done when drained
    }
    const double room = cfg_.max_buffer_s - seg_s_;
    if (started_ && buffer_s_ > room) {
        d.kind = Decision::wait;
        d.until = now + (buffer_s_ - room);
        return d;
    }
    size_t rep;
    if (cfg_.rule == AbrRule::buffer) {
        rep = choices_.empty()
                  ? 0
                  : bba_choice(ladder_, buffer_s_, last_rep_, cfg_.reservoir_s, cfg_.cushion_s);
    } else {
        rep = tput_.empty()
                  ? 0
                  : throughput_choice(ladder_, harmonic_mean(tput_, cfg_.window), cfg_.safety);
    }
    d.kind = Decision::fetch;
    d.segment = next_seg_;
    d.rep = rep;
    fetching_ = true;
    last_rep_ = rep;
    choices_.push_back(rep);
    return d;
}

void Player::segment_done(double now, uint64_t bytes, double download_s) {
    advance(now);
    fetching_ = false;
    ++next_seg_;
    buffer_s_ += seg_s_;
    stalled_ = false;
    if (download_s > 0) tput_.push_back(static_cast<double>(bytes) * 8.0 / download_s);
    if (!started_ && (buffer_s_ >= cfg_.startup_s - 1e-9 || next_seg_ >= nsegs_)) {
        started_ = true;
        start_play_ = now;
    }
}

PlayerMetrics Player::metrics() const {
    PlayerMetrics m;
    m.segments = next_seg_;
    double sum = 0;
    uint32_t sw = 0;
    for (size_t i = 0; i < choices_.size() && i < next_seg_; ++i) {
        sum += static_cast<double>(ladder_[choices_[i]]);
        if (i > 0 && choices_[i] != choices_[i - 1]) ++sw;
    }
    m.avg_bitrate_bps = next_seg_ ? sum / next_seg_ : 0;
    m.switches = sw;
    m.startup_delay_s = started_ ? start_play_ - t0_ : -1;
    m.stall_s = stall_s_;
    m.played_s = played_s_;
    m.rebuffer_ratio = (stall_s_ + played_s_) > 0 ? stall_s_ / (stall_s_ + played_s_) : 0;
    m.stalls = stalls_;
    return m;
}

}  // namespace ep::bench
