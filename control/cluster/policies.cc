#include <algorithm>

#include "control/cluster/policy.h"

namespace ep::cluster {

const char *reason_text(Reason r) {
    switch (r) {
        case Reason::kNone:
            return "no usable cluster";
        case Reason::kBest:
            return "lowest score";
        case Reason::kKept:
            return "kept: the previous cluster is within the hysteresis margin";
        case Reason::kMovedForLoad:
            return "moved for load: the best is above its headroom";
        case Reason::kKeptForLoad:
            return "kept for load: moved earlier, the best is not yet below headroom - band";
        case Reason::kOverCapacity:
            return "over capacity: the best is full and no candidate had room";
    }
    return "?";
}

void World::build(const Model &m) {
    model = &m;
    client_xyz.resize(m.clients.size());
    client_cell.resize(m.clients.size());
    std::vector<uint8_t> used(CandidateGrid::kRows * CandidateGrid::kCols, 0);
    for (std::size_t i = 0; i < m.clients.size(); ++i) {
        client_xyz[i] = unit_vector(m.clients[i].lat, m.clients[i].lon);
        client_cell[i] = CandidateGrid::cell_of(m.clients[i].lat, m.clients[i].lon);
        used[client_cell[i]] = 1;
    }
    cells.clear();
    for (uint32_t c = 0; c < used.size(); ++c)
        if (used[c]) cells.push_back(c);
    cluster_xyz.resize(m.clusters.size());
    for (std::size_t i = 0; i < m.clusters.size(); ++i)
        cluster_xyz[i] = unit_vector(m.clusters[i].lat, m.clusters[i].lon);
    index.build(m.clients);
}

namespace {

class ScoringPolicy : public Policy {
  public:
    ScoringPolicy(const char *name, const Settings &s, bool measured, bool sticky, bool content,
                  bool load)
        : name_(name),
          s_(s),
          measured_(measured),
          sticky_(sticky),
          content_(content),
          load_(load) {}
    const char *name() const override { return name_; }

    void decide(const PolicyInput &in, uint32_t i, Decision *d) const override {
        gather(in, i, d);
        d->chosen = -1;
        d->reason = Reason::kNone;
        if (d->n == 0) return;
        const float off = measured_ && i < in.measured.offset.size() ? in.measured.offset[i] : 0.0f;
        uint32_t best = 0;
        for (uint32_t j = 0; j < d->n; ++j) {
            Candidate &c = d->c[j];
            float v = measured_ && (c.flags & kMeasuredFlag)
                          ? c.rtt_ms + c.loss_pct * static_cast<float>(s_.loss_ms_per_pct)
                          : c.geo_ms;
            if (measured_ && !(c.flags & kMeasuredFlag) && off != 0) {
                // Calibrated by the network's measurements: without it a
                // measured cluster (access latency and all) loses to every
                // unmeasured one's bare distance estimate, and prefixes hop
                // from cluster to cluster until all are measured.
                v += off;
                c.flags |= kOffsetFlag;
            }
            if (content_ && in.holds && !(c.flags & kHoldsTitle))
                v += static_cast<float>(s_.miss_ms);
            if (c.flags & kDrainingFlag) v += kDrainMs;
            c.score = v;
            if (v < d->c[best].score) best = j;
        }
        d->chosen = static_cast<int32_t>(best);
        d->reason = Reason::kBest;
        if (!sticky_ || !in.previous) return;
        const Assignment &prev = (*in.previous)[i];
        if (prev.cluster < 0 || prev.cluster == d->c[best].cluster) return;
        int32_t j = -1;
        for (uint32_t k = 0; k < d->n; ++k)
            if (d->c[k].cluster == prev.cluster && !(d->c[k].flags & kDrainingFlag))
                j = static_cast<int32_t>(k);
        if (j < 0) return;  // gone, down or draining: no stickiness
        if (load_ && in.previous_load &&
            (prev.reason == Reason::kMovedForLoad || prev.reason == Reason::kKeptForLoad ||
             prev.reason == Reason::kOverCapacity)) {
            const Cluster &b = in.world.model->clusters[d->c[best].cluster];
            const double demand = in.world.model->clients[i].demand_gbps * in.demand_share;
            if ((*in.previous_load)[d->c[best].cluster] + extra(in, d->c[best].cluster) + demand >
                (s_.headroom - s_.load_band) * b.capacity_gbps) {
                d->chosen = j;
                d->reason = Reason::kKeptForLoad;
                return;
            }
        }
        const float gain = d->c[j].score - d->c[best].score;
        if (gain <= s_.stick_ms || gain <= s_.stick_pct / 100 * d->c[j].score) {
            d->chosen = j;
            d->reason = Reason::kKept;
        }
    }

    void rebalance(const PolicyInput &in, std::vector<Assignment> *a, std::vector<double> *load,
                   RebalanceStats *st) const override {
        if (!load_) return;
        const Model &m = *in.world.model;
        std::vector<double> limit(m.clusters.size());
        // What the members report beyond the model's demand takes room
        // first: it is traffic no decision here can move.
        for (std::size_t c = 0; c < limit.size(); ++c)
            limit[c] = s_.headroom * m.clusters[c].capacity_gbps - extra(in, c);
        struct Move {
            float penalty;
            uint32_t client;
        };
        std::vector<Move> moves;
        Decision d;
        for (st->passes = 0; st->passes < 4; ++st->passes) {
            bool over = false;
            for (std::size_t c = 0; c < limit.size(); ++c) over |= (*load)[c] > limit[c];
            if (!over) break;
            // Everything on a cluster above its headroom, by what moving it
            // to its next-best candidate costs: the least affected go first.
            moves.clear();
            for (uint32_t i = 0; i < a->size(); ++i) {
                const int32_t cur = (*a)[i].cluster;
                if (cur < 0 || (*load)[cur] <= limit[cur]) continue;
                decide(in, i, &d);
                float alt = kDrainMs * 10;
                for (uint32_t k = 0; k < d.n; ++k)
                    if (d.c[k].cluster != cur) alt = std::min(alt, d.c[k].score);
                moves.push_back({alt - (*a)[i].score, i});
            }
            std::sort(moves.begin(), moves.end(), [](const Move &x, const Move &y) {
                return x.penalty < y.penalty || (x.penalty == y.penalty && x.client < y.client);
            });
            uint64_t moved = 0;
            for (const Move &mv : moves) {
                Assignment &as = (*a)[mv.client];
                const int32_t cur = as.cluster;
                if ((*load)[cur] <= limit[cur]) continue;
                const double demand = m.clients[mv.client].demand_gbps * in.demand_share;
                decide(in, mv.client, &d);
                int32_t to = -1;
                for (uint32_t k = 0; k < d.n; ++k) {
                    const uint16_t c = d.c[k].cluster;
                    if (c == cur || (*load)[c] + demand > limit[c]) continue;
                    if (to < 0 || d.c[k].score < d.c[to].score) to = static_cast<int32_t>(k);
                }
                if (to < 0) {
                    as.reason = Reason::kOverCapacity;
                    continue;
                }
                (*load)[cur] -= demand;
                (*load)[d.c[to].cluster] += demand;
                as = {d.c[to].cluster, Reason::kMovedForLoad, d.c[to].score};
                ++moved;
            }
            st->moved += moved;
            if (moved == 0) break;
        }
        st->unplaced = 0;
        for (const Assignment &as : *a)
            st->unplaced += as.cluster >= 0 && (*load)[as.cluster] > limit[as.cluster];
    }

  private:
    static double extra(const PolicyInput &in, std::size_t c) {
        return in.extra_load && c < in.extra_load->size() ? (*in.extra_load)[c] : 0.0;
    }

    void gather(const PolicyInput &in, uint32_t i, Decision *d) const {
        const World &w = in.world;
        const Model &m = *w.model;
        const Vec3 p = w.client_xyz[i];
        const unsigned k = std::min<unsigned>(s_.candidates, 16);
        float c2[16];
        uint16_t id[16];
        unsigned n = 0;
        for (uint16_t c : in.grid.cell(w.client_cell[i])) {
            const float v = chord2(p, w.cluster_xyz[c]);
            if (n == k && v >= c2[n - 1]) continue;
            unsigned at = n < k ? n++ : n - 1;
            while (at > 0 && c2[at - 1] > v) {
                c2[at] = c2[at - 1];
                id[at] = id[at - 1];
                --at;
            }
            c2[at] = v;
            id[at] = c;
        }
        d->n = 0;
        auto add = [&](uint16_t c, float chord) {
            Candidate &x = d->c[d->n++];
            x = Candidate{};
            x.cluster = c;
            x.geo_ms = static_cast<float>(s_.geo_base_ms) +
                       chord2_to_km_f(chord) * static_cast<float>(s_.geo_ms_per_km);
            if (m.clusters[c].health == Health::kDraining) x.flags |= kDrainingFlag;
            if (in.holds && (*in.holds)[c]) x.flags |= kHoldsTitle;
            return &x;
        };
        for (unsigned j = 0; j < n; ++j) add(id[j], c2[j]);
        if (!measured_ || in.measured.start.empty()) return;
        for (uint32_t e = in.measured.start[i]; e < in.measured.start[i + 1]; ++e) {
            const MeasuredView::Entry &me = in.measured.entries[e];
            Candidate *x = nullptr;
            for (uint32_t j = 0; j < d->n; ++j)
                if (d->c[j].cluster == me.cluster) x = &d->c[j];
            // A measured cluster is a candidate even when it is not among
            // the nearest: that is what measuring is for.
            if (!x) {
                if (d->n == kMaxCandidates || m.clusters[me.cluster].health == Health::kDown)
                    continue;
                x = add(me.cluster, chord2(p, w.cluster_xyz[me.cluster]));
            }
            x->rtt_ms = me.rtt_ms;
            x->loss_pct = me.loss_pct;
            x->flags |= kMeasuredFlag;
        }
    }

    const char *name_;
    Settings s_;
    bool measured_, sticky_, content_, load_;
};

}  // namespace

std::unique_ptr<Policy> make_policy(const std::string &name, const Settings &s) {
    if (name == "geo") return std::make_unique<ScoringPolicy>("geo", s, false, false, false, false);
    if (name == "measured")
        return std::make_unique<ScoringPolicy>("measured", s, true, true, false, false);
    if (name == "load-aware")
        return std::make_unique<ScoringPolicy>("load-aware", s, true, true, false, true);
    if (name == "content")
        return std::make_unique<ScoringPolicy>("content", s, true, true, true, true);
    return nullptr;
}

}  // namespace ep::cluster
