// Fill mode glue (docs/swarm.md "Fill mode"): see swarm_fetch.h.
#include "dataplane/swarm_fetch.h"

#include <cstdio>
#include <cstring>

#include <rte_byteorder.h>

#include "dataplane/swarm/metainfo.h"

namespace ep {

namespace {
constexpr uint8_t kNone = 0, kReady = 1, kPosted = 2, kStored = 3;
constexpr uint64_t kSettleEveryNs = 1'000'000;  // posted pieces are checked each 1 ms
constexpr uint64_t kSweepNs = 100'000'000;      // the upload stream's pins and waits
constexpr uint64_t kWatermarkMin = 16 * 1024, kWatermarkMax = 512 * 1024;  // send queue, uploads
}  // namespace

// ---------------------------------------------------------------- job (control thread)

bool FetchJob::init(const FetchServiceConfig &cfg, const std::string &name, uint64_t length,
                    const std::string &piece_hashes, const swarm::Sha1 &info_hash,
                    chunkstore::ObjectId oid, uint64_t generation,
                    const std::vector<std::pair<uint32_t, uint16_t>> &peers, FetchService *svc,
                    std::string *err) {
    // No peers is fine when trackers will name them (add_peer).
    if (peers.size() > kMaxPeers) {
        *err = "at most " + std::to_string(kMaxPeers) + " peers";
        return false;
    }
    cfg_ = cfg;
    svc_ = svc;
    name_ = name;
    info_hash_ = info_hash;
    oid_ = oid;
    gen_ = generation;
    length_ = length;
    hashes_ = piece_hashes;
    npieces_ = static_cast<uint32_t>(hashes_.size() / 20);
    // The object whole: piece i is staged at i * 256 KiB until the control
    // thread copied it into its chunk slot. A bounded pool of piece buffers
    // would do for large torrents (docs/swarm.md "Not yet").
    staging_.reset(new (std::nothrow) uint8_t[uint64_t{npieces_} * swarm::kPieceLength]);
    msgs_.reset(new chunkstore::Store::FillMsg[npieces_]);
    pstate_.reset(new uint8_t[npieces_]());
    if (!staging_) {
        *err = "no memory for a staging buffer of " + std::to_string(length) + " bytes";
        return false;
    }
    for (uint32_t i = 0; i < npieces_; ++i)
        msgs_[i].state.store(chunkstore::Store::FillMsg::kDone, std::memory_order_relaxed);
    swarm::FetchTorrentConfig tc;
    tc.picker.num_pieces = npieces_;
    tc.picker.piece_length = swarm::kPieceLength;
    tc.picker.total_length = length;
    tc.piece_hashes = reinterpret_cast<const uint8_t *>(hashes_.data());
    std::memcpy(tc.info_hash, info_hash.data(), 20);
    // Every slot is ready: add_peer fills the dialled ones later, peers
    // that dial us take the accepted ones (kMaxPeers and up).
    tc.max_slots = kMaxSlots;
    tc.ban_after = cfg.ban_after;
    if (!torrent_.init(tc, this, svc->session_counters(), oid ^ generation)) {
        *err = "the torrent's layout does not fit the piece picker";
        return false;
    }
    npeers_.store(static_cast<uint32_t>(peers.size()), std::memory_order_relaxed);
    choker_ = swarm::Choker(cfg.choker, oid * 0x9E3779B97F4A7C15ull + generation);
    conns_.reset(new Conn[kMaxSlots]);
    for (uint32_t s = 0; s < kMaxSlots; ++s) {
        if (s < peers.size()) {
            peers_[s].ip_be.store(peers[s].first, std::memory_order_relaxed);
            peers_[s].port.store(peers[s].second, std::memory_order_relaxed);
        }
        Conn &c = conns_[s];
        c.job = this;
        c.slot = s;
        c.bits.reset(new uint8_t[(npieces_ + 7) / 8 + 1]());
        c.out.reset(new swarm::BlockReq[cfg_.session.queue_depth]);
        if (!c.session.init(&cfg_.session, &torrent_, s, c.bits.get(), c.out.get())) {
            *err = "fetch session init failed";
            return false;
        }
    }
    return true;
}

bool FetchJob::add_peer(uint32_t ip_be, uint16_t port) {
    const uint32_t n = npeers_.load(std::memory_order_relaxed);
    for (uint32_t s = 0; s < n; ++s)
        if (peers_[s].ip_be.load(std::memory_order_relaxed) == ip_be &&
            peers_[s].port.load(std::memory_order_relaxed) == port)
            return false;
    if (n == kMaxPeers || phase() > Phase::kRunning) return false;
    peers_[n].ip_be.store(ip_be, std::memory_order_relaxed);
    peers_[n].port.store(port, std::memory_order_relaxed);
    npeers_.store(n + 1, std::memory_order_release);  // the control thread reads the slot after
    return true;
}

// ---------------------------------------------------------------- sink (lcore)

uint8_t *FetchJob::piece_buffer(uint32_t piece) {
    return piece < npieces_ ? &staging_[uint64_t{piece} * swarm::kPieceLength] : nullptr;
}

// SHA-1 matched (FetchTorrent::verify): only now may the piece become a chunk.
void FetchJob::piece_done(uint32_t piece) {
    ++svc_->ctr_.fetch_pieces_verified;
    if (piece < npieces_ && pstate_[piece] == kNone) {
        pstate_[piece] = kReady;
        ++ready_;
    }
}
// (The piece is held, advertised and uploaded once the store published it:
// settle() calls FetchTorrent::mark_held.)

void FetchJob::piece_bad(uint32_t) {
    ++svc_->ctr_.fetch_pieces_bad;
}

// ---------------------------------------------------------------- service (lcore)

FetchService::FetchService(const FetchServiceConfig &cfg, uint32_t local_ip_be)
    : cfg_(cfg), local_ip_be_(local_ip_be) {}

FetchService::~FetchService() = default;

bool FetchService::init(tcp::Stack *stack, chunkstore::Store *store, uint32_t reader_id,
                        bool primary, AccessSink *access) {
    stack_ = stack;
    store_ = store;
    tid_ = reader_id;
    if (!primary) return true;  // offered no jobs: shows its (zero) counters only
    channel_ = store ? store->add_fill_channel() : UINT32_MAX;
    if (channel_ == UINT32_MAX) return false;
    return stream_.init(stack, store, reader_id, kMaxJobs * FetchJob::kMaxSlots, cfg_.stream, this,
                        access);
}

bool FetchService::offer(FetchJob *job) {
    if (!primary()) return false;
    FetchJob *expect = nullptr;
    return mailbox_.compare_exchange_strong(expect, job, std::memory_order_release,
                                            std::memory_order_relaxed);
}

FetchService::Ref *FetchService::ref_of(tcp::ConnId c) const {
    return static_cast<Ref *>(stack_->user(c));
}

void FetchService::poll(const Clock &clk) {
    now_ns_ = clk.now_ns;
    stack_->set_time(now_ns_);
    if (mailbox_.load(std::memory_order_relaxed)) {
        for (uint32_t k = 0; k < kMaxJobs; ++k) {
            if (jobs_[k]) continue;
            FetchJob *j = mailbox_.exchange(nullptr, std::memory_order_acquire);
            jobs_[k] = j;
            for (uint32_t s = 0; s < FetchJob::kMaxSlots; ++s) refs_[k][s] = {j, s};
            j->phase_.store(FetchJob::Phase::kRunning, std::memory_order_release);
            ++ctr_.fetch_jobs_started;
            break;
        }
    }
    if (primary()) stream_.poll(now_ns_);  // settled promotions wake their connections
    const bool sweep = now_ns_ >= next_sweep_ns_;
    if (sweep) next_sweep_ns_ = now_ns_ + kSweepNs;
    const bool woken = woken_;
    woken_ = false;
    for (uint32_t k = 0; k < kMaxJobs; ++k) {
        if (!jobs_[k]) continue;
        FetchJob &j = *jobs_[k];
        for (uint32_t s = 0; s < j.nslots(); ++s) {
            FetchJob::Conn &c = j.conns_[s];
            if (!c.open) continue;
            if (sweep) stream_.settle(c);
            if (woken && c.wake) {
                c.wake = false;
                pump(j, s);
            }
        }
        run(j);
        if (j.phase() != FetchJob::Phase::kRunning) jobs_[k] = nullptr;
    }
    if (sweep && primary()) stream_.sweep(now_ns_);
}

void FetchService::run(FetchJob &j) {
    for (uint32_t s = 0; s < j.nslots(); ++s) {
        FetchJob::Conn &c = j.conns_[s];
        const auto st =
            static_cast<FetchJob::PeerState>(j.peers_[s].state.load(std::memory_order_relaxed));
        if (!c.open) {
            // Accepted slots (s >= kMaxPeers) are not dialled: the peer came to us.
            if (s < j.npeers() && st != FetchJob::PeerState::kBanned && now_ns_ >= c.retry_ns)
                dial(j, s);
            continue;
        }
        if (!c.session.closed()) {
            c.session.tick(now_ns_);
            after_input(j, s);
        }
    }
    run_choker(j);
    settle(j);
    if (j.stored_.load(std::memory_order_relaxed) == j.npieces_) finish(j);
}

void FetchService::dial(FetchJob &j, uint32_t slot) {
    FetchJob::Conn &c = j.conns_[slot];
    FetchJob::Peer &p = j.peers_[slot];
    c.retry_ns = now_ns_ + cfg_.reconnect_ms * 1'000'000;
    const tcp::ConnId id =
        stack_->connect(tcp::IpAddr::v4(rte_be_to_cpu_32(local_ip_be_)),
                        tcp::IpAddr::v4(rte_be_to_cpu_32(p.ip_be.load(std::memory_order_relaxed))),
                        p.port.load(std::memory_order_relaxed), this);
    if (!id.valid()) {
        ++ctr_.fetch_connect_failures;
        return;
    }
    uint32_t k = 0;
    while (k < kMaxJobs && jobs_[k] != &j) ++k;
    stack_->set_user(id, &refs_[k][slot]);
    c.conn = id;
    c.open = true;
    p.state.store(static_cast<uint8_t>(FetchJob::PeerState::kConnecting),
                  std::memory_order_relaxed);
    p.connects.fetch_add(1, std::memory_order_relaxed);
    ++ctr_.fetch_connects;
}

void FetchService::on_connected(tcp::Stack &, tcp::ConnId id) {
    Ref *r = ref_of(id);
    if (!r || !r->job) return;
    FetchJob &j = *r->job;
    FetchJob::Conn &c = j.conns_[r->slot];
    j.peers_[r->slot].state.store(static_cast<uint8_t>(FetchJob::PeerState::kActive),
                                  std::memory_order_relaxed);
    c.counted_down = 0;
    c.up_on = false;
    c.up_mark = 0;
    c.seen_interest = false;
    stream_.attach(c, id);
    c.session.start(now_ns_);  // BEP 3: we connected, our handshake goes first
    after_input(j, r->slot);
}

size_t FetchService::on_data(tcp::Stack &, tcp::ConnId id, const uint8_t *data, size_t len) {
    Ref *r = ref_of(id);
    if (!r || !r->job) return len;
    FetchJob &j = *r->job;
    FetchJob::Conn &c = j.conns_[r->slot];
    if (c.session.closed()) return len;
    const size_t used = c.session.feed(data, len, now_ns_);
    after_input(j, r->slot);
    return c.session.closed() ? len : used;
}

void FetchService::on_writable(tcp::Stack &, tcp::ConnId id) {
    if (Ref *r = ref_of(id); r && r->job) pump(*r->job, r->slot);
}

void FetchService::on_peer_closed(tcp::Stack &, tcp::ConnId id) {
    Ref *r = ref_of(id);
    if (!r || !r->job) return;
    FetchJob::Conn &c = r->job->conns_[r->slot];
    c.session.close();  // what it held goes back to the picker
    stack_->close(id);  // on_closed follows
}

void FetchService::on_closed(tcp::Stack &, tcp::ConnId id, tcp::CloseReason why) {
    Ref *r = ref_of(id);
    if (!r || !r->job) return;
    FetchJob &j = *r->job;
    FetchJob::Conn &c = j.conns_[r->slot];
    FetchJob::Peer &p = j.peers_[r->slot];
    const auto st = static_cast<FetchJob::PeerState>(p.state.load(std::memory_order_relaxed));
    if (st == FetchJob::PeerState::kConnecting &&
        (why == tcp::CloseReason::kRefused || why == tcp::CloseReason::kTimeout))
        ++ctr_.fetch_connect_failures;
    else if (j.phase() == FetchJob::Phase::kRunning)
        ++ctr_.fetch_peer_closes;
    c.session.close();
    if (c.open) stream_.detach(c);
    c.open = false;
    c.up_on = false;
    c.conn = {};
    j.choke_dirty_ = true;  // a slot may be free
    c.retry_ns = now_ns_ + cfg_.reconnect_ms * 1'000'000;
    if (st != FetchJob::PeerState::kBanned)
        p.state.store(static_cast<uint8_t>(FetchJob::PeerState::kClosed),
                      std::memory_order_relaxed);
}

// Output in wire order: a block being uploaded is finished first (its
// bytes must not be split by others), then the session's small messages,
// then the next block the peer asked for.
void FetchService::pump(FetchJob &j, uint32_t slot) {
    FetchJob::Conn &c = j.conns_[slot];
    while (c.open) {
        if (c.up_on) {
            if (!send_block(j, c)) return;  // blocked (resumed later) or aborted
            continue;
        }
        if (c.session.has_output()) {
            const uint8_t *p = nullptr;
            const uint32_t n = c.session.output(&p);
            uint32_t done = 0;
            const bool all = stream_.copy(c, p, n, &done);
            c.session.consume(done);
            if (!all) return;  // on_writable resumes
            continue;
        }
        if (c.session.closed() || !c.session.upload_pending()) return;
        // Our own requests and haves share this TCP stream: with a deep
        // queue of blocks ahead of them, a peer that reads slowly would get
        // our requests seconds late and stop sending to us. So a new block
        // starts only while the queue is below about half a second of what
        // this peer took last round (libtorrent's send-buffer watermark
        // rule, its send_buffer_watermark_factor 50 %), within [16, 512] KiB.
        if (stack_->info(c.conn).send_queued >= watermark(j, c)) return;  // the next poll
        if (!start_block(j, c)) return;
    }
}

uint32_t FetchService::watermark(const FetchJob &j, const FetchJob::Conn &c) const {
    const uint64_t rate = j.peers_[c.slot].up_rate.load(std::memory_order_relaxed);
    const uint64_t w = rate / 2;
    return static_cast<uint32_t>(w < kWatermarkMin   ? kWatermarkMin
                                 : w > kWatermarkMax ? kWatermarkMax
                                                     : w);
}

// A block of a held piece: piece i of the torrent is chunk i of the object
// (the control thread refused every other layout), sent as a slice of it.
bool FetchService::start_block(FetchJob &j, FetchJob::Conn &c) {
    const swarm::BlockReq b = c.session.upload_front();
    const chunkstore::ObjectMeta *m = store_->lookup_object(tid_, j.oid_);
    if (!m || m->generation != j.gen_) {
        ++ctr_.fetch_upload_object_gone;
        abort_conn(j, c.slot);
        return false;
    }
    c.h = ChunkStream::hold(c, *m);
    swarm::pw::write_piece_head(c.up_head, b.piece, b.begin, b.length);
    c.up_on = true;
    c.up_off = 0;
    c.up_body = 0;
    c.session.upload_started();
    return true;
}

bool FetchService::send_block(FetchJob &j, FetchJob::Conn &c) {
    const swarm::BlockReq b = c.session.upload_front();
    if (c.up_off < 13 && !stream_.copy(c, c.up_head, 13, &c.up_off)) return false;
    switch (stream_.send(c, c.h, uint64_t{b.piece} * swarm::kPieceLength + b.begin, b.length,
                         &c.up_body)) {
        case ChunkStream::Sent::kDone:
            break;
        case ChunkStream::Sent::kBlocked:
            return false;  // on_writable, a settled promotion or a pin resumes it
        case ChunkStream::Sent::kAbort:
            abort_conn(j, c.slot);  // counted by the stream
            return false;
    }
    c.up_on = false;
    c.session.upload_done();
    ctr_.fetch_bytes_up += b.length;
    j.peers_[c.slot].bytes_up.fetch_add(b.length, std::memory_order_relaxed);
    return true;
}

void FetchService::abort_conn(FetchJob &j, uint32_t slot) {
    FetchJob::Conn &c = j.conns_[slot];
    if (!c.open) return;
    const tcp::ConnId id = c.conn;
    c.session.close();
    stream_.detach(c);
    c.open = false;
    c.up_on = false;
    c.conn = {};
    c.retry_ns = now_ns_ + cfg_.reconnect_ms * 1'000'000;
    j.choke_dirty_ = true;
    j.peers_[slot].state.store(static_cast<uint8_t>(FetchJob::PeerState::kClosed),
                               std::memory_order_relaxed);
    ++ctr_.fetch_peer_closes;
    stack_->set_user(id, nullptr);
    stack_->abort(id);
}

void FetchService::stream_wake(StreamConn &sc) {
    static_cast<FetchJob::Conn &>(sc).wake = true;
    woken_ = true;
}

void FetchService::stream_run(StreamConn &sc) {
    FetchJob::Conn &c = static_cast<FetchJob::Conn &>(sc);
    if (c.open) pump(*c.job, c.slot);
}

void FetchService::stream_abort(StreamConn &sc) {
    FetchJob::Conn &c = static_cast<FetchJob::Conn &>(sc);
    abort_conn(*c.job, c.slot);
}

// ---- tit-for-tat over the job's connections (docs/swarm.md "Choking")

void FetchService::run_choker(FetchJob &j) {
    uint32_t n = 0;
    for (uint32_t s = 0; s < j.nslots(); ++s) {
        FetchJob::Conn &c = j.conns_[s];
        if (!c.open || !c.session.active()) continue;
        j.choke_list_[n] = &c.session.choke();  // interested, downloaded, uploaded: the session's
        j.choke_slot_[n++] = s;
    }
    const bool round = j.choker_.tick(j.choke_list_, n, now_ns_);
    if (round)
        ++ctr_.fetch_choke_rounds;
    else if (j.choke_dirty_)
        j.choker_.fill(j.choke_list_, n, now_ns_);
    j.choke_dirty_ = false;
    for (uint32_t i = 0; i < n; ++i) {
        FetchJob::Conn &c = j.conns_[j.choke_slot_[i]];
        const bool unchoke = j.choke_list_[i]->unchoked;
        if (unchoke != c.session.am_choking()) continue;  // as the peer already knows
        c.session.set_choked(!unchoke);
        ++(unchoke ? ctr_.fetch_unchokes : ctr_.fetch_chokes);
        pump(j, j.choke_slot_[i]);
    }
    if (round || now_ns_ >= j.next_publish_ns_) {
        j.next_publish_ns_ = now_ns_ + kSweepNs;
        publish(j, round);
    }
}

// What `edgectl swarm` prints per peer: rates over the round just ended,
// and the state both ways; relaxed stores the control thread reads.
void FetchService::publish(FetchJob &j, bool round) {
    const uint64_t round_ns = j.choker_.config().round_ns;
    for (uint32_t s = 0; s < j.nslots(); ++s) {
        FetchJob::Conn &c = j.conns_[s];
        FetchJob::Peer &p = j.peers_[s];
        if (!c.open || !c.session.active()) {
            p.flags.store(s >= FetchJob::kMaxPeers ? FetchJob::kIncomingPeer : 0, std::memory_order_relaxed);
            continue;
        }
        const swarm::ChokePeer &cp = c.session.choke();
        if (round) {
            p.down_rate.store(cp.rate * 1'000'000'000ull / round_ns, std::memory_order_relaxed);
            p.up_rate.store((cp.uploaded - c.up_mark) * 1'000'000'000ull / round_ns,
                            std::memory_order_relaxed);
            c.up_mark = cp.uploaded;
        }
        uint8_t f = 0;
        if (c.session.am_choking()) f |= FetchJob::kAmChoking;
        if (c.session.interested()) f |= FetchJob::kAmInterested;
        if (c.session.peer_choking()) f |= FetchJob::kPeerChoking;
        if (c.session.peer_interested()) f |= FetchJob::kPeerInterested;
        if (cp.unchoked && cp.optimistic) f |= FetchJob::kOptimistic;
        if (j.choker_.snubbed(cp, now_ns_)) f |= FetchJob::kSnubbed;
        if (s >= FetchJob::kMaxPeers) f |= FetchJob::kIncomingPeer;
        p.flags.store(f, std::memory_order_relaxed);
    }
    // Release: a reader that sees the new round sees its rates and flags.
    if (round) j.rounds_.fetch_add(1, std::memory_order_release);
}

// ---- incoming connections for a torrent being fetched (FetchHandoff)

FetchJob *FetchService::job_for(const uint8_t *info_hash) const {
    for (FetchJob *j : jobs_)
        if (j && j->phase() == FetchJob::Phase::kRunning &&
            std::memcmp(j->info_hash_.data(), info_hash, 20) == 0)
            return j;
    return nullptr;
}

bool FetchService::can_adopt(const uint8_t *info_hash, uint32_t ip_be) const {
    const FetchJob *j = job_for(info_hash);
    if (!j) return false;
    bool free = false;
    for (uint32_t s = 0; s < j->nslots(); ++s) {
        const FetchJob::Peer &p = j->peers_[s];
        // A banned address stays out, whichever way it connects.
        if (p.ip_be.load(std::memory_order_relaxed) == ip_be &&
            p.state.load(std::memory_order_relaxed) ==
                static_cast<uint8_t>(FetchJob::PeerState::kBanned))
            return false;
        if (s >= FetchJob::kMaxPeers && !j->conns_[s].open) free = true;
    }
    if (!free) ++const_cast<FetchService *>(this)->ctr_.fetch_accept_refused;
    return free;
}

void FetchService::adopt(tcp::ConnId id, const uint8_t *data, size_t len) {
    const tcp::FlowKey fk = stack_->flow(id);
    const uint32_t ip_be = rte_cpu_to_be_32(fk.remote.is_v4() ? fk.remote.v4_host() : 0);
    FetchJob *jp = job_for(data + 28);
    uint32_t s = FetchJob::kMaxPeers;
    if (jp) {
        // The slot this address had (its bad-piece count), else a free one.
        uint32_t pick = UINT32_MAX;
        for (uint32_t k = FetchJob::kMaxPeers; k < FetchJob::kMaxSlots; ++k) {
            if (jp->conns_[k].open) continue;
            if (jp->peers_[k].ip_be.load(std::memory_order_relaxed) == ip_be) {
                pick = k;
                break;
            }
            if (pick == UINT32_MAX) pick = k;
        }
        s = pick;
    }
    if (!jp || s == UINT32_MAX) {  // can_adopt said yes on this lcore: not reached
        ++ctr_.fetch_accept_refused;
        stack_->abort(id);
        return;
    }
    FetchJob &j = *jp;
    FetchJob::Conn &c = j.conns_[s];
    FetchJob::Peer &p = j.peers_[s];
    if (p.ip_be.load(std::memory_order_relaxed) != ip_be) j.torrent_.reset_slot(s);
    p.ip_be.store(ip_be, std::memory_order_relaxed);
    p.port.store(fk.rport, std::memory_order_relaxed);
    p.bytes_down.store(0, std::memory_order_relaxed);
    p.bytes_up.store(0, std::memory_order_relaxed);
    p.state.store(static_cast<uint8_t>(FetchJob::PeerState::kActive), std::memory_order_relaxed);
    p.connects.fetch_add(1, std::memory_order_relaxed);
    uint32_t k = 0;
    while (k < kMaxJobs && jobs_[k] != &j) ++k;
    stack_->set_handler(id, this);
    stack_->set_user(id, &refs_[k][s]);
    c.conn = id;
    c.open = true;
    c.counted_down = 0;
    c.up_on = false;
    c.up_mark = 0;
    c.seen_interest = false;
    stream_.attach(c, id);
    c.session.start_accepted(now_ns_);
    ++ctr_.fetch_accepted;
    const size_t used = c.session.feed(data, len, now_ns_);
    (void)used;  // the session takes a whole handshake segment (it never holds input back here)
    after_input(j, s);
}

void FetchService::after_input(FetchJob &j, uint32_t slot) {
    FetchJob::Conn &c = j.conns_[slot];
    FetchJob::Peer &p = j.peers_[slot];
    const uint64_t down = c.session.choke().downloaded;
    if (down > c.counted_down) {
        ctr_.fetch_bytes_down += down - c.counted_down;
        p.bytes_down.fetch_add(down - c.counted_down, std::memory_order_relaxed);
        c.counted_down = down;
    }
    p.bad_pieces.store(j.torrent_.bad_pieces(slot), std::memory_order_relaxed);
    if (c.session.peer_interested() != c.seen_interest) {
        c.seen_interest = c.session.peer_interested();
        j.choke_dirty_ = true;  // fill() gives a free slot at once, or takes one back
    }
    pump(j, slot);
    if (!c.session.closed() || !c.open) return;
    // The session ended itself: banned, a framing error, a timeout. A banned
    // address is never dialled again for this job (FetchTorrent charges a
    // slot, the glue remembers the address).
    if (j.torrent_.banned(slot) && p.state.load(std::memory_order_relaxed) !=
                                       static_cast<uint8_t>(FetchJob::PeerState::kBanned)) {
        p.state.store(static_cast<uint8_t>(FetchJob::PeerState::kBanned),
                      std::memory_order_relaxed);
        ++ctr_.fetch_peers_banned;
    }
    stack_->close(c.conn);  // on_closed follows
}

// Verified pieces to the control thread, one FillMsg each (the store copies
// the staged bytes into a chunk slot and publishes it: Store::handle_fills).
void FetchService::settle(FetchJob &j) {
    using FM = chunkstore::Store::FillMsg;
    // A scan of every piece, only while some are ready or in flight, and
    // for the ones in flight at most every 1 ms.
    if (j.ready_ == 0 && (j.posted_ == 0 || now_ns_ < j.next_check_ns_)) return;
    j.next_check_ns_ = now_ns_ + kSettleEveryNs;
    for (uint32_t i = 0; i < j.npieces_; ++i) {
        uint8_t &ps = j.pstate_[i];
        if (ps == kReady) {
            FM &m = j.msgs_[i];
            m.kind = FM::Kind::chunk;
            m.waiter = chunkstore::kNoWaiter;
            m.oid = j.oid_;
            m.generation = j.gen_;
            m.index = i;
            m.len = j.torrent_.picker().piece_len(i);
            m.data = &j.staging_[uint64_t{i} * swarm::kPieceLength];
            if (!store_->post_fill(channel_, &m)) {
                m.state.store(FM::kDone, std::memory_order_relaxed);
                ++ctr_.fetch_post_retries;
                break;  // the channel is full: the rest next poll
            }
            ps = kPosted;
            --j.ready_;
            ++j.posted_;
        } else if (ps == kPosted) {
            const uint8_t st = j.msgs_[i].state.load(std::memory_order_acquire);
            if (st == FM::kPosted) continue;
            --j.posted_;
            if (st == FM::kDone) {
                ps = kStored;
                // Now a chunk of the object: advertised (have) and uploaded.
                j.torrent_.mark_held(i);
                j.stored_.fetch_add(1, std::memory_order_relaxed);
                ++ctr_.fetch_pieces_stored;
            } else {
                // RAM full or the version replaced: posted again (the bytes
                // stay staged and verified).
                ++ctr_.fetch_store_refused;
                ps = kReady;
                ++j.ready_;
            }
        }
    }
}

void FetchService::finish(FetchJob &j) {
    for (uint32_t s = 0; s < j.nslots(); ++s) {
        FetchJob::Conn &c = j.conns_[s];
        c.session.close();
        if (c.open) {
            stream_.detach(c);
            stack_->set_user(c.conn, nullptr);  // later callbacks are not ours
            stack_->close(c.conn);
            c.open = false;
        }
        FetchJob::Peer &p = j.peers_[s];
        if (p.state.load(std::memory_order_relaxed) ==
            static_cast<uint8_t>(FetchJob::PeerState::kActive))
            p.state.store(static_cast<uint8_t>(FetchJob::PeerState::kClosed),
                          std::memory_order_relaxed);
        p.flags.store(s >= FetchJob::kMaxPeers ? FetchJob::kIncomingPeer : 0, std::memory_order_relaxed);
    }
    ++ctr_.fetch_jobs_complete;
    j.phase_.store(FetchJob::Phase::kComplete, std::memory_order_release);
}

void FetchService::visit_counters(const CounterVisitor &fn) const {
#define EP_X(n, h) fn({#n, h, __atomic_load_n(&ctr_.n, __ATOMIC_RELAXED)});
    EP_SWARM_FETCH_COUNTERS(EP_X)
#undef EP_X
#define EP_X(n, h) fn({"session." #n, h, __atomic_load_n(&sctr_.n, __ATOMIC_RELAXED)});
    EP_FETCH_COUNTERS(EP_X)
#undef EP_X
    char key[48];
    for (unsigned i = 1; i <= swarm::pw::kErrors; ++i) {
        std::snprintf(key, sizeof key, "wire_error.%s",
                      swarm::pw::error_name(static_cast<swarm::pw::Error>(i)));
        fn({key, "fetch connections closed: peer-wire framing error of this kind",
            __atomic_load_n(&sctr_.wire_errors[i], __ATOMIC_RELAXED)});
    }
    stream_.visit_counters(fn);  // the uploads' stream (pins, chunk waits)
}

}  // namespace ep
