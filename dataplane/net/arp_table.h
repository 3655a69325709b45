// A small per-lcore IPv4 -> MAC neighbour table (RFC 826 "translation table").
// Fixed size, open addressing with a short probe window; when the window is
// full the stalest entry is replaced. No allocation, no locks: each data
// lcore keeps its own, learning from the ARP and IPv4 traffic it receives.
#pragma once

#include <rte_ether.h>

#include <array>
#include <cstdint>

namespace ep::net {

class ArpTable {
public:
    static constexpr uint32_t kSlots = 256;  // power of two
    static constexpr uint32_t kProbe = 8;

    // Returns true when ip was already known (RFC 826's merge flag).
    bool update(uint32_t ip, const rte_ether_addr &mac, uint64_t now) {
        Entry *e = find_entry(ip);
        if (!e) return false;
        e->mac = mac;
        e->updated = now;
        return true;
    }

    // Inserts or refreshes ip. Returns true when a new entry was created.
    bool learn(uint32_t ip, const rte_ether_addr &mac, uint64_t now) {
        if (update(ip, mac, now)) return false;
        uint32_t h = hash(ip);
        Entry *victim = &slots_[h];
        for (uint32_t i = 0; i < kProbe; ++i) {
            Entry &e = slots_[(h + i) & (kSlots - 1)];
            if (e.ip == 0) {
                victim = &e;
                break;
            }
            if (e.updated < victim->updated) victim = &e;
        }
        *victim = Entry{ip, mac, now};
        return true;
    }

    // The MAC for ip if known and not older than max_age (same unit as now).
    const rte_ether_addr *lookup(uint32_t ip, uint64_t now, uint64_t max_age) const {
        const Entry *e = const_cast<ArpTable *>(this)->find_entry(ip);
        if (!e || now - e->updated > max_age) return nullptr;
        return &e->mac;
    }

    uint32_t size() const {
        uint32_t n = 0;
        for (const Entry &e : slots_) n += e.ip != 0;
        return n;
    }

private:
    struct Entry {
        uint32_t ip = 0;  // network order; 0 = empty (0.0.0.0 is never a neighbour)
        rte_ether_addr mac{};
        uint64_t updated = 0;
    };

    static uint32_t hash(uint32_t ip) { return (ip * 2654435761u) >> 24; }

    Entry *find_entry(uint32_t ip) {
        if (ip == 0) return nullptr;
        uint32_t h = hash(ip);
        for (uint32_t i = 0; i < kProbe; ++i) {
            Entry &e = slots_[(h + i) & (kSlots - 1)];
            if (e.ip == ip) return &e;
        }
        return nullptr;
    }

    std::array<Entry, kSlots> slots_{};
};

}  // namespace ep::net
