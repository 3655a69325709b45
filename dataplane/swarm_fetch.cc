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
    tc.max_slots = kMaxPeers;  // every slot is ready: add_peer fills them later
    tc.ban_after = cfg.ban_after;
    if (!torrent_.init(tc, this, svc->session_counters(), oid ^ generation)) {
        *err = "the torrent's layout does not fit the piece picker";
        return false;
    }
    npeers_.store(static_cast<uint32_t>(peers.size()), std::memory_order_relaxed);
    conns_.reset(new Conn[kMaxPeers]);
    for (uint32_t s = 0; s < kMaxPeers; ++s) {
        if (s < peers.size()) {
            peers_[s].ip_be = peers[s].first;
            peers_[s].port = peers[s].second;
        }
        Conn &c = conns_[s];
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
        if (peers_[s].ip_be == ip_be && peers_[s].port == port) return false;
    if (n == kMaxPeers || phase() > Phase::kRunning) return false;
    peers_[n].ip_be = ip_be;
    peers_[n].port = port;
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

void FetchJob::piece_bad(uint32_t) {
    ++svc_->ctr_.fetch_pieces_bad;
}

// ---------------------------------------------------------------- service (lcore)

FetchService::FetchService(const FetchServiceConfig &cfg, uint32_t local_ip_be)
    : cfg_(cfg), local_ip_be_(local_ip_be) {}

FetchService::~FetchService() = default;

bool FetchService::init(tcp::Stack *stack, chunkstore::Store *store, bool primary) {
    stack_ = stack;
    store_ = store;
    if (!primary) return true;  // offered no jobs: shows its (zero) counters only
    channel_ = store ? store->add_fill_channel() : UINT32_MAX;
    return channel_ != UINT32_MAX;
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
            for (uint32_t s = 0; s < FetchJob::kMaxPeers; ++s) refs_[k][s] = {j, s};
            j->phase_.store(FetchJob::Phase::kRunning, std::memory_order_release);
            ++ctr_.fetch_jobs_started;
            break;
        }
    }
    for (uint32_t k = 0; k < kMaxJobs; ++k) {
        if (!jobs_[k]) continue;
        run(*jobs_[k]);
        if (jobs_[k]->phase() != FetchJob::Phase::kRunning) jobs_[k] = nullptr;
    }
}

void FetchService::run(FetchJob &j) {
    for (uint32_t s = 0; s < j.npeers_; ++s) {
        FetchJob::Conn &c = j.conns_[s];
        const auto st =
            static_cast<FetchJob::PeerState>(j.peers_[s].state.load(std::memory_order_relaxed));
        if (!c.open) {
            if (st != FetchJob::PeerState::kBanned && now_ns_ >= c.retry_ns) dial(j, s);
            continue;
        }
        if (!c.session.closed()) {
            c.session.tick(now_ns_);
            after_input(j, s);
        }
    }
    settle(j);
    if (j.stored_.load(std::memory_order_relaxed) == j.npieces_) finish(j);
}

void FetchService::dial(FetchJob &j, uint32_t slot) {
    FetchJob::Conn &c = j.conns_[slot];
    FetchJob::Peer &p = j.peers_[slot];
    c.retry_ns = now_ns_ + cfg_.reconnect_ms * 1'000'000;
    const tcp::ConnId id =
        stack_->connect(tcp::IpAddr::v4(rte_be_to_cpu_32(local_ip_be_)),
                        tcp::IpAddr::v4(rte_be_to_cpu_32(p.ip_be)), p.port, this);
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
    c.open = false;
    c.conn = {};
    c.retry_ns = now_ns_ + cfg_.reconnect_ms * 1'000'000;
    if (st != FetchJob::PeerState::kBanned)
        p.state.store(static_cast<uint8_t>(FetchJob::PeerState::kClosed),
                      std::memory_order_relaxed);
}

void FetchService::pump(FetchJob &j, uint32_t slot) {
    FetchJob::Conn &c = j.conns_[slot];
    while (c.open && c.session.has_output()) {
        const uint8_t *p = nullptr;
        const uint32_t n = c.session.output(&p);
        const uint32_t sent = stack_->send_copy(c.conn, p, n);
        c.session.consume(sent);
        if (sent < n) break;  // on_writable resumes
    }
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
    for (uint32_t s = 0; s < j.npeers_; ++s) {
        FetchJob::Conn &c = j.conns_[s];
        c.session.close();
        if (c.open) {
            stack_->set_user(c.conn, nullptr);  // later callbacks are not ours
            stack_->close(c.conn);
            c.open = false;
        }
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
}

}  // namespace ep
