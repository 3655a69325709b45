// The tracker's swarm state, shared by every data lcore without locks.
//
// Sharded by writer, not by key: each data lcore owns one Shard and is its
// only writer (peers that announce through that lcore), and every lcore
// reads every shard. So an announce on lcore A sees peers that announced on
// lcore B, no write is ever contended, and no lock or CAS is needed:
//  - a swarm slot is claimed once by its owner (key written, then `used`
//    published with release) and never changes key afterwards;
//  - a peer slot is a seqlock: the owner makes seq odd, writes, makes it
//    even (release); a reader takes a copy only when seq was even and
//    unchanged around its reads (acquire), else skips the slot.
// Readers also ignore peers past their expiry, so a peer that stopped
// announcing vanishes from replies at once, before the owner's sweep frees
// its slot and fixes the counts. Memory is allocated once at start.
// docs/swarm.md has the reasoning and the limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dataplane/swarm/udp_tracker.h"

namespace ep::swarm {

using udpt::Addr;

// Info hashes the appliance serves: written by the control thread only (at
// ingest, at start-up, when a torrent's object is removed), read by data
// lcores lock-free. A slot's hash never changes once written: remove()
// only flips its state to "removed" (the slot stays, so probe chains stay
// whole) and a later insert() of the same hash flips it back.
class TorrentSet {
  public:
    explicit TorrentSet(uint32_t capacity_pow2 = 1u << 16);
    bool insert(const uint8_t ih[20]);  // control thread; false when full
    void remove(const uint8_t ih[20]);  // control thread
    bool contains(const uint8_t ih[20]) const;
    uint32_t size() const { return __atomic_load_n(&n_, __ATOMIC_RELAXED); }

  private:
    struct Slot {
        uint32_t used;  // 0 free, 1 tracked, 2 removed (the hash stays)
        uint8_t ih[20];
    };
    Slot *find_slot(const uint8_t ih[20]) const;  // any state; nullptr: never inserted
    std::unique_ptr<Slot[]> slots_;
    uint32_t mask_;
    uint32_t n_ = 0;
};

struct TableConfig {
    uint32_t shards = 1;
    uint32_t swarms_per_shard = 4096;  // power of two
    uint32_t peers_per_swarm = 128;    // per shard
};

// A peer as a reader copied it out.
struct PeerView {
    Addr addr;
    bool seeder = false;
};

struct SwarmCounts {
    uint32_t seeders = 0, leechers = 0, completed = 0;
    bool known = false;
};

class SwarmTable {
  public:
    explicit SwarmTable(const TableConfig &cfg);
    uint32_t shards() const { return cfg_.shards; }

    // ---- owner of `shard` only ----
    enum class Upsert : uint8_t { kAdded, kUpdated, kRemoved, kAbsent, kSwarmsFull, kPeersFull };
    // The announce's effect on the peer (addr, port): added or refreshed
    // with a new expiry, or removed (event stopped). `completed` counts a
    // BEP 3 "completed" event once per announce that carries it. Expired
    // peers met on the way are freed and counted in *expired.
    Upsert upsert(uint32_t shard, const uint8_t ih[20], const Addr &a, bool seeder, bool stopped,
                  bool completed, uint32_t expires, uint32_t now, uint32_t *expired = nullptr);
    // Frees up to `budget` expired peer slots of the shard (a cursor walks
    // the whole shard over successive calls); returns how many expired.
    uint32_t sweep(uint32_t shard, uint32_t now, uint32_t budget);

    // ---- any lcore ----
    // Up to `max` random live peers of family `family` for ih from every
    // shard, never `self`. rng is the caller's (per lcore) state.
    uint32_t pick(const uint8_t ih[20], uint8_t family, const Addr &self, uint32_t now,
                  PeerView *out, uint32_t max, uint64_t *rng) const;
    SwarmCounts counts(const uint8_t ih[20]) const;  // summed over shards

  private:
    struct PeerSlot {  // 32 bytes; every word read and written atomically
        uint32_t seq;
        uint32_t expires;  // unix seconds; 0 = free
        uint32_t ip[4];
        uint32_t meta;  // port | family << 16 | seeder << 24
        uint32_t pad;
    };
    struct SwarmSlot {
        uint32_t used;
        uint8_t ih[20];
        uint32_t seeders, leechers, completed;  // owner-written, read relaxed
    };
    int32_t find(uint32_t shard, const uint8_t ih[20]) const;  // swarm index or -1
    int32_t claim(uint32_t shard, const uint8_t ih[20]);
    PeerSlot *peers(uint32_t shard, uint32_t swarm) const {
        return &peers_[(size_t{shard} * cfg_.swarms_per_shard + swarm) * cfg_.peers_per_swarm];
    }
    SwarmSlot *swarm(uint32_t shard, uint32_t i) const {
        return &swarms_[size_t{shard} * cfg_.swarms_per_shard + i];
    }
    static bool read_peer(const PeerSlot &s, uint32_t now, PeerView *v);
    static void write_peer(PeerSlot &s, uint32_t expires, const Addr &a, bool seeder);

    TableConfig cfg_;
    std::unique_ptr<SwarmSlot[]> swarms_;
    std::unique_ptr<PeerSlot[]> peers_;
    std::unique_ptr<uint64_t[]> sweep_cursor_;  // per shard, owner-only
};

}  // namespace ep::swarm
