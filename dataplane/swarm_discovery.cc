// Fill mode, finding peers: see swarm_discovery.h.
#include "dataplane/swarm_discovery.h"

#include <cstdio>
#include <cstring>

#include <rte_byteorder.h>

#include "dataplane/net/byte_order.h"
#include "dataplane/swarm/metainfo.h"
#include "dataplane/tcp_io.h"

namespace ep {

namespace {
constexpr uint32_t kTxCap = 1024, kRxCap = 16384;
constexpr uint64_t kNs = 1'000'000'000ull;
}  // namespace

// ---------------------------------------------------------------- job (control thread)

bool DiscoveryJob::init(const DiscoveryConfig &cfg, const swarm::Sha1 &info_hash,
                        const std::string &name, const std::vector<std::string> &urls,
                        const std::vector<std::pair<uint32_t, uint16_t>> &peers, FetchJob *fetch,
                        std::string *err) {
    cfg_ = cfg;
    info_hash_ = info_hash;
    name_ = name;
    urls_ = urls;
    for (const std::string &u : urls) {
        if (ntrackers_ == kMaxTrackers) break;
        Tracker &t = trackers_[ntrackers_++];
        t.text = u;
        t.usable = swarm::parse_tracker_url(u, &t.url) == swarm::UrlError::ok;
        t.tx.reset(new uint8_t[kTxCap]);
        t.rx.reset(new uint8_t[kRxCap]);
    }
    uint32_t n = 0;
    for (const auto &p : peers) {
        bool dup = false;
        for (uint32_t i = 0; i < n; ++i)
            dup |= found_[i].ip_be == p.first && found_[i].port == p.second;
        if (dup || n == FetchJob::kMaxPeers) continue;
        found_[n].ip_be = p.first;
        found_[n].port = p.second;
        ++n;
    }
    nfound_.store(n, std::memory_order_relaxed);
    fetch_.store(fetch, std::memory_order_relaxed);
    if (!fetch) {  // a magnet: the metadata first
        meta_cfg_ = cfg.meta;
        std::memcpy(meta_cfg_.info_hash, info_hash.data(), 20);
        std::memcpy(meta_cfg_.peer_id, cfg.peer_id, 20);
        meta_buf_.reset(new (std::nothrow) uint8_t[meta_cfg_.max_size]);
        meta_have_.reset(new (std::nothrow)
                             uint8_t[meta_cfg_.max_size / swarm::MetadataConfig::kPiece + 1]);
        if (!meta_buf_ || !meta_have_) {
            *err = "no memory for the metadata buffer";
            return false;
        }
        if (n == 0 && ntrackers_ == 0) {
            *err = "the magnet link names no tracker (tr=) and no peer (x.pe=)";
            return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------- service (lcore)

DiscoveryService::DiscoveryService(const DiscoveryConfig &cfg, uint32_t local_ip_be, bool primary)
    : cfg_(cfg), local_ip_be_(local_ip_be), primary_(primary) {}

bool DiscoveryService::offer(DiscoveryJob *job) {
    if (!primary_) return false;
    DiscoveryJob *expect = nullptr;
    return mailbox_.compare_exchange_strong(expect, job, std::memory_order_release,
                                            std::memory_order_relaxed);
}

DiscoveryService::Ref *DiscoveryService::ref_for(DiscoveryJob &j, uint32_t what) {
    for (uint32_t k = 0; k < kMaxJobs; ++k)
        if (jobs_[k] == &j) return &refs_[k][what];
    return nullptr;
}

void DiscoveryService::poll(const Clock &clk) {
    now_ns_ = clk.now_ns;
    stack_->set_time(now_ns_);
    if (mailbox_.load(std::memory_order_relaxed)) {
        for (uint32_t k = 0; k < kMaxJobs; ++k) {
            if (jobs_[k]) continue;
            DiscoveryJob *j = mailbox_.exchange(nullptr, std::memory_order_acquire);
            jobs_[k] = j;
            for (uint32_t w = 0; w <= kMeta; ++w) refs_[k][w] = {j, w};
            start(*j);
            break;
        }
    }
    for (uint32_t k = 0; k < kMaxJobs; ++k)
        if (jobs_[k]) run(*jobs_[k]);
}

void DiscoveryService::start(DiscoveryJob &j) {
    ++ctr_.discover_jobs;
    for (uint32_t t = 0; t < j.ntrackers_; ++t) {
        DiscoveryJob::Tracker &tr = j.trackers_[t];
        if (!tr.usable)
            ++ctr_.announce_bad_url;
        else if (tr.url.udp && !io_)
            ++ctr_.announce_udp_skipped;
    }
    ctr_.peers_new += j.nfound_.load(std::memory_order_relaxed);
    if (j.fetch_.load(std::memory_order_acquire)) {
        j.phase_.store(DiscoveryJob::Phase::kFetching, std::memory_order_release);
    } else {
        j.session_.init(&j.meta_cfg_, &mctr_, j.meta_buf_.get(), j.meta_have_.get());
        j.phase_.store(DiscoveryJob::Phase::kMetadata, std::memory_order_release);
    }
}

void DiscoveryService::run(DiscoveryJob &j) {
    FetchJob *f = j.fetch_.load(std::memory_order_acquire);
    if (f && f != j.seen_fetch_) {
        // The fetch knows the peers it was built with; later ones go through
        // add_found. Give it any found since (add_peer ignores duplicates).
        j.seen_fetch_ = f;
        const uint32_t n = j.nfound_.load(std::memory_order_relaxed);
        for (uint32_t i = 0; i < n; ++i) f->add_peer(j.found_[i].ip_be, j.found_[i].port);
        if (j.phase() != DiscoveryJob::Phase::kFetching)
            j.phase_.store(DiscoveryJob::Phase::kFetching, std::memory_order_release);
    }
    const bool complete = f && f->phase() == FetchJob::Phase::kComplete;
    for (uint32_t t = 0; t < j.ntrackers_; ++t) {
        DiscoveryJob::Tracker &tr = j.trackers_[t];
        if (!tr.usable) continue;
        if (tr.url.udp) {
            if (io_) {
                if (complete && tr.started_sent && !tr.completed_sent && tr.udp_state == 0)
                    tr.next_ns = 0;
                udp_run(j, t);
            }
            continue;
        }
        if (tr.open) {
            if (now_ns_ > tr.deadline_ns) {  // a tracker that never finishes its answer
                ++ctr_.announce_timeouts;
                tr.failed.fetch_add(1, std::memory_order_relaxed);
                stack_->set_user(tr.conn, nullptr);
                stack_->abort(tr.conn);
                tr.open = false;
                tr.next_ns = now_ns_ + uint64_t{cfg_.retry_s} * kNs;
            }
            continue;
        }
        // BEP 3: "completed" once, when the download finishes: at once.
        if (complete && tr.started_sent && !tr.completed_sent) tr.next_ns = 0;
        if (now_ns_ >= tr.next_ns) announce(j, t);
    }
    if (j.phase() == DiscoveryJob::Phase::kMetadata) {
        if (!j.meta_open_) {
            if (now_ns_ >= j.meta_retry_ns_) dial_meta(j);
        } else {
            j.session_.tick(now_ns_);
            after_meta(j);
        }
    }
}

swarm::AnnounceParams DiscoveryService::params(DiscoveryJob &j, uint32_t t) {
    DiscoveryJob::Tracker &tr = j.trackers_[t];
    FetchJob *f = j.fetch_.load(std::memory_order_acquire);
    swarm::AnnounceParams p;
    std::memcpy(p.info_hash, j.info_hash_.data(), 20);
    std::memcpy(p.peer_id, cfg_.peer_id, 20);
    p.port = cfg_.listen_port;
    p.numwant = cfg_.numwant;
    if (f) {
        const uint64_t total = uint64_t{f->pieces()} * swarm::kPieceLength;
        const uint64_t have = uint64_t{f->pieces_stored()} * swarm::kPieceLength;
        p.left = f->phase() == FetchJob::Phase::kComplete ? 0 : total - have;
        p.downloaded = have;
    } else {
        p.left = swarm::MetadataConfig::kPiece;  // size unknown before the metadata (as libtorrent)
    }
    if (!tr.started_sent)
        p.event = swarm::AnnounceEvent::kStarted;
    else if (f && f->phase() == FetchJob::Phase::kComplete && !tr.completed_sent)
        p.event = swarm::AnnounceEvent::kCompleted;
    p.key = rte_be_to_cpu_32(local_ip_be_) ^ (uint32_t{j.info_hash_[0]} << 24 | j.info_hash_[1]);
    tr.in_flight = p.event;
    return p;
}

void DiscoveryService::announce(DiscoveryJob &j, uint32_t t) {
    DiscoveryJob::Tracker &tr = j.trackers_[t];
    tr.next_ns = now_ns_ + uint64_t{cfg_.retry_s} * kNs;  // until an answer says otherwise
    const swarm::AnnounceParams p = params(j, t);
    const size_t n =
        swarm::build_http_announce(reinterpret_cast<char *>(tr.tx.get()), kTxCap, tr.url, p);
    if (n == 0) {
        ++ctr_.announce_bad_url;  // a path too long for a request
        tr.usable = false;
        return;
    }
    const tcp::ConnId id =
        stack_->connect(tcp::IpAddr::v4(rte_be_to_cpu_32(local_ip_be_)),
                        tcp::IpAddr::v4(rte_be_to_cpu_32(tr.url.ip_be)), tr.url.port, this);
    if (!id.valid()) {
        ++ctr_.announce_connect_failures;
        tr.failed.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    stack_->set_user(id, ref_for(j, t));
    tr.conn = id;
    tr.open = true;
    tr.answered = false;
    tr.tx_len = static_cast<uint32_t>(n);
    tr.tx_off = 0;
    tr.rx_len = 0;
    tr.deadline_ns = now_ns_ + cfg_.exchange_timeout_ns;
}

void DiscoveryService::send_tracker(DiscoveryJob &j, uint32_t t) {
    DiscoveryJob::Tracker &tr = j.trackers_[t];
    while (tr.open && tr.tx_off < tr.tx_len) {
        const uint32_t sent =
            stack_->send_copy(tr.conn, tr.tx.get() + tr.tx_off, tr.tx_len - tr.tx_off);
        if (sent == 0) break;  // on_writable resumes
        tr.tx_off += sent;
    }
}

// The reply so far; `eof`: the tracker closed. Handles it once it is whole
// (or can never be), then the connection is closed.
void DiscoveryService::tracker_done(DiscoveryJob &j, uint32_t t, bool eof) {
    DiscoveryJob::Tracker &tr = j.trackers_[t];
    if (tr.answered) return;
    swarm::AnnounceReply rep;
    swarm::ReplyError e = tr.rx_len == kRxCap && !eof
                              ? swarm::ReplyError::reply_head  // too long for what a tracker says
                              : swarm::parse_http_announce_reply(tr.rx.get(), tr.rx_len, eof, &rep);
    if (e == swarm::ReplyError::need_more) return;
    tr.answered = true;
    handle_reply(j, t, e, rep);
}

// One tracker's answer (HTTP or UDP): peers, the next announce's time.
void DiscoveryService::handle_reply(DiscoveryJob &j, uint32_t t, swarm::ReplyError e,
                                    const swarm::AnnounceReply &rep) {
    DiscoveryJob::Tracker &tr = j.trackers_[t];
    ++ctr_.reply_errors[static_cast<unsigned>(e)];
    if (e != swarm::ReplyError::ok) {
        tr.failed.fetch_add(1, std::memory_order_relaxed);
        tr.next_ns = now_ns_ + uint64_t{cfg_.retry_s} * kNs;
        return;
    }
    ++ctr_.announces_ok;
    tr.ok.fetch_add(1, std::memory_order_relaxed);
    if (tr.in_flight == swarm::AnnounceEvent::kStarted) {
        tr.started_sent = true;
        ++ctr_.announces_started;
    } else if (tr.in_flight == swarm::AnnounceEvent::kCompleted) {
        tr.completed_sent = true;
        ++ctr_.announces_completed;
    }
    uint32_t iv = rep.interval > rep.min_interval ? rep.interval : rep.min_interval;
    if (iv < cfg_.min_interval_s) iv = cfg_.min_interval_s;
    tr.next_ns = now_ns_ + uint64_t{iv} * kNs;
    ctr_.tracker_peers += rep.npeers;
    for (uint32_t i = 0; i < rep.npeers; ++i) add_found(j, rep.peers[i].ip_be, rep.peers[i].port);
}

// ---- UDP trackers (BEP 15)

void DiscoveryService::udp_run(DiscoveryJob &j, uint32_t t) {
    DiscoveryJob::Tracker &tr = j.trackers_[t];
    constexpr uint64_t kResendNs = 5 * kNs;
    if (tr.udp_state != 0) {
        if (now_ns_ - tr.sent_ns < kResendNs) return;
        if (++tr.udp_tries >= 3) {  // three requests unanswered: later
            ++ctr_.announce_timeouts;
            tr.failed.fetch_add(1, std::memory_order_relaxed);
            tr.udp_state = 0;
            tr.next_ns = now_ns_ + uint64_t{cfg_.retry_s} * kNs;
            return;
        }
        udp_send(j, t);
        return;
    }
    if (now_ns_ < tr.next_ns) return;
    tr.next_ns = now_ns_ + uint64_t{cfg_.retry_s} * kNs;  // until an answer says otherwise
    tr.udp_tries = 0;
    // BEP 15: a connection ID is good for one minute (we use it for 50 s).
    const bool have_id = tr.conn_id_ns && now_ns_ - tr.conn_id_ns < 50 * kNs;
    tr.udp_state = have_id ? 2 : 1;
    udp_send(j, t);
}

void DiscoveryService::udp_send(DiscoveryJob &j, uint32_t t) {
    DiscoveryJob::Tracker &tr = j.trackers_[t];
    tr.txid = static_cast<uint32_t>(now_ns_ >> 10) ^ (++txid_seq_ * 0x9e3779b9u);
    size_t n;
    if (tr.udp_state == 1) {
        n = swarm::build_udp_connect(tr.tx.get(), tr.txid);
    } else {
        const swarm::AnnounceParams p = params(j, t);
        n = swarm::build_udp_announce(tr.tx.get(), tr.conn_id, tr.txid, p);
    }
    tr.sent_ns = now_ns_;
    if (!io_->send_udp(tr.url.ip_be, kUdpClientPort, tr.url.port, tr.tx.get(),
                       static_cast<uint16_t>(n))) {
        // ARP not answered yet (or no mbuf: drop udp_mbuf_exhausted): again
        // in 200 ms, not a try.
        ++ctr_.udp_no_route;
        tr.sent_ns = now_ns_ - 5 * kNs + 200'000'000ull;
        return;
    }
    ++ctr_.udp_requests_sent;
}

int DiscoveryService::on_datagram(net::udp::Datagram &d) {
    for (uint32_t k = 0; k < kMaxJobs; ++k) {
        DiscoveryJob *j = jobs_[k];
        if (!j) continue;
        for (uint32_t t = 0; t < j->ntrackers_; ++t) {
            DiscoveryJob::Tracker &tr = j->trackers_[t];
            if (!tr.url.udp || tr.udp_state == 0 || tr.url.ip_be != d.src_ip ||
                tr.url.port != d.src_port || d.len < 8)
                continue;
            const uint32_t txid = net::get32(d.payload + 4);
            if (txid != tr.txid) continue;
            swarm::AnnounceReply rep;
            if (tr.udp_state == 1) {
                uint64_t cid = 0;
                const swarm::ReplyError e =
                    swarm::parse_udp_connect_reply(d.payload, d.len, tr.txid, &cid, &rep);
                if (e != swarm::ReplyError::ok) {
                    tr.udp_state = 0;
                    handle_reply(*j, t, e, rep);
                    return -1;
                }
                tr.conn_id = cid;
                tr.conn_id_ns = now_ns_;
                tr.udp_state = 2;
                tr.udp_tries = 0;
                udp_send(*j, t);
                return -1;
            }
            const swarm::ReplyError e =
                swarm::parse_udp_announce_reply(d.payload, d.len, tr.txid, &rep);
            tr.udp_state = 0;
            handle_reply(*j, t, e, rep);
            return -1;
        }
    }
    ++ctr_.udp_replies_stray;
    return -1;  // never answered: the client port only takes replies
}

void DiscoveryService::add_found(DiscoveryJob &j, uint32_t ip_be, uint16_t port) {
    if (ip_be == local_ip_be_ && port == cfg_.listen_port) return;  // the tracker lists us too
    const uint32_t n = j.nfound_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < n; ++i)
        if (j.found_[i].ip_be == ip_be && j.found_[i].port == port) return;
    if (n == FetchJob::kMaxPeers) {
        ++ctr_.peers_over_limit;
        return;
    }
    j.found_[n] = {ip_be, port, false, false};
    j.nfound_.store(n + 1, std::memory_order_release);
    ++ctr_.peers_new;
    if (j.seen_fetch_) j.seen_fetch_->add_peer(ip_be, port);
}

void DiscoveryService::dial_meta(DiscoveryJob &j) {
    const uint32_t n = j.nfound_.load(std::memory_order_relaxed);
    uint32_t pick = n;
    for (uint32_t i = 0; i < n && pick == n; ++i)
        if (!j.found_[i].meta_tried && !j.found_[i].meta_bad) pick = i;
    if (pick == n) {
        // Every peer tried: again in 5 s, all but those that sent bad metadata.
        for (uint32_t i = 0; i < n; ++i) j.found_[i].meta_tried = false;
        j.meta_retry_ns_ = now_ns_ + 5 * kNs;
        return;
    }
    DiscoveryJob::Found &p = j.found_[pick];
    p.meta_tried = true;
    const tcp::ConnId id =
        stack_->connect(tcp::IpAddr::v4(rte_be_to_cpu_32(local_ip_be_)),
                        tcp::IpAddr::v4(rte_be_to_cpu_32(p.ip_be)), p.port, this);
    if (!id.valid()) {
        ++ctr_.meta_connect_failures;
        return;
    }
    ++ctr_.meta_connects;
    stack_->set_user(id, ref_for(j, kMeta));
    j.session_.init(&j.meta_cfg_, &mctr_, j.meta_buf_.get(), j.meta_have_.get());
    j.meta_conn_ = id;
    j.meta_open_ = true;
    j.meta_peer_ = pick;
}

void DiscoveryService::after_meta(DiscoveryJob &j) {
    while (j.meta_open_ && j.session_.has_output()) {
        const uint8_t *p = nullptr;
        const uint32_t n = j.session_.output(&p);
        const uint32_t sent = stack_->send_copy(j.meta_conn_, p, n);
        j.session_.consume(sent);
        if (sent < n) break;
    }
    if (!j.meta_open_) return;
    if (j.session_.done()) {
        // Verified against the info hash: the control thread builds the
        // torrent from it (fetch_tick) and attaches the FetchJob.
        stack_->set_user(j.meta_conn_, nullptr);
        stack_->close(j.meta_conn_);
        j.meta_open_ = false;
        j.phase_.store(DiscoveryJob::Phase::kMetadataDone, std::memory_order_release);
    } else if (j.session_.failed()) {
        if (j.session_.hash_mismatch()) j.found_[j.meta_peer_].meta_bad = true;  // never again
        stack_->set_user(j.meta_conn_, nullptr);
        stack_->abort(j.meta_conn_);
        j.meta_open_ = false;
    }
}

void DiscoveryService::on_connected(tcp::Stack &, tcp::ConnId id) {
    Ref *r = static_cast<Ref *>(stack_->user(id));
    if (!r || !r->job) return;
    if (r->what == kMeta) {
        r->job->session_.start(now_ns_);
        after_meta(*r->job);
    } else {
        ++ctr_.announces_sent;
        send_tracker(*r->job, r->what);
    }
}

size_t DiscoveryService::on_data(tcp::Stack &, tcp::ConnId id, const uint8_t *data, size_t len) {
    Ref *r = static_cast<Ref *>(stack_->user(id));
    if (!r || !r->job) return len;
    DiscoveryJob &j = *r->job;
    if (r->what == kMeta) {
        j.session_.feed(data, len, now_ns_);
        after_meta(j);
        return len;
    }
    DiscoveryJob::Tracker &tr = j.trackers_[r->what];
    const uint32_t room = kRxCap - tr.rx_len;
    const uint32_t take = len < room ? static_cast<uint32_t>(len) : room;
    std::memcpy(tr.rx.get() + tr.rx_len, data, take);
    tr.rx_len += take;
    tracker_done(j, r->what, false);
    if (tr.answered) stack_->close(id);
    return len;
}

void DiscoveryService::on_writable(tcp::Stack &, tcp::ConnId id) {
    Ref *r = static_cast<Ref *>(stack_->user(id));
    if (!r || !r->job) return;
    if (r->what == kMeta)
        after_meta(*r->job);
    else
        send_tracker(*r->job, r->what);
}

void DiscoveryService::on_peer_closed(tcp::Stack &, tcp::ConnId id) {
    Ref *r = static_cast<Ref *>(stack_->user(id));
    if (r && r->job && r->what != kMeta) tracker_done(*r->job, r->what, true);
    stack_->close(id);  // on_closed follows
}

void DiscoveryService::on_closed(tcp::Stack &, tcp::ConnId id, tcp::CloseReason why) {
    Ref *r = static_cast<Ref *>(stack_->user(id));
    if (!r || !r->job) return;
    DiscoveryJob &j = *r->job;
    if (r->what == kMeta) {
        if (j.meta_open_) ++ctr_.meta_connect_failures;  // closed before the metadata
        j.meta_open_ = false;
        return;
    }
    DiscoveryJob::Tracker &tr = j.trackers_[r->what];
    if (!tr.answered) {
        if (why == tcp::CloseReason::kRefused || why == tcp::CloseReason::kTimeout) {
            ++ctr_.announce_connect_failures;
            tr.failed.fetch_add(1, std::memory_order_relaxed);
            tr.next_ns = now_ns_ + uint64_t{cfg_.retry_s} * kNs;
            tr.answered = true;
        } else {
            tracker_done(j, r->what, true);
        }
    }
    tr.open = false;
}

void DiscoveryService::visit_counters(const CounterVisitor &fn) const {
#define EP_X(n, h) fn({#n, h, __atomic_load_n(&ctr_.n, __ATOMIC_RELAXED)});
    EP_SWARM_DISCOVERY_COUNTERS(EP_X)
#undef EP_X
#define EP_X(n, h)                                                                       \
    fn({"tracker_" #n, h,                                                                \
        __atomic_load_n(&ctr_.reply_errors[static_cast<unsigned>(swarm::ReplyError::n)], \
                        __ATOMIC_RELAXED)});
    EP_TRACKER_REPLY_ERRORS(EP_X)
#undef EP_X
#define EP_X(n, h) fn({#n, h, __atomic_load_n(&mctr_.n, __ATOMIC_RELAXED)});
    EP_METADATA_COUNTERS(EP_X)
#undef EP_X
}

}  // namespace ep
