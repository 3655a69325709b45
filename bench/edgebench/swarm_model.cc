#include "bench/edgebench/swarm_model.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "dataplane/swarm/piece_picker.h"

namespace ep::bench {

namespace {

using swarm::BlockReq;
using swarm::ChokePeer;
using swarm::PeerHas;
using swarm::PiecePicker;

constexpr uint32_t kPiece = 256 * 1024;
constexpr double kNs = 1e9;

// Link (a, b): a's side of its connection to b.
struct Link {
    uint32_t peer = 0;        // b
    uint32_t back = 0;        // index of (b, a) in b's links
    ChokePeer cp;             // a's choker view of b (uploaded: a->b, downloaded: b->a)
    uint32_t want = 0;        // pieces b has and a lacks (a interested in b)
    std::vector<BlockReq> q;  // a's requests outstanding to b, in order
    double progress = 0;      // bytes of q.front() received
};

struct Peer {
    bool seed = false, done = false;
    double up = 0, down = 0;
    double down_left = 0;  // download budget this step
    double done_at = 0;
    std::vector<uint8_t> bits;
    std::vector<Link> links;
    std::vector<ChokePeer *> cps;
    std::vector<uint32_t> unchoked;  // links whose cp is unchoked
    PiecePicker picker;
    swarm::Choker choker;
    bool dirty = false, started = false;
    double uploaded = 0;
    bool has(uint32_t p) const { return seed || (bits[p >> 3] & (0x80u >> (p & 7))); }
};

class Sim {
  public:
    explicit Sim(const SwarmSimConfig &c) : cfg_(c), rng_(c.rng) {}
    SwarmSimResult run();

  private:
    void connect();
    void piece_done(uint32_t a, uint32_t p, double t);
    void set_interest(uint32_t a, uint32_t li);
    void run_choker(uint32_t a, double t);
    void deliver(uint32_t b, double t);
    void top_up(uint32_t a, Link &l);
    void drop_queue(uint32_t a, Link &l);

    SwarmSimConfig cfg_;
    std::mt19937_64 rng_;
    std::vector<Peer> peers_;  // 0 = the seed
    uint32_t done_ = 0;
    double dup_bytes_ = 0;
    double idle_none_ = 0, idle_empty_ = 0, cap_ = 0;
    std::vector<BlockReq> scratch_;
};

void Sim::connect() {
    const uint32_t n = cfg_.peers + 1;
    std::vector<std::vector<uint32_t>> adj(n);
    std::vector<uint32_t> others;
    for (uint32_t a = 1; a < n; ++a) {
        // The tracker's reply: a random subset of the others (the seed among them).
        others.clear();
        for (uint32_t b = 0; b < n; ++b)
            if (b != a) others.push_back(b);
        std::shuffle(others.begin(), others.end(), rng_);
        const uint32_t k =
            std::min<uint32_t>(cfg_.neighbours, static_cast<uint32_t>(others.size()));
        for (uint32_t j = 0; j < k; ++j) {
            const uint32_t b = others[j];
            if (std::find(adj[a].begin(), adj[a].end(), b) != adj[a].end()) continue;
            adj[a].push_back(b);
            adj[b].push_back(a);
        }
    }
    for (uint32_t a = 0; a < n; ++a) {
        Peer &p = peers_[a];
        p.links.resize(adj[a].size());
        for (uint32_t i = 0; i < adj[a].size(); ++i) p.links[i].peer = adj[a][i];
    }
    for (uint32_t a = 0; a < n; ++a)
        for (uint32_t i = 0; i < peers_[a].links.size(); ++i) {
            Link &l = peers_[a].links[i];
            auto &bl = peers_[l.peer].links;
            for (uint32_t j = 0; j < bl.size(); ++j)
                if (bl[j].peer == a) l.back = j;
        }
    for (uint32_t a = 0; a < n; ++a) {
        Peer &p = peers_[a];
        for (Link &l : p.links) {
            p.cps.push_back(&l.cp);
            l.q.reserve(cfg_.queue_depth);
        }
    }
    // Availability and interest at the start: only the seed has pieces.
    for (Link &l : peers_[0].links) {
        Peer &b = peers_[l.peer];
        b.picker.add_seed();
        b.links[l.back].want = cfg_.pieces;
        l.cp.interested = true;
    }
}

void Sim::set_interest(uint32_t a, uint32_t li) {
    // b's choker view of a: is a interested in b?
    Link &l = peers_[a].links[li];
    Peer &b = peers_[l.peer];
    const bool want = !peers_[a].done && !peers_[a].seed && l.want > 0;
    ChokePeer &cp = b.links[l.back].cp;
    if (cp.interested != want) {
        cp.interested = want;
        b.dirty = true;
    }
}

void Sim::piece_done(uint32_t a, uint32_t p, double t) {
    Peer &pa = peers_[a];
    pa.bits[p >> 3] |= static_cast<uint8_t>(0x80u >> (p & 7));
    const bool complete = pa.picker.complete();
    if (complete) {
        pa.done = true;
        pa.done_at = t;
        ++done_;
        // A complete leecher seeds (mainline does the same).
        pa.choker.set_mode(cfg_.seed_mode);
        for (Link &l : pa.links) {
            for (const BlockReq &r : l.q) pa.picker.abort_request(r);
            l.q.clear();
            l.progress = 0;
        }
    }
    for (uint32_t i = 0; i < pa.links.size(); ++i) {
        Link &l = pa.links[i];
        Peer &b = peers_[l.peer];
        if (b.has(p)) {
            if (l.want) --l.want;
        } else {
            // b learns of it (have): availability and interest.
            b.picker.add_have(p);
            ++b.links[l.back].want;
            set_interest(l.peer, l.back);
        }
        set_interest(a, i);
    }
}

void Sim::drop_queue(uint32_t a, Link &l) {
    // A choke without BEP 6: every outstanding request is gone.
    for (const BlockReq &r : l.q) peers_[a].picker.abort_request(r);
    l.q.clear();
    l.progress = 0;
}

void Sim::run_choker(uint32_t b, double t) {
    Peer &pb = peers_[b];
    const uint64_t now = static_cast<uint64_t>(t * kNs);
    const uint32_t n = static_cast<uint32_t>(pb.cps.size());
    // tick: a round every 10 s (its first call fills the slots); fill: at
    // once when interest changed (a slot freed, a newcomer interested).
    bool ran = pb.choker.tick(pb.cps.data(), n, now) || !pb.started;
    pb.started = true;
    if (pb.dirty) {
        pb.choker.fill(pb.cps.data(), n, now);
        ran = true;
    }
    pb.dirty = false;
    if (!ran) return;
    // Chokes drop the downloader's requests; rebuild the unchoked list.
    for (uint32_t li : pb.unchoked) {
        Link &l = pb.links[li];
        if (!l.cp.unchoked) drop_queue(l.peer, peers_[l.peer].links[l.back]);
    }
    pb.unchoked.clear();
    for (uint32_t i = 0; i < pb.links.size(); ++i)
        if (pb.links[i].cp.unchoked) pb.unchoked.push_back(i);
}

void Sim::top_up(uint32_t a, Link &l) {
    Peer &pa = peers_[a];
    // Refill at half depth, as FetchSession does (one pick per several blocks).
    if (pa.done || l.want == 0 || l.q.size() > cfg_.queue_depth / 2) return;
    const Peer &pb = peers_[l.peer];
    scratch_.resize(cfg_.queue_depth);
    const uint32_t n = static_cast<uint32_t>(l.q.size());
    const uint32_t got = pa.picker.pick(l.peer, PeerHas{pb.bits.data(), pb.seed}, l.q.data(), n,
                                        scratch_.data(), cfg_.queue_depth - n);
    for (uint32_t k = 0; k < got; ++k) l.q.push_back(scratch_[k]);
}

void Sim::deliver(uint32_t b, double t) {
    Peer &pb = peers_[b];
    // Requests first (the downloader keeps its pipeline full), then the
    // uploader's rate split equally over its unchoked streams that have
    // requests; what a stream cannot take is split again over the others.
    for (uint32_t li : pb.unchoked) {
        Link &l = pb.links[li];
        top_up(l.peer, peers_[l.peer].links[l.back]);
    }
    double budget = pb.up * cfg_.dt;
    if (pb.unchoked.empty()) idle_none_ += budget;
    for (int pass = 0; pass < 3 && budget > 1; ++pass) {
        uint32_t active = 0;
        for (uint32_t li : pb.unchoked) {
            const Link &l = pb.links[li];
            const Peer &pa = peers_[l.peer];
            active += !pa.links[l.back].q.empty() && pa.down_left > 0;
        }
        if (!active) break;
        const double share = budget / active;
        double spent = 0;
        for (uint32_t li : pb.unchoked) {
            Link &lb = pb.links[li];
            const uint32_t a = lb.peer;
            Peer &pa = peers_[a];
            Link &la = pa.links[lb.back];
            double give = std::min(share, pa.down_left);
            while (give > 0 && !la.q.empty()) {
                const BlockReq r = la.q.front();
                const double need = r.length - la.progress;
                const double x = std::min(need, give);
                give -= x;
                spent += x;
                pa.down_left -= x;
                la.progress += x;
                lb.cp.uploaded += static_cast<uint64_t>(x);
                la.cp.downloaded += static_cast<uint64_t>(x);
                pb.uploaded += x;
                if (la.progress < r.length) break;
                // A block arrived.
                la.q.erase(la.q.begin());
                la.progress = 0;
                la.cp.last_piece_ns = static_cast<uint64_t>(t * kNs);
                bool others = false;
                if (pa.picker.claim(r, &others) != PiecePicker::Block::kNew) {
                    pa.picker.abort_request(r);
                    dup_bytes_ += r.length;
                } else {
                    if (others) {
                        // Endgame: cancel the same block on a's other links.
                        for (Link &o : pa.links) {
                            auto it = std::find(o.q.begin(), o.q.end(), r);
                            if (it == o.q.end()) continue;
                            if (it == o.q.begin()) {
                                dup_bytes_ += o.progress;
                                o.progress = 0;
                            }
                            o.q.erase(it);
                            pa.picker.abort_request(r);
                        }
                    }
                    if (pa.picker.received(r)) {
                        pa.picker.passed(r.piece);  // the model has no bytes to hash
                        piece_done(a, r.piece, t);
                    }
                }
                if (pa.done) break;
                top_up(a, la);
            }
        }
        budget -= spent;
        if (spent < 1) break;
    }
    // Unused capacity, by reason (the CSV's idle_none / idle_empty).
    if (!pb.unchoked.empty()) idle_empty_ += budget;
    cap_ += pb.up * cfg_.dt;
}

SwarmSimResult Sim::run() {
    SwarmSimResult res;
    const uint32_t n = cfg_.peers + 1;
    const uint64_t F = uint64_t{cfg_.pieces} * kPiece;
    peers_.resize(n);
    swarm::PickerConfig pc;
    pc.num_pieces = cfg_.pieces;
    pc.piece_length = kPiece;
    pc.total_length = F;
    pc.random_first = cfg_.random_first;
    double sum_u = 0;
    for (uint32_t a = 0; a < n; ++a) {
        Peer &p = peers_[a];
        p.seed = a == 0;
        p.up = a == 0 ? cfg_.seed_bps : cfg_.upload_bps[(a - 1) % cfg_.upload_bps.size()];
        p.down = a == 0 ? 0 : cfg_.download_bps;
        if (a) sum_u += p.up;
        p.bits.assign((cfg_.pieces + 7) / 8, 0);
        if (a) p.picker.init(pc, cfg_.rng * 1000003 + a);
        swarm::ChokerConfig cc;
        cc.mode = a == 0 ? cfg_.seed_mode : swarm::ChokeMode::kLeech;
        p.choker = swarm::Choker(cc, cfg_.rng * 7919 + a);
    }
    connect();
    const double dmin = cfg_.download_bps;
    res.bound = std::max({double(F) / cfg_.seed_bps, double(F) / dmin,
                          double(cfg_.peers) * double(F) / (cfg_.seed_bps + sum_u)});
    res.cs = double(cfg_.peers) * double(F) / cfg_.seed_bps;
    std::vector<uint32_t> order(n);
    for (uint32_t a = 0; a < n; ++a) order[a] = a;
    double t = 0;
    uint64_t step = 0;  // t = step * dt: no error piling up from repeated additions
    for (uint32_t a = 0; a < n; ++a) run_choker(a, 0);
    while (done_ < cfg_.peers) {
        if (t > cfg_.max_time) {
            res.stalled = true;
            break;
        }
        for (Peer &p : peers_) p.down_left = p.down * cfg_.dt;
        // Uploaders in a random order each step: no peer is always served first.
        std::shuffle(order.begin(), order.end(), rng_);
        t = static_cast<double>(++step) * cfg_.dt;
        for (uint32_t b : order) deliver(b, t);
        for (uint32_t a = 0; a < n; ++a) run_choker(a, t);
    }
    double sum = 0;
    for (uint32_t a = 1; a < n; ++a) {
        sum += peers_[a].done_at;
        res.d = std::max(res.d, peers_[a].done_at);
    }
    if (res.stalled) res.d = t;
    res.done = done_;
    res.mean = sum / cfg_.peers;
    res.seed_share = peers_[0].uploaded / (double(cfg_.peers) * double(F));
    res.idle_none = idle_none_ / cap_;
    res.idle_empty = idle_empty_ / cap_;
    res.dup_share = dup_bytes_ / (double(cfg_.peers) * double(F));
    return res;
}

}  // namespace

SwarmSimResult run_swarm_sim(const SwarmSimConfig &cfg) {
    SwarmSimConfig c = cfg;
    if (c.upload_bps.empty()) c.upload_bps.push_back(1048576);
    Sim s(c);
    return s.run();
}

}  // namespace ep::bench
