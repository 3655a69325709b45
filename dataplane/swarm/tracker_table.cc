#include "dataplane/swarm/tracker_table.h"

#include <cstring>

namespace ep::swarm {

namespace {
template <class T>
T ld(const T &x) {
    return __atomic_load_n(&x, __ATOMIC_RELAXED);
}
template <class T>
void st(T &x, T v) {
    __atomic_store_n(&x, v, __ATOMIC_RELAXED);
}
uint32_t hash_ih(const uint8_t ih[20]) {
    // Info hashes are SHA-1 outputs: any 4 of their bytes are uniform.
    uint32_t h;
    std::memcpy(&h, ih, 4);
    return h;
}
uint64_t next_rand(uint64_t *s) {  // xorshift64*: per-lcore, no shared state
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}
bool same_addr(const Addr &a, const Addr &b) {
    return a.family == b.family && a.port == b.port && std::memcmp(a.ip, b.ip, 16) == 0;
}
}  // namespace

TorrentSet::TorrentSet(uint32_t cap) : slots_(new Slot[cap]()), mask_(cap - 1) {}

TorrentSet::Slot *TorrentSet::find_slot(const uint8_t ih[20]) const {
    for (uint32_t i = hash_ih(ih) & mask_, k = 0; k <= mask_; i = (i + 1) & mask_, ++k) {
        Slot &s = slots_[i];
        if (!__atomic_load_n(&s.used, __ATOMIC_ACQUIRE)) return nullptr;
        if (std::memcmp(s.ih, ih, 20) == 0) return &s;
    }
    return nullptr;
}

void TorrentSet::remove(const uint8_t ih[20]) {
    if (Slot *s = find_slot(ih)) __atomic_store_n(&s->used, 2u, __ATOMIC_RELEASE);
}

bool TorrentSet::insert(const uint8_t ih[20]) {
    if (Slot *s = find_slot(ih)) {  // known, perhaps removed: tracked again
        __atomic_store_n(&s->used, 1u, __ATOMIC_RELEASE);
        return true;
    }
    if (n_ + 1 > (mask_ + 1) / 2) return false;  // keep probes short: half full at most
    for (uint32_t i = hash_ih(ih) & mask_;; i = (i + 1) & mask_) {
        Slot &s = slots_[i];
        if (s.used) continue;
        std::memcpy(s.ih, ih, 20);
        __atomic_store_n(&s.used, 1u, __ATOMIC_RELEASE);  // the key is visible first
        __atomic_store_n(&n_, n_ + 1, __ATOMIC_RELAXED);
        return true;
    }
}

bool TorrentSet::contains(const uint8_t ih[20]) const {
    const Slot *s = find_slot(ih);
    return s && __atomic_load_n(&s->used, __ATOMIC_ACQUIRE) == 1;
}

SwarmTable::SwarmTable(const TableConfig &cfg)
    : cfg_(cfg),
      swarms_(new SwarmSlot[size_t{cfg.shards} * cfg.swarms_per_shard]()),
      peers_(new PeerSlot[size_t{cfg.shards} * cfg.swarms_per_shard * cfg.peers_per_swarm]()),
      sweep_cursor_(new uint64_t[cfg.shards]()) {}

int32_t SwarmTable::find(uint32_t shard, const uint8_t ih[20]) const {
    const uint32_t mask = cfg_.swarms_per_shard - 1;
    for (uint32_t i = hash_ih(ih) & mask, k = 0; k <= mask; i = (i + 1) & mask, ++k) {
        const SwarmSlot *s = swarm(shard, i);
        if (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE)) return -1;
        if (std::memcmp(s->ih, ih, 20) == 0) return static_cast<int32_t>(i);
    }
    return -1;
}

int32_t SwarmTable::claim(uint32_t shard, const uint8_t ih[20]) {
    const uint32_t mask = cfg_.swarms_per_shard - 1;
    // Linear probing, at most 3/4 of the slots in use: claimed slots are
    // never released (docs/swarm.md, "not yet"), so a full shard refuses.
    uint32_t used = 0;
    for (uint32_t i = hash_ih(ih) & mask, k = 0; k <= mask; i = (i + 1) & mask, ++k) {
        SwarmSlot *s = swarm(shard, i);
        if (s->used) {
            if (std::memcmp(s->ih, ih, 20) == 0) return static_cast<int32_t>(i);
            if (++used > mask - mask / 4) return -1;
            continue;
        }
        std::memcpy(s->ih, ih, 20);
        __atomic_store_n(&s->used, 1u, __ATOMIC_RELEASE);
        return static_cast<int32_t>(i);
    }
    return -1;
}

void SwarmTable::write_peer(PeerSlot &s, uint32_t expires, const Addr &a, bool seeder) {
    const uint32_t seq = s.seq;  // only the owner writes seq
    st(s.seq, seq + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    st(s.expires, expires);
    for (int i = 0; i < 4; ++i) {
        uint32_t w;
        std::memcpy(&w, a.ip + 4 * i, 4);
        st(s.ip[i], w);
    }
    st(s.meta, uint32_t{a.port} | uint32_t{a.family} << 16 | uint32_t{seeder} << 24);
    __atomic_store_n(&s.seq, seq + 2, __ATOMIC_RELEASE);
}

bool SwarmTable::read_peer(const PeerSlot &s, uint32_t now, PeerView *v) {
    const uint32_t s1 = __atomic_load_n(&s.seq, __ATOMIC_ACQUIRE);
    if (s1 & 1) return false;  // being written: skip it this time
    const uint32_t exp = ld(s.expires);
    uint32_t ip[4];
    for (int i = 0; i < 4; ++i) ip[i] = ld(s.ip[i]);
    const uint32_t meta = ld(s.meta);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (ld(s.seq) != s1) return false;
    if (exp == 0 || exp <= now) return false;
    std::memcpy(v->addr.ip, ip, 16);
    v->addr.port = static_cast<uint16_t>(meta);
    v->addr.family = static_cast<uint8_t>(meta >> 16);
    v->seeder = (meta >> 24) & 1;
    return true;
}

SwarmTable::Upsert SwarmTable::upsert(uint32_t shard, const uint8_t ih[20], const Addr &a,
                                      bool seeder, bool stopped, bool completed, uint32_t expires,
                                      uint32_t now, uint32_t *expired) {
    int32_t sw = stopped ? find(shard, ih) : claim(shard, ih);
    if (sw < 0) return stopped ? Upsert::kAbsent : Upsert::kSwarmsFull;
    SwarmSlot &ss = *swarm(shard, static_cast<uint32_t>(sw));
    if (completed) st(ss.completed, ss.completed + 1);
    PeerSlot *ps = peers(shard, static_cast<uint32_t>(sw));
    PeerSlot *free_slot = nullptr;
    for (uint32_t i = 0; i < cfg_.peers_per_swarm; ++i) {
        PeerSlot &p = ps[i];
        if (p.expires == 0) {
            if (!free_slot) free_slot = &p;
            continue;
        }
        PeerView v;
        std::memcpy(v.addr.ip, p.ip, 16);
        v.addr.port = static_cast<uint16_t>(p.meta);
        v.addr.family = static_cast<uint8_t>(p.meta >> 16);
        const bool was_seeder = (p.meta >> 24) & 1;
        if (p.expires <= now) {  // expired, not yet swept: reuse it
            st(was_seeder ? ss.seeders : ss.leechers, (was_seeder ? ss.seeders : ss.leechers) - 1);
            write_peer(p, 0, Addr{}, false);
            if (expired) ++*expired;
            if (!free_slot) free_slot = &p;
            continue;
        }
        if (!same_addr(v.addr, a)) continue;
        // Known peer: refresh, or remove on "stopped".
        uint32_t &from = was_seeder ? ss.seeders : ss.leechers;
        st(from, from - 1);
        if (stopped) {
            write_peer(p, 0, Addr{}, false);
            return Upsert::kRemoved;
        }
        uint32_t &to = seeder ? ss.seeders : ss.leechers;
        st(to, to + 1);
        write_peer(p, expires, a, seeder);
        return Upsert::kUpdated;
    }
    if (stopped) return Upsert::kAbsent;
    if (!free_slot) return Upsert::kPeersFull;
    uint32_t &to = seeder ? ss.seeders : ss.leechers;
    st(to, to + 1);
    write_peer(*free_slot, expires, a, seeder);
    return Upsert::kAdded;
}

uint32_t SwarmTable::sweep(uint32_t shard, uint32_t now, uint32_t budget) {
    const uint64_t total = uint64_t{cfg_.swarms_per_shard} * cfg_.peers_per_swarm;
    uint64_t &cur = sweep_cursor_[shard];
    uint32_t expired = 0;
    for (uint32_t k = 0; k < budget; ++k, cur = (cur + 1) % total) {
        const uint32_t sw = static_cast<uint32_t>(cur / cfg_.peers_per_swarm);
        SwarmSlot &ss = *swarm(shard, sw);
        if (!ss.used) {  // skip the whole unused swarm
            cur = (uint64_t{sw} + 1) * cfg_.peers_per_swarm - 1;
            continue;
        }
        PeerSlot &p = peers(shard, sw)[cur % cfg_.peers_per_swarm];
        if (p.expires == 0 || p.expires > now) continue;
        uint32_t &c = (p.meta >> 24) & 1 ? ss.seeders : ss.leechers;
        st(c, c - 1);
        write_peer(p, 0, Addr{}, false);
        ++expired;
    }
    return expired;
}

uint32_t SwarmTable::pick(const uint8_t ih[20], uint8_t family, const Addr &self, uint32_t now,
                          PeerView *out, uint32_t max, uint64_t *rng) const {
    // Reservoir sampling (Algorithm R) over the live peers of every shard:
    // a uniform random subset of `max`, one pass, no allocation.
    uint32_t seen = 0, n = 0;
    for (uint32_t sh = 0; sh < cfg_.shards; ++sh) {
        const int32_t sw = find(sh, ih);
        if (sw < 0) continue;
        const PeerSlot *ps = peers(sh, static_cast<uint32_t>(sw));
        for (uint32_t i = 0; i < cfg_.peers_per_swarm; ++i) {
            if (ld(ps[i].expires) == 0) continue;
            PeerView v;
            if (!read_peer(ps[i], now, &v) || v.addr.family != family || same_addr(v.addr, self))
                continue;
            ++seen;
            if (n < max) {
                out[n++] = v;
            } else {
                const uint64_t j = next_rand(rng) % seen;
                if (j < max) out[j] = v;
            }
        }
    }
    return n;
}

SwarmCounts SwarmTable::counts(const uint8_t ih[20]) const {
    SwarmCounts c;
    for (uint32_t sh = 0; sh < cfg_.shards; ++sh) {
        const int32_t sw = find(sh, ih);
        if (sw < 0) continue;
        const SwarmSlot &s = *swarm(sh, static_cast<uint32_t>(sw));
        c.known = true;
        c.seeders += ld(s.seeders);
        c.leechers += ld(s.leechers);
        c.completed += ld(s.completed);
    }
    return c;
}

}  // namespace ep::swarm
