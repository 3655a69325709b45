// A small per-lcore IPv4 -> MAC neighbour table (RFC 826 "translation table").
// Fixed size, open addressing with a short probe window; when the window is
// full the stalest entry is replaced. No allocation, no locks: each data
// lcore keeps its own, learning from the ARP and IPv4 traffic it receives.
//
// Aging (RFC 1122 2.3.2.1, "Unicast Poll"): an entry confirmed within
// `reachable` is used as is. Past that it is still used, but the sender is
// told to poll the neighbour with a unicast ARP request, at most once per
// `poll_every`; any ARP from it (the reply, or its own request) confirms the
// entry again. An entry not confirmed for `reachable + expire_after` is
// gone: the next send broadcasts a request, so a neighbour that changed its
// MAC (a failed-over gateway) is learned anew instead of being sent to
// forever. Times are in the caller's clock (nanoseconds on the data plane).
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
        e->polled = 0;
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
        *victim = Entry{ip, mac, now, 0};
        return true;
    }

    struct Aging {
        uint64_t reachable = 60'000'000'000;    // confirmed this recently: no poll
        uint64_t poll_every = 1'000'000'000;    // unicast polls while stale
        uint64_t expire_after = 4'000'000'000;  // stale this long: forgotten
    };
    void set_aging(const Aging &a) { aging_ = a; }
    const Aging &aging() const { return aging_; }

    enum class Use : uint8_t { fresh, poll, missing, expired };
    struct Resolved {
        Use use = Use::missing;
        rte_ether_addr mac{};  // valid for fresh and poll
        bool usable() const { return use == Use::fresh || use == Use::poll; }
    };
    // For a send to ip at `now`: the MAC to use, and whether to poll the
    // neighbour first (then the poll is counted as sent at `now`). An entry
    // past its expiry is removed and reported expired (once; then missing).
    Resolved resolve(uint32_t ip, uint64_t now) {
        Entry *e = find_entry(ip);
        if (!e) return {};
        const uint64_t age = now > e->updated ? now - e->updated : 0;
        if (age > aging_.reachable + aging_.expire_after) {
            *e = Entry{};
            return {Use::expired, {}};
        }
        if (age <= aging_.reachable) return {Use::fresh, e->mac};
        if (e->polled != 0 && now - e->polled < aging_.poll_every) return {Use::fresh, e->mac};
        e->polled = now;
        return {Use::poll, e->mac};
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
        uint64_t updated = 0;  // last confirmed
        uint64_t polled = 0;   // last unicast poll since then; 0 = none
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
    Aging aging_{};
};

}  // namespace ep::net
