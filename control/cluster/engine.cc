#include "control/cluster/engine.h"

#include <tuple>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_map>

#include "control/cluster/model_load.h"
#include "control/cluster/rendezvous.h"
#include "dataplane/dns/zone_table.h"

namespace ep::cluster {

Engine::Engine() : policy_(make_policy("geo", Settings{})) {}
Engine::~Engine() = default;

bool Engine::set_model(Model m, const std::string &policy, std::string *err) {
    if (!policy.empty()) m.settings.policy = policy;
    if (const std::string why = validate(m); !why.empty()) {
        *err = why;
        return false;
    }
    std::unique_ptr<Policy> p = make_policy(m.settings.policy, m.settings);
    if (!p) {
        *err = "unknown policy '" + m.settings.policy + "'";
        return false;
    }
    // Measurements and the last decisions name clusters and clients by
    // index: keep them only when those lists are unchanged.
    bool same_clusters = m.clusters.size() == model_.clusters.size();
    for (std::size_t i = 0; same_clusters && i < m.clusters.size(); ++i)
        same_clusters = m.clusters[i].name == model_.clusters[i].name;
    bool same_clients = same_clusters && m.clients.size() == model_.clients.size();
    for (std::size_t i = 0; same_clients && i < m.clients.size(); ++i)
        same_clients = m.clients[i].prefix == model_.clients[i].prefix;
    if (!same_clusters) measurements_.clear();
    model_ = std::move(m);
    policy_ = std::move(p);
    measurements_.configure(model_.settings.measure_half_life_s, model_.settings.measure_max_age_s);
    world_.build(model_);
    group_titles_ = {""};
    group_of_name_.assign(model_.names.size(), 0);
    if (model_.settings.policy == "content") {
        for (std::size_t n = 0; n < model_.names.size(); ++n) {
            const std::string &t = model_.names[n].title;
            if (t.empty()) continue;
            auto it = std::find(group_titles_.begin(), group_titles_.end(), t);
            if (it == group_titles_.end()) it = group_titles_.insert(group_titles_.end(), t);
            group_of_name_[n] = static_cast<uint32_t>(it - group_titles_.begin());
        }
    }
    base_clusters_ = model_.clusters;
    apply_members();
    if (!same_clients || assign_.size() != group_titles_.size()) assign_.clear();
    if (!same_clusters) load_.clear();
    return true;
}

void Engine::build_holds() {
    holds_.assign(group_titles_.size(), std::vector<uint8_t>(model_.clusters.size(), 0));
    for (std::size_t g = 1; g < group_titles_.size(); ++g)
        for (std::size_t c = 0; c < model_.clusters.size(); ++c) {
            const auto &ts = model_.clusters[c].titles;
            holds_[g][c] = std::find(ts.begin(), ts.end(), group_titles_[g]) != ts.end();
        }
}

std::vector<uint32_t> Engine::live_members(int32_t cluster) const {
    std::vector<uint32_t> up, draining;
    if (cluster < 0 || !membership_) return up;
    const std::string &name = model_.clusters[static_cast<std::size_t>(cluster)].name;
    for (uint32_t i = 0; i < members_.size(); ++i) {
        if (members_[i].cluster != name) continue;
        if (members_[i].health == Health::kUp) up.push_back(i);
        if (members_[i].health == Health::kDraining) draining.push_back(i);
    }
    return up.empty() ? draining : up;
}

void Engine::set_members(std::vector<Member> members) {
    std::sort(members.begin(), members.end(), [](const Member &a, const Member &b) {
        return a.cluster != b.cluster ? a.cluster < b.cluster : a.name < b.name;
    });
    membership_ = true;
    members_ = std::move(members);
    apply_members();
}

void Engine::apply_members() {
    model_.clusters = base_clusters_;
    placed_.clear();
    if (membership_) {
        for (std::size_t c = 0; c < model_.clusters.size(); ++c) {
            Cluster &cl = model_.clusters[c];
            const std::vector<uint32_t> live = live_members(static_cast<int32_t>(c));
            if (live.empty()) {
                cl.health = Health::kDown;  // no appliance holds a lease
                cl.v4.clear();               // nothing to answer with (shown empty)
                cl.v6.clear();
                continue;
            }
            cl.v4.clear();
            cl.v6.clear();
            cl.titles.clear();
            bool any_up = false;
            for (uint32_t i : live) {
                const Member &m = members_[i];
                any_up |= m.health == Health::kUp;
                cl.v4.insert(cl.v4.end(), m.v4.begin(), m.v4.end());
                cl.v6.insert(cl.v6.end(), m.v6.begin(), m.v6.end());
                cl.titles.insert(cl.titles.end(), m.titles.begin(), m.titles.end());
            }
            // The operator's (or the file's) health is a ceiling.
            if (!any_up && cl.health == Health::kUp) cl.health = Health::kDraining;
        }
        if (model_.settings.policy == "content") {
            placed_.assign(group_titles_.size(), std::vector<Placed>(model_.clusters.size()));
            for (std::size_t g = 1; g < group_titles_.size(); ++g)
                for (std::size_t c = 0; c < model_.clusters.size(); ++c)
                    for (uint32_t i : placement(group_titles_[g], static_cast<int32_t>(c))) {
                        const Member &m = members_[i];
                        Placed &p = placed_[g][c];
                        p.v4.insert(p.v4.end(), m.v4.begin(), m.v4.end());
                        p.v6.insert(p.v6.end(), m.v6.begin(), m.v6.end());
                    }
        }
    }
    build_holds();
}

std::vector<uint32_t> Engine::placement(const std::string &title, int32_t cluster) const {
    const std::vector<uint32_t> live = live_members(cluster);
    std::vector<std::string_view> names;
    for (uint32_t i : live) names.push_back(members_[i].name);
    std::vector<uint32_t> out;
    for (uint32_t k : hrw_top(title, names, model_.settings.replicas)) out.push_back(live[k]);
    return out;
}

int32_t Engine::cluster_index(const std::string &name) const {
    for (std::size_t i = 0; i < model_.clusters.size(); ++i)
        if (model_.clusters[i].name == name) return static_cast<int32_t>(i);
    return -1;
}

bool Engine::set_health(const std::string &cluster, Health h, std::string *err) {
    const int32_t i = cluster_index(cluster);
    if (i < 0) {
        *err = "no cluster '" + cluster + "'";
        return false;
    }
    base_clusters_[static_cast<std::size_t>(i)].health = h;
    apply_members();
    return true;
}

void Engine::fold_measurements() {
    // Each /24 (/48) block's aggregates go to the client network holding it.
    std::vector<std::pair<uint32_t, MeasuredView::Entry>> flat;
    measurements_.for_each([&](const Prefix &block, uint16_t cluster, const Measured &m) {
        if (cluster >= model_.clusters.size()) return;
        const int32_t c = world_.index.find(block);
        if (c >= 0) flat.push_back({static_cast<uint32_t>(c), {cluster, m.rtt_ms, m.loss_pct}});
    });
    // Several blocks of one network measured by one cluster: their mean.
    std::sort(flat.begin(), flat.end(), [](const auto &a, const auto &b) {
        return a.first != b.first ? a.first < b.first : a.second.cluster < b.second.cluster;
    });
    measured_.start.assign(model_.clients.size() + 1, 0);
    measured_.entries.clear();
    for (std::size_t k = 0; k < flat.size();) {
        std::size_t e = k;
        double rtt = 0, loss = 0;
        while (e < flat.size() && flat[e].first == flat[k].first &&
               flat[e].second.cluster == flat[k].second.cluster) {
            rtt += flat[e].second.rtt_ms;
            loss += flat[e].second.loss_pct;
            ++e;
        }
        const double n = static_cast<double>(e - k);
        measured_.entries.push_back(
            {flat[k].second.cluster, static_cast<float>(rtt / n), static_cast<float>(loss / n)});
        measured_.start[flat[k].first + 1]++;
        k = e;
    }
    for (std::size_t i = 0; i < model_.clients.size(); ++i)
        measured_.start[i + 1] += measured_.start[i];
    // Per network (ASN), the median of measured score - geo estimate over
    // its measured pairs: what distance alone misses for it (access
    // latency, path inflation). The median, so one congested cluster or one
    // bad peering among its pairs does not move it; the lower one of an
    // even count, as penalties only ever add.
    const Settings &s = model_.settings;
    std::unordered_map<uint32_t, std::vector<float>> by_asn;
    for (std::size_t i = 0; i < model_.clients.size(); ++i) {
        const uint32_t asn = model_.clients[i].asn;
        if (asn == 0) continue;
        for (uint32_t e = measured_.start[i]; e < measured_.start[i + 1]; ++e) {
            const MeasuredView::Entry &me = measured_.entries[e];
            const float geo = static_cast<float>(s.geo_base_ms) +
                              chord2_to_km_f(chord2(world_.client_xyz[i],
                                                    world_.cluster_xyz[me.cluster])) *
                                  static_cast<float>(s.geo_ms_per_km);
            by_asn[asn].push_back(me.rtt_ms + me.loss_pct * static_cast<float>(s.loss_ms_per_pct) -
                                  geo);
        }
    }
    measured_.offset.clear();
    if (by_asn.empty()) return;
    std::unordered_map<uint32_t, float> median;
    for (auto &[asn, v] : by_asn) {
        const std::size_t mid = (v.size() - 1) / 2;
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
        median[asn] = v[mid];
    }
    measured_.offset.assign(model_.clients.size(), 0.0f);
    for (std::size_t i = 0; i < model_.clients.size(); ++i) {
        auto it = median.find(model_.clients[i].asn);
        if (model_.clients[i].asn != 0 && it != median.end()) measured_.offset[i] = it->second;
    }
}

namespace {

// The Decision's best candidates by score (up to kMaxRanked).
void rank_of(const Decision &d, http::ClientRanking *r) {
    Candidate c[kMaxCandidates];
    std::copy(d.c, d.c + d.n, c);
    const uint32_t k = std::min<uint32_t>(d.n, http::kMaxRanked);
    std::partial_sort(c, c + k, c + d.n,
                      [](const Candidate &x, const Candidate &y) { return x.score < y.score; });
    r->n = static_cast<uint8_t>(k);
    for (uint32_t i = 0; i < k; ++i) {
        r->cluster[i] = c[i].cluster;
        r->score_ms[i] = c[i].score;
    }
}

void chosen_first(const Assignment &a, http::ClientRanking *r) {
    if (a.cluster < 0) {
        r->n = 0;
        return;
    }
    const auto c = static_cast<uint16_t>(a.cluster);
    unsigned at = r->n;
    for (unsigned i = 0; i < r->n; ++i)
        if (r->cluster[i] == c) at = i;
    if (at == r->n) {  // not among the best few: it comes in, the last goes
        if (r->n < http::kMaxRanked) ++r->n;
        at = r->n - 1u;
    }
    for (unsigned i = at; i > 0; --i) {
        r->cluster[i] = r->cluster[i - 1];
        r->score_ms[i] = r->score_ms[i - 1];
    }
    r->cluster[0] = c;
    r->score_ms[0] = a.score;
}

}  // namespace

http::SteerMap Engine::http_map(int32_t self) const {
    http::SteerMap m;
    for (const Cluster &c : model_.clusters)
        m.clusters.push_back({c.name, http_host_of(c), c.health != Health::kDown});
    m.self = self < 0 ? http::kNoCluster : static_cast<uint16_t>(self);
    m.version = map_.version;
    if (rank_.size() != model_.clients.size()) return m;
    m.routes.reserve(rank_.size());
    for (std::size_t i = 0; i < rank_.size(); ++i) {
        if (rank_[i].n == 0) continue;
        http::SteerMap::Route r;
        const Prefix &p = model_.clients[i].prefix;
        r.family = p.family;
        r.prefix = p.len;
        std::memcpy(r.net, p.net, 16);
        r.ranking = rank_[i];
        m.routes.push_back(r);
    }
    return m;
}

const dns::SteerMap &Engine::recompute(double now_s) {
    const auto t0 = std::chrono::steady_clock::now();
    last_now_ = now_s;
    measurements_.expire(now_s);
    fold_measurements();
    std::vector<uint8_t> usable(model_.clusters.size());
    for (std::size_t c = 0; c < usable.size(); ++c)
        usable[c] = model_.clusters[c].health != Health::kDown;
    grid_.build(world_.cluster_xyz, usable, model_.settings.candidates, world_.cells);

    const std::size_t n = model_.clients.size(), groups = group_titles_.size();
    const bool have_prev = assign_.size() == groups;
    const bool have_load = load_.size() == model_.clusters.size();
    std::vector<double> total(model_.clusters.size(), 0.0);
    std::vector<std::vector<Assignment>> next(groups, std::vector<Assignment>(n));
    RecomputeStats st = stats_;
    st.clients = n;
    st.decided = st.changed = st.kept = st.moved_for_load = st.over_capacity = 0;
    Decision d;
    if (keep_rank_)
        rank_.assign(n, http::ClientRanking{});
    else
        rank_.clear();
    // Members' reported load against what the last recompute assigned: the
    // part beyond it is load the model does not explain (clients it does
    // not list, demand above the file's figures). Clamped at zero: a
    // cluster reporting less than it was assigned is most likely still
    // receiving the clients the last map sent it (DNS TTLs), and counting
    // that as room would overfill it.
    reported_.clear();
    extra_.clear();
    std::vector<double> extra_share;
    if (membership_) {
        reported_.assign(model_.clusters.size(), 0.0);
        for (const Member &mb : members_) {
            const int32_t c = cluster_index(mb.cluster);
            if (c >= 0) reported_[static_cast<std::size_t>(c)] += mb.tx_gbps;
        }
        extra_.resize(reported_.size());
        for (std::size_t c = 0; c < reported_.size(); ++c)
            extra_[c] = std::max(0.0, reported_[c] - (have_load ? load_[c] : 0.0));
    }
    for (std::size_t g = 0; g < groups; ++g) {
        PolicyInput in{world_, grid_, measured_};
        if (!extra_.empty()) {
            // Each title group balances its share of the demand.
            extra_share = extra_;
            for (double &x : extra_share) x /= static_cast<double>(groups);
            in.extra_load = &extra_share;
        }
        in.previous = have_prev ? &assign_[g] : nullptr;
        in.previous_load = have_load ? &load_ : nullptr;
        in.holds = g > 0 ? &holds_[g] : nullptr;
        in.demand_share = 1.0 / static_cast<double>(groups);
        std::vector<double> load(model_.clusters.size(), 0.0);
        std::vector<Assignment> &a = next[g];
        for (uint32_t i = 0; i < n; ++i) {
            policy_->decide(in, i, &d);
            if (d.chosen < 0) continue;
            a[i] = {d.cluster(), d.reason, d.c[d.chosen].score};
            if (g == 0 && keep_rank_) rank_of(d, &rank_[i]);
            load[d.cluster()] += model_.clients[i].demand_gbps * in.demand_share;
        }
        RebalanceStats rs;
        policy_->rebalance(in, &a, &load, &rs);
        // Hysteresis and load may have chosen another than the lowest score:
        // the chosen one leads the ranking.
        if (g == 0 && keep_rank_)
            for (uint32_t i = 0; i < n; ++i) chosen_first(a[i], &rank_[i]);
        for (uint32_t i = 0; i < n; ++i) {
            st.decided += a[i].cluster >= 0;
            st.kept += a[i].reason == Reason::kKept || a[i].reason == Reason::kKeptForLoad;
            st.moved_for_load += a[i].reason == Reason::kMovedForLoad;
            if (have_prev) st.changed += a[i].cluster != assign_[g][i].cluster;
        }
        st.over_capacity += rs.unplaced;
        for (std::size_t c = 0; c < total.size(); ++c) total[c] += load[c];
    }
    assign_ = std::move(next);
    load_ = std::move(total);

    const auto t1 = std::chrono::steady_clock::now();
    std::vector<std::vector<int32_t>> answers(groups, std::vector<int32_t>(n));
    for (std::size_t g = 0; g < groups; ++g)
        for (std::size_t i = 0; i < n; ++i) answers[g][i] = assign_[g][i].cluster;
    CompileStats cs;
    map_ = compile(model_, answers, group_of_name_, map_.version + 1, &cs,
                   placed_.empty() ? nullptr : &placed_);
    st.routes = cs.routes;
    st.candidate_entries = grid_.entries();
    st.measured_blocks = measurements_.size();
    st.recomputes++;
    const auto t2 = std::chrono::steady_clock::now();
    st.seconds = std::chrono::duration<double>(t2 - t0).count();
    st.decide_seconds = std::chrono::duration<double>(t1 - t0).count();
    st.compile_seconds = std::chrono::duration<double>(t2 - t1).count();
    stats_ = st;
    return map_;
}

namespace {

std::string fmt(const char *f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

}  // namespace

std::string Engine::clusters_text() const {
    std::string o;
    const Settings &s = model_.settings;
    uint64_t from_db = 0;
    for (const ClientNet &c : model_.clients) from_db += c.source == Source::kGeoDb;
    o += "policy " + std::string(policy_->name()) + "; candidates " + std::to_string(s.candidates) +
         "; headroom " + fmt("%.2f", s.headroom) + "; hysteresis " + fmt("%.1f", s.stick_ms) +
         " ms / " + fmt("%.0f", s.stick_pct) + " %\n";
    o += "clients " + std::to_string(model_.clients.size()) + " (" +
         std::to_string(model_.clients.size() - from_db) + " from " +
         (model_.clients_file.empty() ? "no CSV" : model_.clients_file) + ", " +
         std::to_string(from_db) + " from the geolocation database" +
         (model_.geodb.empty() ? "" : " " + model_.geodb) + ")\n";
    o += "names";
    for (const SteeredName &n : model_.names)
        o += " " + n.owner + " (ttl " + std::to_string(n.ttl) +
             (n.title.empty() ? "" : ", title " + n.title) + ")";
    o += "\n";
    o += "recompute " + std::to_string(stats_.recomputes) + ": " + fmt("%.3f", stats_.seconds) +
         " s; decided " + std::to_string(stats_.decided) + "; changed " +
         std::to_string(stats_.changed) + "; kept by hysteresis " + std::to_string(stats_.kept) +
         "; moved for load " + std::to_string(stats_.moved_for_load) + "; over capacity " +
         std::to_string(stats_.over_capacity) + "; routes per name " +
         std::to_string(stats_.routes) + "; measured blocks " +
         std::to_string(stats_.measured_blocks) + "; map version " + std::to_string(map_.version) +
         "\n";
    std::vector<uint64_t> prefixes(model_.clusters.size(), 0);
    if (!assign_.empty())
        for (const Assignment &a : assign_[0])
            if (a.cluster >= 0) prefixes[a.cluster]++;
    char line[256];
    std::snprintf(line, sizeof line, "%-16s %-10s %-8s %8s %9s %9s %9s %6s %8s  %s\n", "cluster",
                  "kind", "health", "lat", "lon", "cap_gbps", "load_gbps", "load%", "prefixes",
                  "addresses");
    o += line;
    for (std::size_t c = 0; c < model_.clusters.size(); ++c) {
        const Cluster &cl = model_.clusters[c];
        const double load = c < load_.size() ? load_[c] : 0;
        std::string addrs;
        char b[64];
        for (const auto &a : cl.v4) {
            std::snprintf(b, sizeof b, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
            addrs += (addrs.empty() ? "" : ",") + std::string(b);
        }
        for (const auto &a : cl.v6) {
            Prefix p;
            p.family = 2;
            p.len = 128;
            std::memcpy(p.net, a.data(), 16);
            const std::string t = to_string(p);
            addrs += (addrs.empty() ? "" : ",") + t.substr(0, t.size() - 4);
        }
        std::snprintf(line, sizeof line,
                      "%-16s %-10s %-8s %8.3f %9.3f %9.1f %9.3f %6.1f %8llu  %s\n", cl.name.c_str(),
                      kind_name(cl.kind), health_name(cl.health), cl.lat, cl.lon, cl.capacity_gbps,
                      load, 100 * load / cl.capacity_gbps,
                      static_cast<unsigned long long>(prefixes[c]), addrs.c_str());
        o += line;
    }
    if (membership_) {
        o += "membership: " + std::to_string(members_.size()) + " appliances";
        double rep = 0, ext = 0;
        for (double x : reported_) rep += x;
        for (double x : extra_) ext += x;
        if (!reported_.empty())
            o += "; reported load " + fmt("%.3f", rep) + " Gbit/s, " + fmt("%.3f", ext) +
                 " beyond the model's demand (weighed by load-aware)";
        o += "\n";
        std::snprintf(line, sizeof line, "%-16s %-16s %-8s %7s %8s %7s  %s\n", "appliance",
                      "cluster", "health", "conns", "tx_gbps", "titles", "addresses");
        o += line;
        for (const Member &m : members_) {
            std::string addrs;
            char b[64];
            for (const auto &a : m.v4) {
                std::snprintf(b, sizeof b, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
                addrs += (addrs.empty() ? "" : ",") + std::string(b);
            }
            if (!m.v6.empty()) addrs += (addrs.empty() ? "" : ",") + std::to_string(m.v6.size()) + " v6";
            if (cluster_index(m.cluster) < 0) addrs += " (cluster not in the model: steers nothing)";
            std::snprintf(line, sizeof line, "%-16s %-16s %-8s %7llu %8.3f %7llu  %s\n",
                          m.name.c_str(), m.cluster.c_str(), health_name(m.health),
                          static_cast<unsigned long long>(m.conns), m.tx_gbps,
                          static_cast<unsigned long long>(m.titles.size() + m.titles_more),
                          addrs.c_str());
            o += line;
        }
    }
    return o;
}

// Every aggregate of the client network's blocks, per cluster: what the
// next recompute folds (the candidates' rtt_ms/loss% are what the last one
// folded), with where it came from: this appliance's own TCP connections
// (or `measure`) or a member's record in etcd (measurement_share.h).
std::string Engine::measurements_text(int32_t client, double now_s) const {
    struct Row {
        std::string cluster, block, source;
        const Measured *m;
    };
    std::vector<Row> rows;
    measurements_.for_each([&](const Prefix &block, uint16_t c, const Measured &m) {
        if (c >= model_.clusters.size() || world_.index.find(block) != client) return;
        rows.push_back({model_.clusters[c].name, to_string(block),
                        m.source == Measurements::kLocal
                            ? std::string("this appliance")
                            : "member " + measurements_.source_name(m.source),
                        &m});
    });
    if (rows.empty()) return "measurements: none for this network\n";
    std::sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
        return std::tie(a.cluster, a.block, a.source) < std::tie(b.cluster, b.block, b.source);
    });
    std::string o = "measurements (the next recompute's):\n";
    char line[256];
    std::snprintf(line, sizeof line, "    %-16s %-20s %8s %6s %8s %7s  %s\n", "cluster", "block",
                  "rtt_ms", "loss%", "weight", "age_s", "from");
    o += line;
    for (const Row &r : rows) {
        const double age = now_s > r.m->updated_s ? now_s - r.m->updated_s : 0;
        std::snprintf(line, sizeof line, "    %-16s %-20s %8.2f %6.2f %8.2f %7.0f  %s\n",
                      r.cluster.c_str(), r.block.c_str(), r.m->rtt_ms, r.m->loss_pct,
                      measurements_.weight_at(*r.m, now_s), age, r.source.c_str());
        o += line;
    }
    return o;
}

std::string Engine::why(std::string_view address, double now_s) const {
    if (now_s < 0) now_s = last_now_;
    Prefix a;
    std::string err;
    if (!parse_prefix(address, &a, &err)) return "error: " + err + "\n";
    const int32_t i = world_.index.find(a);
    if (i < 0)
        return "error: no client network contains " + std::string(address) +
               ": its queries get the zone's own records (ECS scope 0)\n";
    const ClientNet &cn = model_.clients[static_cast<std::size_t>(i)];
    std::string o =
        "address " + std::string(address) + ": client network " + to_string(cn.prefix) +
        (cn.asn ? " AS" + std::to_string(cn.asn) : "") + " at " + fmt("%.3f", cn.lat) + "," +
        fmt("%.3f", cn.lon) + " (" +
        (cn.source == Source::kCsv ? "csv" : "geolocation database " + std::string(cn.country)) +
        "), demand " + fmt("%.3f", cn.demand_gbps) + " Gbit/s\n";
    o += "policy " + std::string(policy_->name()) + ", recompute " +
         std::to_string(stats_.recomputes) + "\n";
    o += measurements_text(i, now_s);
    if (assign_.empty()) return o + "not decided yet (no recompute)\n";
    for (std::size_t g = 0; g < group_titles_.size(); ++g) {
        std::string owners;
        for (std::size_t n = 0; n < model_.names.size(); ++n)
            if (group_of_name_[n] == g)
                owners += (owners.empty() ? "" : ", ") + model_.names[n].owner;
        if (group_titles_.size() > 1 && owners.empty()) continue;
        const Assignment &as = assign_[g][static_cast<std::size_t>(i)];
        o += (owners.empty() ? std::string("(no steered name)") : owners) +
             (group_titles_[g].empty() ? "" : " title " + group_titles_[g]) + ": ";
        if (as.cluster < 0) {
            o += "no cluster (" + std::string(reason_text(as.reason)) + ")\n";
            continue;
        }
        o += "decided " + model_.clusters[as.cluster].name + " (" + reason_text(as.reason) +
             "), score " + fmt("%.2f", as.score) + " ms\n";
        // The route the DNS answers from for this group's first name, and
        // so the ECS scope (the map's longest match, as the DNS side looks up).
        std::string wire_owner;
        for (std::size_t n = 0; n < model_.names.size() && wire_owner.empty(); ++n) {
            if (group_of_name_[n] != g) continue;
            uint8_t wire[255], lower[255];
            uint32_t len = 0;
            if (dns::name_from_text(model_.names[n].owner.c_str(), wire, &len)) {
                dns::name_lower(wire, lower);
                wire_owner.assign(reinterpret_cast<const char *>(lower), len);
            }
        }
        const dns::SteerMap::Route *hit = nullptr;
        Prefix hit_prefix;
        for (const dns::SteerMap::Route &r : map_.routes) {
            if (r.owner != wire_owner || (hit && r.prefix <= hit->prefix)) continue;
            Prefix rp;
            rp.family = static_cast<uint8_t>(r.family);
            rp.len = r.prefix;
            std::memcpy(rp.net, r.net, 16);
            if (contains(rp, a)) hit = &r, hit_prefix = rp;
        }
        if (hit)
            o += "  route " + to_string(hit_prefix) + " (ECS scope " + std::to_string(hit->prefix) +
                 ")\n";
        if (membership_) {
            // Which appliances of the chosen cluster answer: with the content
            // policy the title's rendezvous placement, else every live one.
            const bool placed = g > 0 && !placed_.empty();
            const std::vector<uint32_t> who =
                placed ? placement(group_titles_[g], as.cluster) : live_members(as.cluster);
            o += placed ? "  appliances for title " + group_titles_[g] +
                              " (rendezvous hashing, replicas " +
                              std::to_string(model_.settings.replicas) + "):"
                        : std::string("  appliances (all live members):");
            if (who.empty()) o += " none";
            for (uint32_t k : who) {
                const Member &m = members_[k];
                o += " " + m.name;
                if (placed)
                    o += member_holds(m, group_titles_[g]) ? " (holds it)"
                                                           : " (should hold it: filled on a miss)";
            }
            o += "\n";
        }
        PolicyInput in{world_, grid_, measured_};
        in.holds = g > 0 ? &holds_[g] : nullptr;
        in.demand_share = 1.0 / static_cast<double>(group_titles_.size());
        Decision d;
        policy_->decide(in, static_cast<uint32_t>(i), &d);
        std::sort(d.c, d.c + d.n,
                  [](const Candidate &x, const Candidate &y) { return x.score < y.score; });
        char line[256];
        std::snprintf(line, sizeof line, "  %-1s %-16s %9s %8s %8s %6s %6s  %s\n", "", "candidate",
                      "score_ms", "geo_ms", "rtt_ms", "loss%", "load%", "notes");
        o += line;
        for (uint32_t k = 0; k < d.n; ++k) {
            const Candidate &c = d.c[k];
            const Cluster &cl = model_.clusters[c.cluster];
            std::string notes;
            notes += c.flags & kMeasuredFlag ? "measured" : "no measurement: geo estimate";
            if (c.flags & kOffsetFlag)
                notes += " + its network's offset " + fmt("%.2f", measured_.offset[i]) + " ms";
            if (c.flags & kDrainingFlag) notes += ", draining";
            if (in.holds)
                notes += c.flags & kHoldsTitle ? ", holds the title" : ", lacks the title";
            const double load = c.cluster < load_.size() ? load_[c.cluster] : 0;
            std::snprintf(line, sizeof line, "  %-1s %-16s %9.2f %8.2f %8s %6s %6.1f  %s\n",
                          c.cluster == as.cluster ? "*" : "", cl.name.c_str(), c.score, c.geo_ms,
                          c.rtt_ms < 0 ? "-" : fmt("%.2f", c.rtt_ms).c_str(),
                          c.rtt_ms < 0 ? "-" : fmt("%.2f", c.loss_pct).c_str(),
                          100 * load / cl.capacity_gbps, notes.c_str());
            o += line;
        }
        // A down cluster is no candidate, so the table above cannot say why
        // a client left it: say it here, and who took it down (etcd: every
        // appliance's lease is gone; or the operator, or the file).
        for (std::size_t c = 0; c < model_.clusters.size(); ++c) {
            if (model_.clusters[c].health != Health::kDown) continue;
            const bool marked =
                c < base_clusters_.size() && base_clusters_[c].health == Health::kDown;
            o += "  left out: " + model_.clusters[c].name + ", down (" +
                 (marked ? "marked down: cluster-health or the file"
                         : "no appliance of it holds a lease in etcd") +
                 ")\n";
        }
    }
    return o;
}

}  // namespace ep::cluster
