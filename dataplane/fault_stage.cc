#include "dataplane/fault_stage.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "dataplane/lcore.h"

namespace ep {

bool parse_fault_spec(const std::string &s, FaultSpec *out, std::string *err) {
    FaultSpec f;
    std::istringstream in(s);
    for (std::string kv; std::getline(in, kv, ',');) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) {
            *err = "fault spec item '" + kv + "' is not key=value";
            return false;
        }
        const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        char *end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        const bool num = end && *end == '\0' && !v.empty();
        auto prob = [&](double *dst) {
            if (!num || x < 0 || x > 1) return false;
            *dst = x;
            return true;
        };
        bool ok = true;
        if (k == "drop") ok = prob(&f.cfg.drop);
        else if (k == "dup") ok = prob(&f.cfg.duplicate);
        else if (k == "reorder") ok = prob(&f.cfg.reorder);
        else if (k == "delay") ok = prob(&f.cfg.delay);
        else if (k == "corrupt") ok = prob(&f.cfg.corrupt);
        else if (k == "reorder-us" && num && x >= 0) f.cfg.reorder_delay_ns = static_cast<uint64_t>(x * 1000);
        else if (k == "delay-us" && num && x >= 0) f.cfg.delay_ns = static_cast<uint64_t>(x * 1000);
        else if (k == "seed" && num) f.cfg.seed = static_cast<uint64_t>(x);
        else if (k == "dir" && (v == "rx" || v == "tx" || v == "both")) {
            f.rx = v != "tx";
            f.tx = v != "rx";
        } else ok = false;
        if (!ok) {
            *err = "bad fault spec item '" + kv +
                   "' (keys: drop dup reorder delay corrupt in [0,1], reorder-us delay-us seed, dir=rx|tx|both)";
            return false;
        }
    }
    *out = f;
    return true;
}

void FaultStage::init(const FaultSpec &spec, uint64_t seed_salt) {
    salt_ = seed_salt;
    configure(spec);
}

void FaultStage::configure(const FaultSpec &spec) {
    spec_ = spec;
    on_ = spec.enabled();
    for (int d = 0; d < 2; ++d) {
        // A direction the spec leaves alone passes everything (apply() still
        // runs on it while it releases packets an earlier spec held).
        fault::FaultConfig c = (d == 0 ? spec.rx : spec.tx) ? spec.cfg : fault::FaultConfig{};
        c.seed = spec.cfg.seed * 0x9e3779b97f4a7c15ull + salt_ * 2 + static_cast<uint64_t>(d);
        dir_[d].inj.configure(c);
    }
}

bool FaultStage::publish(const FaultSpec &spec) {
    const uint32_t v = version_.load(std::memory_order_relaxed);
    // Control thread only: a reload is rare, and the lcore refreshes every
    // iteration (microseconds); 100 ms means the lcore is not running.
    for (int i = 0; i < 1000 && seen_.load(std::memory_order_acquire) != v; ++i) usleep(100);
    if (seen_.load(std::memory_order_acquire) != v) return false;
    next_[(v + 1) & 1] = spec;
    version_.store(v + 1, std::memory_order_release);
    // Returns once the lcore runs it, so "reloaded" means applied.
    for (int i = 0; i < 1000 && seen_.load(std::memory_order_acquire) != v + 1; ++i) usleep(100);
    return seen_.load(std::memory_order_acquire) == v + 1;
}

void FaultStage::adopt(uint32_t v) {
    configure(next_[v & 1]);
    seen_.store(v, std::memory_order_release);
}

void FaultStage::Direction::push(uint64_t due, rte_mbuf *m) {
    uint32_t i = count++;
    while (i > 0) {
        const uint32_t parent = (i - 1) / 2;
        if (heap[parent].due <= due) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = {due, m};
}

rte_mbuf *FaultStage::Direction::pop_due(uint64_t now) {
    if (count == 0 || heap[0].due > now) return nullptr;
    rte_mbuf *m = heap[0].m;
    const Held last = heap[--count];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= count) break;
        if (c + 1 < count && heap[c + 1].due < heap[c].due) ++c;
        if (last.due <= heap[c].due) break;
        heap[i] = heap[c];
        i = c;
    }
    if (count > 0) heap[i] = last;
    return m;
}

uint16_t FaultStage::release(bool tx, rte_mbuf **out, uint16_t cap, uint64_t now_ns) {
    uint16_t n = 0;
    while (n < cap) {
        rte_mbuf *m = dir_[tx].pop_due(now_ns);
        if (!m) break;
        out[n++] = m;
    }
    return n;
}

uint16_t FaultStage::apply(bool tx, Lcore &lc, rte_mbuf **pkts, uint16_t n, uint16_t cap,
                           uint64_t now_ns) {
    Direction &d = dir_[tx];
    uint16_t out = 0;
    // pkts[out..] is being rewritten while pkts[i..n) is still to be read;
    // duplicates go to a side array so they never overwrite unread input.
    rte_mbuf *extra[64];
    uint16_t nextra = 0;
    for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf *m = pkts[i];
        const fault::Verdict v = d.inj.next();
        if (v.drop) {
            ++lc.counters.fault_dropped;
            lc.counters.drop(Drop::fault_injected);
            rte_pktmbuf_free(m);
            continue;
        }
        if (v.corrupt && rte_pktmbuf_data_len(m) > 14) {
            // Past the Ethernet header, inside this segment's own bytes.
            uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
            p[14 + v.corrupt_at % (rte_pktmbuf_data_len(m) - 14)] ^= 0x20;
            // The port may already have checked this frame's checksums: the
            // damage is done "on the wire" after that, so make the stack
            // check again, as it would a frame the NIC had not verified.
            m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
            ++lc.counters.fault_corrupted;
        }
        if (v.duplicate && nextra < 64) {
            // Receive side: a real copy (the packet path rewrites frames in
            // place). Transmit side: one more reference on every segment.
            rte_mbuf *dup = nullptr;
            if (tx) {
                for (rte_mbuf *s = m; s; s = s->next) rte_mbuf_refcnt_update(s, 1);
                dup = m;
            } else {
                dup = rte_pktmbuf_copy(m, lc.pool, 0, UINT32_MAX);
            }
            if (dup) {
                extra[nextra++] = dup;
                ++lc.counters.fault_duplicated;
            }
        }
        if (v.extra_delay_ns > 0 && d.count < kHeld) {
            d.push(now_ns + v.extra_delay_ns, m);
            ++lc.counters.fault_delayed;
            continue;
        }
        pkts[out++] = m;
    }
    for (uint16_t i = 0; i < nextra; ++i) {
        if (out < cap) pkts[out++] = extra[i];
        else rte_pktmbuf_free(extra[i]);
    }
    return static_cast<uint16_t>(out + release(tx, pkts + out, static_cast<uint16_t>(cap - out), now_ns));
}

void FaultStage::drain_free() {
    for (Direction &d : dir_)
        while (d.count > 0) rte_pktmbuf_free(d.heap[--d.count].m);
}

}  // namespace ep
