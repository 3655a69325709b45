#include "bench/edgebench/http_load.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ep::bench {

namespace {

constexpr uint64_t kNsPerS = 1'000'000'000;
constexpr size_t kMaxMpdBytes = 1 << 20;

uint64_t xorshift(uint64_t &s) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

}  // namespace

const char *err_kind_name(ErrKind k) {
    static constexpr const char *kNames[] = {
#define EB_X(n) #n,
        EB_ERRORS(EB_X)
#undef EB_X
    };
    return static_cast<size_t>(k) < std::size(kNames) ? kNames[static_cast<size_t>(k)] : "?";
}

struct HttpLoad::DashSession {
    std::string mpd_path;
    std::string mpd_text;
    std::optional<DashMpd> mpd;
    const DashAdaptationSet *set = nullptr;
    std::unique_ptr<Player> player;
    size_t init_rep = SIZE_MAX;
    Player::Decision pending;
    uint64_t seg_start_ns = 0;
    uint64_t seg_bytes = 0;
};

HttpLoad::HttpLoad(HttpLoadOptions opt, tcp::Stack &st)
    : opt_(std::move(opt)), st_(st), rng_(opt_.seed * 0x9e3779b97f4a7c15ull | 1) {
    opt_.pipeline = std::clamp<uint32_t>(opt_.pipeline, 1, kMaxPipeline);
    if (opt_.workload == Workload::dash) opt_.pipeline = 1;
    conns_.resize(opt_.conns);
    for (uint32_t i = 0; i < opt_.conns; ++i) {
        conns_[i].slot = i;
        conns_[i].next_url = i;  // spread round-robin starting points
        conns_[i].xx = XXH3_createState();
    }
    if (opt_.workload == Workload::zipf) {
        double sum = 0;
        for (size_t i = 0; i < opt_.urls.size(); ++i) {
            sum += 1.0 / std::pow(static_cast<double>(i + 1), opt_.zipf_alpha);
            zipf_cdf_.push_back(sum);
        }
        for (double &c : zipf_cdf_) c /= sum;
    }
    for (const std::string &u : opt_.urls) {
        auto it = opt_.expected.find(u);
        url_known_.push_back(it != opt_.expected.end());
        url_expect_.push_back(it != opt_.expected.end() ? it->second : 0);
    }
}

HttpLoad::~HttpLoad() {
    for (Conn &c : conns_) XXH3_freeState(c.xx);
}

void HttpLoad::start(uint64_t now_ns) {
    t0_ = last_progress_ = now_ns;
    if (opt_.workload != Workload::dash) sched_.reset(opt_.rate, now_ns);
    rep_.rate = sched_.limited() ? opt_.rate : 0;
    for (Conn &c : conns_) open_conn(c);
}

void HttpLoad::open_conn(Conn &c) {
    c.parser.reset();
    c.qh = c.qn = 0;
    c.server_closes = false;
    c.wake_ns = 0;
    const tcp::ConnId id = st_.connect(tcp::IpAddr::v4(opt_.local_ip),
                                       tcp::IpAddr::v4(opt_.server_ip), opt_.server_port, this);
    if (!id.valid()) {
        ++rep_.errors[static_cast<size_t>(ErrKind::conn_limit)];
        c.st = Conn::St::none;
        return;
    }
    c.id = id;
    c.st = Conn::St::connecting;
    st_.set_user(id, &c);
    ++rep_.connects;
}

HttpLoad::Conn *HttpLoad::conn_of(tcp::ConnId id) {
    return static_cast<Conn *>(st_.user(id));
}

bool HttpLoad::issuing(uint64_t now) const {
    if (phase_ != Phase::running) return false;
    if (opt_.max_requests && issued_ >= opt_.max_requests) return false;
    return now - t0_ < static_cast<uint64_t>(opt_.duration_s * kNsPerS);
}

uint32_t HttpLoad::pick_url(Conn &c) {
    const size_t n = opt_.urls.size();
    if (opt_.workload == Workload::zipf) {
        const double u = static_cast<double>(xorshift(rng_) >> 11) * 0x1.0p-53;
        const auto it = std::lower_bound(zipf_cdf_.begin(), zipf_cdf_.end(), u);
        return static_cast<uint32_t>(std::min<size_t>(it - zipf_cdf_.begin(), n - 1));
    }
    return static_cast<uint32_t>(c.next_url++ % n);
}

bool HttpLoad::send_request(Conn &c, const std::string &path, Pending p) {
    char buf[1024];
    const int len = std::snprintf(buf, sizeof buf, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n",
                                  path.c_str(), opt_.host.c_str());
    if (len <= 0 || static_cast<size_t>(len) >= sizeof buf ||
        st_.send_copy(c.id, reinterpret_cast<const uint8_t *>(buf), static_cast<uint32_t>(len)) !=
            static_cast<uint32_t>(len)) {
        fail(c, ErrKind::send_failed);
        return false;
    }
    if (opt_.verify_every && p.kind != ReqKind::mpd) {
        auto it = opt_.expected.find(path);
        if (it != opt_.expected.end() && verify_tick_++ % opt_.verify_every == 0) {
            p.verify = true;
            p.expect = it->second;
        }
    }
    c.q[(c.qh + c.qn) % kMaxPipeline] = p;
    ++c.qn;
    ++issued_;
    return true;
}

void HttpLoad::fill(Conn &c) {
    if (c.st != Conn::St::open || c.server_closes) return;
    const uint64_t now = st_.now();
    if (opt_.workload == Workload::dash) {
        if (c.qn == 0 && (c.wake_ns == 0 || now >= c.wake_ns)) dash_step(c, now);
        return;
    }
    while (c.qn < opt_.pipeline && issuing(now)) {
        // Open loop: only a due slot is sent, stamped with the time it was
        // due, so time spent waiting for a free connection counts as latency.
        const std::optional<uint64_t> slot = sched_.take(now);
        if (!slot) return;
        const uint32_t u = pick_url(c);
        Pending p;
        p.sent_ns = *slot;
        p.url = u;
        if (!send_request(c, opt_.urls[u], p)) return;
    }
}

void HttpLoad::on_connected(tcp::Stack &, tcp::ConnId id) {
    Conn *c = conn_of(id);
    if (!c) return;
    c->st = Conn::St::open;
    fill(*c);
}

size_t HttpLoad::on_data(tcp::Stack &, tcp::ConnId id, const uint8_t *p, size_t len) {
    Conn *cp = conn_of(id);
    if (!cp || cp->st == Conn::St::none) return len;
    Conn &c = *cp;
    const uint64_t now = st_.now();
    size_t off = 0;
    while (off < len) {
        if (c.qn == 0) {  // bytes nobody asked for
            fail(c, ErrKind::parse);
            return len;
        }
        Pending &pd = c.q[c.qh];
        const bool fresh = c.parser.idle();
        RespStep s = c.parser.feed(p + off, len - off);
        if (fresh && s.consumed) {
            c.body = 0;
            if (pd.verify) XXH3_64bits_reset(c.xx);
        }
        if (s.error != RespError::none) {
            fail(c, ErrKind::parse);
            return len;
        }
        if (s.body_len) {
            c.body += s.body_len;
            if (pd.verify) XXH3_64bits_update(c.xx, s.body, s.body_len);
            if (pd.kind == ReqKind::mpd && c.dash &&
                c.dash->mpd_text.size() + s.body_len <= kMaxMpdBytes)
                c.dash->mpd_text.append(reinterpret_cast<const char *>(s.body), s.body_len);
        }
        off += s.consumed;
        if (s.complete) {
            complete(c, now);
            if (c.st != Conn::St::open && c.st != Conn::St::closing) return len;
        } else if (s.consumed == 0) {
            break;
        }
    }
    return len;
}

void HttpLoad::complete(Conn &c, uint64_t now) {
    const Pending pd = c.q[c.qh];
    c.qh = (c.qh + 1) % kMaxPipeline;
    --c.qn;
    const RespHead &h = c.parser.head();
    const uint64_t body = c.body;
    c.body = 0;
    last_done_ = now;
    ++rep_.requests;
    rep_.body_bytes += body;
    rep_.head_bytes += h.head_len;
    ++rep_.status[h.status];
    rep_.latency->record(now - pd.sent_ns);
    if (h.status >= 500)
        ++rep_.errors[static_cast<size_t>(ErrKind::status_5xx)];
    else if (h.status >= 400)
        ++rep_.errors[static_cast<size_t>(ErrKind::status_4xx)];
    else if (pd.verify) {
        if (XXH3_64bits_digest(c.xx) == pd.expect)
            ++rep_.verified;
        else
            ++rep_.errors[static_cast<size_t>(ErrKind::body_mismatch)];
    }
    if (!h.keep_alive) c.server_closes = true;
    c.parser.reset();
    if (opt_.workload == Workload::dash) dash_response(c, pd, now, body);
    if (c.server_closes) {
        // The server closes after this response: close our side, reopen.
        // Requests pipelined behind it will not be answered; like any client
        // (RFC 9112 §9.3.2) we send them again, on the next connection.
        rep_.retried += c.qn;
        issued_ -= std::min<uint64_t>(issued_, c.qn);
        c.qn = 0;
        c.st = Conn::St::closing;
        st_.close(c.id);
        return;
    }
    fill(c);
}

void HttpLoad::fail(Conn &c, ErrKind k) {
    ++rep_.errors[static_cast<size_t>(k)];
    if (c.dash) finish_session(c, false);
    if (c.st == Conn::St::open || c.st == Conn::St::connecting || c.st == Conn::St::closing) {
        st_.abort(c.id);  // no on_closed follows
    }
    c.st = Conn::St::none;
    c.qn = 0;
    c.retry_ns = st_.now() + 10'000'000;  // 10 ms: no reconnect storm against a refusing server
}

void HttpLoad::on_peer_closed(tcp::Stack &, tcp::ConnId id) {
    Conn *c = conn_of(id);
    if (!c) return;
    RespStep s = c->parser.eof();
    if (s.complete && c->qn > 0) {
        complete(*c, st_.now());
    }
    if (c->qn > 0 && phase_ == Phase::running) {
        fail(*c, ErrKind::closed_early);
        return;
    }
    c->st = Conn::St::closing;
    st_.close(id);
}

void HttpLoad::on_closed(tcp::Stack &, tcp::ConnId id, tcp::CloseReason r) {
    Conn *c = conn_of(id);
    if (!c) return;
    const bool expected = c->st == Conn::St::closing;
    if (!expected && phase_ == Phase::running) {
        switch (r) {
            case tcp::CloseReason::kRefused:
                ++rep_.errors[static_cast<size_t>(ErrKind::connect_refused)];
                break;
            case tcp::CloseReason::kReset:
                ++rep_.errors[static_cast<size_t>(ErrKind::reset)];
                break;
            case tcp::CloseReason::kTimeout:
                ++rep_.errors[static_cast<size_t>(
                    c->st == Conn::St::connecting ? ErrKind::connect_timeout : ErrKind::timeout)];
                break;
            default:
                ++rep_.errors[static_cast<size_t>(ErrKind::closed_early)];
                break;
        }
        if (c->dash) finish_session(*c, false);
        c->retry_ns = st_.now() + 10'000'000;
    }
    c->st = Conn::St::none;
    c->qn = 0;
}

// ---- DASH -----------------------------------------------------------------

void HttpLoad::dash_step(Conn &c, uint64_t now) {
    const double now_s = static_cast<double>(now - t0_) / kNsPerS;
    if (!c.dash) {
        if (!issuing(now) || opt_.urls.empty()) return;
        c.dash = std::make_unique<DashSession>();
        c.dash->mpd_path = opt_.urls[dash_rr_++ % opt_.urls.size()];
        Pending p;
        p.sent_ns = now;
        p.kind = ReqKind::mpd;
        send_request(c, c.dash->mpd_path, p);
        return;
    }
    DashSession &d = *c.dash;
    if (!d.player) return;
    if (!issuing(now)) {  // the run ends: report what was played so far
        finish_session(c, false);
        return;
    }
    Player::Decision dec = d.player->next(now_s);
    if (dec.kind == Player::Decision::done) {
        finish_session(c, true);
        dash_step(c, now);  // the next session on the same connection
        return;
    }
    if (dec.kind == Player::Decision::wait) {
        c.wake_ns = t0_ + static_cast<uint64_t>(dec.until * kNsPerS) + 1;
        return;
    }
    c.wake_ns = 0;
    d.pending = dec;
    const DashRepresentation &r = d.set->reps[dec.rep];
    Pending p;
    p.sent_ns = now;
    d.seg_start_ns = now;
    if (d.init_rep != dec.rep && !r.initialization.empty()) {
        p.kind = ReqKind::init;
        send_request(c, resolve_url(d.mpd_path, expand_template(r.initialization, r, 0)), p);
    } else {
        p.kind = ReqKind::segment;
        send_request(
            c, resolve_url(d.mpd_path, expand_template(r.media, r, r.start_number + dec.segment)),
            p);
    }
}

void HttpLoad::dash_response(Conn &c, const Pending &p, uint64_t now, uint64_t body_bytes) {
    if (!c.dash) return;
    DashSession &d = *c.dash;
    const double now_s = static_cast<double>(now - t0_) / kNsPerS;
    switch (p.kind) {
        case ReqKind::mpd: {
            std::string err;
            d.mpd = parse_mpd(d.mpd_text, &err);
            d.mpd_text.clear();
            d.mpd_text.shrink_to_fit();
            if (!d.mpd || !(d.set = d.mpd->video())) {
                ++rep_.errors[static_cast<size_t>(ErrKind::mpd_invalid)];
                c.dash.reset();
                c.given_up = true;  // don't spin on a bad manifest: this slot stops
                c.st = Conn::St::closing;
                st_.close(c.id);
                return;
            }
            std::vector<uint64_t> ladder;
            for (const auto &r : d.set->reps) ladder.push_back(r.bandwidth);
            const DashRepresentation &r0 = d.set->reps.front();
            d.player = std::make_unique<Player>(
                opt_.abr, ladder,
                static_cast<double>(r0.duration) / static_cast<double>(r0.timescale),
                d.mpd->segment_count(r0));
            d.player->start(now_s);
            d.seg_bytes = 0;
            return;  // fill() → dash_step() asks the player
        }
        case ReqKind::init: {
            d.init_rep = d.pending.rep;
            d.seg_bytes = body_bytes;  // init bytes count towards the segment's download
            const DashRepresentation &r = d.set->reps[d.pending.rep];
            Pending q;
            q.sent_ns = now;
            q.kind = ReqKind::segment;
            // Sent from fill(): queue it now so fill() sees a request in flight.
            send_request(
                c,
                resolve_url(d.mpd_path,
                            expand_template(r.media, r, r.start_number + d.pending.segment)),
                q);
            return;
        }
        case ReqKind::segment: {
            const uint64_t bytes = d.seg_bytes + body_bytes;
            d.seg_bytes = 0;
            d.player->segment_done(now_s, bytes,
                                   static_cast<double>(now - d.seg_start_ns) / kNsPerS);
            return;
        }
        case ReqKind::object:
            return;
    }
}

void HttpLoad::finish_session(Conn &c, bool complete) {
    if (!c.dash) return;
    if (c.dash->player) {
        c.dash->player->advance(static_cast<double>(st_.now() - t0_) / kNsPerS);
        SessionReport s;
        s.mpd = c.dash->mpd_path;
        s.m = c.dash->player->metrics();
        s.complete = complete;
        if (s.m.segments > 0) rep_.sessions.push_back(std::move(s));
    }
    c.dash.reset();
    c.wake_ns = 0;
}

// ---- the run ----------------------------------------------------------------

void HttpLoad::progress(uint64_t now) {
    if (!opt_.progress || now - last_progress_ < kNsPerS) return;
    const double dt = static_cast<double>(now - last_progress_) / kNsPerS;
    uint32_t open = 0;
    for (const Conn &c : conns_) open += c.st == Conn::St::open;
    std::fprintf(
        stderr, "edgebench: %5.1fs %9llu req %9.0f req/s %7.3f Gbit/s conns %u errors %llu\n",
        static_cast<double>(now - t0_) / kNsPerS, static_cast<unsigned long long>(rep_.requests),
        static_cast<double>(rep_.requests - prog_requests_) / dt,
        static_cast<double>(rep_.body_bytes - prog_bytes_) * 8 / dt / 1e9, open,
        static_cast<unsigned long long>(rep_.total_errors()));
    prog_requests_ = rep_.requests;
    prog_bytes_ = rep_.body_bytes;
    last_progress_ = now;
}

bool HttpLoad::poll(uint64_t now) {
    progress(now);
    switch (phase_) {
        case Phase::running:
            // Open loop: start at a rotating connection, so due slots are
            // spread over the connections rather than always taken by the first.
            for (uint32_t k = 0, n = static_cast<uint32_t>(conns_.size()); k < n; ++k) {
                Conn &c = conns_[sched_.limited() ? (rr_ + k) % n : k];
                if (c.st == Conn::St::none) {
                    if (!c.given_up && now >= c.retry_ns && issuing(now)) open_conn(c);
                } else if (c.st == Conn::St::open && c.qn < opt_.pipeline) {
                    if (opt_.workload != Workload::dash || (c.wake_ns && now >= c.wake_ns)) fill(c);
                }
            }
            if (sched_.limited() && !conns_.empty()) rr_ = (rr_ + 1) % conns_.size();
            rep_.scheduled = sched_.limited() ? sched_.taken() : 0;
            rep_.max_backlog = sched_.max_backlog();
            if (!issuing(now)) {
                phase_ = Phase::draining;
                phase_t_ = draining_since_ = now;
            }
            return true;
        case Phase::draining: {
            bool inflight = false;
            for (const Conn &c : conns_) inflight |= c.qn > 0 && c.st == Conn::St::open;
            if (inflight && now - phase_t_ < static_cast<uint64_t>(opt_.drain_s * kNsPerS))
                return true;
            // The window ends with the last response (not the drain wait),
            // unless responses were still missing when the drain ran out.
            // Players keep their sessions open while their buffers drain:
            // a DASH run lasts until issuing stopped, whatever was fetched.
            uint64_t end = (!inflight && last_done_ > t0_) ? last_done_ : now;
            if (opt_.workload == Workload::dash) end = std::max(end, draining_since_);
            rep_.seconds = static_cast<double>(end - t0_) / kNsPerS;
            for (Conn &c : conns_) {
                if (c.dash) finish_session(c, false);
                if (c.st == Conn::St::open || c.st == Conn::St::connecting) {
                    c.st = Conn::St::closing;
                    st_.close(c.id);
                }
            }
            phase_ = Phase::closing;
            phase_t_ = now;
            return true;
        }
        case Phase::closing: {
            bool any = false;
            for (const Conn &c : conns_) any |= c.st != Conn::St::none;
            if (any && now - phase_t_ < kNsPerS) return true;
            abort_all();
            phase_ = Phase::done;
            return false;
        }
        case Phase::done:
            return false;
    }
    return false;
}

void HttpLoad::abort_all() {
    for (Conn &c : conns_) {
        if (c.st != Conn::St::none) st_.abort(c.id);
        c.st = Conn::St::none;
    }
}

}  // namespace ep::bench
