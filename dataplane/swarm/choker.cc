#include "dataplane/swarm/choker.h"

namespace ep::swarm {

uint64_t Choker::rand() {
    // xorshift64: per-lcore state, no syscalls, deterministic under test.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
}

bool Choker::snubbed(const ChokePeer &p, uint64_t now_ns) const {
    // Counted from the last block, or from the connection if none came yet.
    const uint64_t since = p.last_piece_ns > p.connected_ns ? p.last_piece_ns : p.connected_ns;
    return now_ns > since && now_ns - since >= cfg_.snub_ns;
}

namespace {
// After a decision: remember when each peer got or lost its slot (round
// robin turns and waiting order).
void note_transitions(ChokePeer *const *peers, uint32_t n, uint64_t now_ns) {
    for (uint32_t i = 0; i < n; ++i) {
        ChokePeer *p = peers[i];
        if (p->unchoked && !p->was_unchoked) {
            p->unchoked_ns = now_ns;
            p->uploaded_at_unchoke = p->uploaded;
        } else if (!p->unchoked && p->was_unchoked) {
            p->waiting_since_ns = now_ns;
        }
        p->was_unchoked = p->unchoked;
    }
}
}  // namespace

bool Choker::tick(ChokePeer *const *peers, uint32_t n, uint64_t now_ns) {
    if (!started_) {
        started_ = true;
        next_round_ns_ = now_ns + cfg_.round_ns;
        for (uint32_t i = 0; i < n; ++i) {
            peers[i]->uploaded_at_round = peers[i]->uploaded;
            peers[i]->downloaded_at_round = peers[i]->downloaded;
        }
        fill(peers, n, now_ns);
        return false;
    }
    if (now_ns < next_round_ns_) return false;
    next_round_ns_ = now_ns + cfg_.round_ns;
    round(peers, n, now_ns);
    return true;
}

ChokePeer *Choker::pick_optimistic(ChokePeer *const *peers, uint32_t n, uint64_t now_ns,
                                   const ChokePeer *exclude) {
    // Weighted draw: a peer connected less than new_ns ago counts new_weight times.
    uint64_t total = 0;
    uint32_t others = 0;  // candidates other than `exclude`
    for (uint32_t i = 0; i < n; ++i) {
        const ChokePeer *p = peers[i];
        others += p != exclude && p->interested && !(p->unchoked && !p->optimistic);
    }
    if (!others) exclude = nullptr;  // the only candidate keeps its turn
    for (uint32_t i = 0; i < n; ++i) {
        const ChokePeer *p = peers[i];
        if (p == exclude || !p->interested || (p->unchoked && !p->optimistic)) continue;
        total += now_ns - p->connected_ns < cfg_.new_ns ? cfg_.new_weight : 1;
    }
    if (total == 0) return nullptr;
    uint64_t r = rand() % total;
    for (uint32_t i = 0; i < n; ++i) {
        ChokePeer *p = peers[i];
        if (p == exclude || !p->interested || (p->unchoked && !p->optimistic)) continue;
        const uint64_t w = now_ns - p->connected_ns < cfg_.new_ns ? cfg_.new_weight : 1;
        if (r < w) return p;
        r -= w;
    }
    return nullptr;
}

void Choker::round_robin(ChokePeer *const *peers, uint32_t n, uint64_t now_ns) {
    // Keep the regular peers whose turn is not over; a turn is over after a
    // round with rr_quota bytes taken, or after optimistic_rounds rounds.
    const uint32_t slots = cfg_.regular_slots();
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; ++i) {
        ChokePeer *p = peers[i];
        const bool regular = p->unchoked && !p->optimistic && p->interested;
        const uint64_t held = now_ns - p->unchoked_ns;
        const bool done =
            held >= cfg_.round_ns * cfg_.optimistic_rounds ||
            (held >= cfg_.round_ns && p->uploaded - p->uploaded_at_unchoke >= cfg_.rr_quota);
        p->unchoked = regular && !done && kept < slots;
        kept += p->unchoked;
    }
    // Free slots: the interested peer that has waited longest; peers whose
    // turn just ended wait from now (so they come last).
    while (kept < slots) {
        ChokePeer *best = nullptr;
        uint64_t best_key = 0;
        for (uint32_t i = 0; i < n; ++i) {
            ChokePeer *p = peers[i];
            if (!p->interested || p->unchoked) continue;
            uint64_t key = p->was_unchoked       ? now_ns
                           : p->waiting_since_ns ? p->waiting_since_ns
                                                 : p->connected_ns;
            if (!best || key < best_key || (key == best_key && (rand() & 1)))
                best = p, best_key = key;
        }
        if (!best) break;
        best->unchoked = true;
        best->optimistic = false;
        ++kept;
    }
}

void Choker::round(ChokePeer *const *peers, uint32_t n, uint64_t now_ns) {
    const bool leech = cfg_.mode == ChokeMode::kLeech;
    for (uint32_t i = 0; i < n; ++i) {
        ChokePeer *p = peers[i];
        p->rate =
            leech ? p->downloaded - p->downloaded_at_round : p->uploaded - p->uploaded_at_round;
        p->uploaded_at_round = p->uploaded;
        p->downloaded_at_round = p->downloaded;
    }
    const bool rotate = rounds_ % cfg_.optimistic_rounds == 0;
    ++rounds_;
    ChokePeer *opt = nullptr;
    for (uint32_t i = 0; i < n; ++i)
        if (peers[i]->optimistic && peers[i]->interested) opt = peers[i];
    if (cfg_.mode == ChokeMode::kSeedRoundRobin) {
        round_robin(peers, n, now_ns);
    } else {
        // Regular slots: the fastest eligible peers (kLeech: by what they
        // sent us, snubbed ones left out; seeds: by what we sent them), the
        // current optimistic one included as a candidate (it may earn a
        // regular slot). Selection by repeated max: n is one lcore's
        // connections, and a round runs every 10 s. Ties at random.
        const uint32_t slots = cfg_.regular_slots();
        for (uint32_t i = 0; i < n; ++i) peers[i]->unchoked = false;
        uint32_t taken = 0;
        while (taken < slots) {
            ChokePeer *best = nullptr;
            uint64_t best_key = 0;
            for (uint32_t i = 0; i < n; ++i) {
                ChokePeer *p = peers[i];
                if (p->unchoked || !p->interested) continue;
                // key: reciprocating (not snubbed) first, then the rate, then
                // a random low byte for ties. A snubbed peer only gets a slot
                // no reciprocating peer wants (mainline fills those too,
                // rather than leave upload capacity unused), with its rate
                // ignored.
                const bool ok = regular_ok(*p, now_ns);
                const uint64_t rate = p->rate < (1ull << 54) ? p->rate : (1ull << 54) - 1;
                const uint64_t key =
                    ok ? (1ull << 63) | (rate << 8) | (rand() & 0xFF) : rand() & 0xFF;
                if (!best || key > best_key) best = p, best_key = key;
            }
            if (!best) break;
            best->unchoked = true;
            best->optimistic = false;
            ++taken;
        }
    }
    if (opt && opt->unchoked && !opt->optimistic) opt = nullptr;  // promoted to regular
    if (rotate || !opt) {
        const ChokePeer *ended = rotate ? opt : nullptr;  // its turn is over
        for (uint32_t i = 0; i < n; ++i)
            if (!peers[i]->unchoked) peers[i]->optimistic = false;
        opt = pick_optimistic(peers, n, now_ns, ended);
    } else {
        for (uint32_t i = 0; i < n; ++i)
            if (peers[i] != opt) peers[i]->optimistic = false;
    }
    if (opt) {
        opt->unchoked = true;
        opt->optimistic = true;
    }
    for (uint32_t i = 0; i < n; ++i)
        if (!peers[i]->unchoked) peers[i]->optimistic = false;
    note_transitions(peers, n, now_ns);
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
    const uint32_t slots = cfg_.regular_slots();
    while (regular < slots) {
        // A random choked peer, reciprocating ones (kLeech: not snubbed)
        // first (round robin: the longest waiting would be fairer, but fill
        // only covers gaps until the next round).
        uint32_t cand = 0;
        bool any = false;  // no reciprocating candidate: any interested one
        for (uint32_t i = 0; i < n; ++i)
            cand += !peers[i]->unchoked && regular_ok(*peers[i], now_ns);
        if (!cand) {
            any = true;
            for (uint32_t i = 0; i < n; ++i) cand += !peers[i]->unchoked && peers[i]->interested;
        }
        if (!cand) break;
        uint64_t r = rand() % cand;
        for (uint32_t i = 0; i < n; ++i) {
            ChokePeer *p = peers[i];
            if (p->unchoked || !(any ? p->interested : regular_ok(*p, now_ns))) continue;
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
    note_transitions(peers, n, now_ns);
}

}  // namespace ep::swarm
