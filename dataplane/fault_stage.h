// Fault injection at the port boundary: the kernel here has no netem, so this
// is how tests and users reproduce bad networks. Seeded and deterministic per
// queue. Applied to received bursts before the packet path, and to bursts
// before tx_burst, as configured.
//
//   --fault drop=0.01,dup=0.001,reorder=0.02,reorder-us=300,delay=1,delay-us=2000,corrupt=0.001,seed=7,dir=both
//
// Corruption flips one byte of the first segment only (headers or inline
// bytes): chunk store memory attached to an outgoing mbuf is shared and is
// never written.
#pragma once

#include <rte_mbuf.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "dataplane/net/fault/fault_injector.h"

namespace ep {

struct Lcore;

struct FaultSpec {
    fault::FaultConfig cfg;
    bool rx = true;
    bool tx = true;
    bool enabled() const {
        return cfg.drop > 0 || cfg.duplicate > 0 || cfg.reorder > 0 || cfg.delay > 0 || cfg.corrupt > 0;
    }
};

// Parses the --fault string. Returns false with a message on a bad spec.
bool parse_fault_spec(const std::string &s, FaultSpec *out, std::string *err);

class FaultStage {
public:
    static constexpr uint32_t kHeld = 4096;  // packets held for delay/reorder per direction

    void init(const FaultSpec &spec, uint64_t seed_salt);
    bool rx_enabled() const { return spec_.rx && on_; }
    bool tx_enabled() const { return spec_.tx && on_; }

    // Live reload (SIGHUP): the control thread publishes the next spec into
    // the slot the lcore is not reading and bumps the version; the lcore
    // takes it at its next refresh(), once per loop iteration (one acquire
    // load when nothing changed: no lock on the fast path). Packets already
    // held for delay or reorder keep their release time. publish() waits
    // (bounded, 100 ms) for the previous version to be taken, so a slot is
    // never written while the lcore copies it, and for this one, so the
    // caller knows it applies; false: the lcore did not take it in time.
    bool publish(const FaultSpec &spec);
    void refresh() {
        const uint32_t v = version_.load(std::memory_order_acquire);
        if (v != seen_.load(std::memory_order_relaxed)) adopt(v);
    }

    // Filters pkts[0..n) in place and appends held packets that are due.
    // `cap` is the array's capacity (duplicates and releases need room).
    uint16_t apply(bool tx, Lcore &lc, rte_mbuf **pkts, uint16_t n, uint16_t cap, uint64_t now_ns);
    // Held packets of one direction that are due, up to cap.
    uint16_t release(bool tx, rte_mbuf **out, uint16_t cap, uint64_t now_ns);
    bool holding(bool tx) const { return dir_[tx].count > 0; }
    void drain_free();  // at shutdown: frees what is still held

private:
    struct Held {
        uint64_t due;
        rte_mbuf *m;
    };
    struct Direction {
        fault::FaultInjector inj;
        Held heap[kHeld];  // min-heap on due
        uint32_t count = 0;
        void push(uint64_t due, rte_mbuf *m);
        rte_mbuf *pop_due(uint64_t now);
    };
    void configure(const FaultSpec &spec);
    void adopt(uint32_t v);

    FaultSpec spec_;
    bool on_ = false;  // spec_.enabled()
    uint64_t salt_ = 0;
    FaultSpec next_[2];  // published specs: version v is in next_[v & 1]
    std::atomic<uint32_t> version_{0};
    std::atomic<uint32_t> seen_{0};  // the version the lcore runs
    Direction dir_[2];  // [0] rx, [1] tx
};

}  // namespace ep
