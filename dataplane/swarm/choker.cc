#include "dataplane/swarm/choker.h"

namespace ep::swarm {

uint64_t Choker::rand() {
    // xorshift64: per-lcore state, no syscalls, deterministic under test.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
}

bool Choker::tick(ChokePeer *const *peers, uint32_t n, uint64_t now_ns) {
    if (!started_) {
        started_ = true;
        next_round_ns_ = now_ns + cfg_.round_ns;
        for (uint32_t i = 0; i < n; ++i) peers[i]->uploaded_at_round = peers[i]->uploaded;
        fill(peers, n, now_ns);
        return false;
    }
    if (now_ns < next_round_ns_) return false;
    next_round_ns_ = now_ns + cfg_.round_ns;
    round(peers, n, now_ns);
    return true;
}

ChokePeer *Choker::pick_optimistic(ChokePeer *const *peers, uint32_t n, uint64_t now_ns) {
    // Weighted draw: a peer connected less than new_ns ago counts new_weight times.
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const ChokePeer *p = peers[i];
        if (!p->interested || (p->unchoked && !p->optimistic)) continue;
        total += now_ns - p->connected_ns < cfg_.new_ns ? cfg_.new_weight : 1;
    }
    if (total == 0) return nullptr;
    uint64_t r = rand() % total;
    for (uint32_t i = 0; i < n; ++i) {
        ChokePeer *p = peers[i];
        if (!p->interested || (p->unchoked && !p->optimistic)) continue;
        const uint64_t w = now_ns - p->connected_ns < cfg_.new_ns ? cfg_.new_weight : 1;
        if (r < w) return p;
        r -= w;
    }
    return nullptr;
}

void Choker::round(ChokePeer *const *peers, uint32_t n, uint64_t now_ns) {
    for (uint32_t i = 0; i < n; ++i) {
        ChokePeer *p = peers[i];
        p->rate = p->uploaded - p->uploaded_at_round;
        p->uploaded_at_round = p->uploaded;
    }
    const bool rotate = rounds_ % cfg_.optimistic_rounds == 0;
    ++rounds_;
    ChokePeer *opt = nullptr;
    for (uint32_t i = 0; i < n; ++i)
        if (peers[i]->optimistic && peers[i]->interested) opt = peers[i];
    // Regular slots: the fastest interested peers, the current optimistic
    // one included as a candidate (it may earn a regular slot). Selection by
    // repeated max: n is one lcore's connections, and a round runs every 10 s.
    // Ties are broken at random.
    for (uint32_t i = 0; i < n; ++i) peers[i]->unchoked = false;
    uint32_t slots = 0;
    while (slots < cfg_.regular) {
        ChokePeer *best = nullptr;
        uint64_t best_key = 0;
        for (uint32_t i = 0; i < n; ++i) {
            ChokePeer *p = peers[i];
            if (!p->interested || p->unchoked) continue;
            // key: the rate, then a random low byte for ties.
            const uint64_t key = (p->rate << 8) | (rand() & 0xFF);
            if (!best || key > best_key) best = p, best_key = key;
        }
        if (!best) break;
        best->unchoked = true;
        best->optimistic = false;
        ++slots;
    }
    if (opt && opt->unchoked) opt = nullptr;  // promoted to a regular slot
    if (rotate || !opt) {
        for (uint32_t i = 0; i < n; ++i) peers[i]->optimistic = false;
        opt = pick_optimistic(peers, n, now_ns);
    } else {
        for (uint32_t i = 0; i < n; ++i)
            if (peers[i] != opt) peers[i]->optimistic = false;
    }
    if (opt) {
        opt->unchoked = true;
        opt->optimistic = true;
    }
}

void Choker::fill(ChokePeer *const *peers, uint32_t n, uint64_t now_ns) {
    uint32_t regular = 0;
    bool have_opt = false;
    for (uint32_t i = 0; i < n; ++i) {
        ChokePeer *p = peers[i];
        if (p->unchoked && !p->interested) p->unchoked = p->optimistic = false;
        if (p->unchoked && p->optimistic) have_opt = true;
        if (p->unchoked && !p->optimistic) ++regular;
    }
    while (regular < cfg_.regular) {
        // A random interested choked peer.
        uint32_t cand = 0;
        for (uint32_t i = 0; i < n; ++i) cand += peers[i]->interested && !peers[i]->unchoked;
        if (!cand) break;
        uint64_t r = rand() % cand;
        for (uint32_t i = 0; i < n; ++i) {
            ChokePeer *p = peers[i];
            if (!p->interested || p->unchoked) continue;
            if (r-- == 0) {
                p->unchoked = true;
                p->optimistic = false;
                break;
            }
        }
        ++regular;
    }
    if (!have_opt) {
        if (ChokePeer *o = pick_optimistic(peers, n, now_ns); o && !o->unchoked) {
            o->unchoked = true;
            o->optimistic = true;
        }
    }
}

}  // namespace ep::swarm
