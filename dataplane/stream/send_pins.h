// Pinned-RAM bookkeeping of one connection's send queue, pure: the glue
// reports the chunk runs it queues and the bytes acknowledged; this says how
// many chunks are pinned and whether another may be. (docs/http.md "Pinned
// RAM".) A run is consecutive bytes of one chunk; it pins that chunk's RAM
// slot until the ACK point passes its end. A chunk in two runs counts twice:
// the bound errs on the safe side.
#pragma once

#include <cstdint>

namespace ep::stream {

inline constexpr uint8_t kMaxPinRuns = 8;  // ceiling of the per-connection cap

class SendPins {
  public:
    void reset(uint64_t now_ns) {
        head_ = count_ = 0;
        acked_seen_ = 0;
        progress_ns_ = now_ns;
    }
    uint8_t count() const { return count_; }
    // Queuing bytes of chunk `key` would start a new run (pin one more chunk).
    bool is_new(uint64_t key) const { return count_ == 0 || runs_[last()].key != key; }
    // Queued bytes of `key` up to stream offset `end` (bytes queued so far).
    // Returns true when that started a new run. Call is_new()/room first:
    // a new run beyond kMaxPinRuns is refused (false, nothing recorded).
    bool queued(uint64_t key, uint64_t end) {
        if (!is_new(key)) {
            runs_[last()].end = end;
            return false;
        }
        if (count_ == kMaxPinRuns) return false;
        runs_[(head_ + count_) % kMaxPinRuns] = {key, end};
        ++count_;
        return true;
    }
    // The peer acknowledged everything below stream offset `acked`;
    // `outstanding`: bytes still unacknowledged. Returns the runs released.
    // Progress (for stall detection) is an ACK that moved, or nothing
    // outstanding at all.
    uint8_t settle(uint64_t acked, bool outstanding, uint64_t now_ns) {
        if (acked != acked_seen_ || !outstanding) progress_ns_ = now_ns;
        acked_seen_ = acked;
        uint8_t released = 0;
        while (count_ && runs_[head_].end <= acked) {
            head_ = static_cast<uint8_t>((head_ + 1) % kMaxPinRuns);
            --count_;
            ++released;
        }
        return released;
    }
    uint64_t progress_ns() const { return progress_ns_; }
    bool stalled(uint64_t now_ns, uint64_t stall_ns) const {
        return now_ns - progress_ns_ >= stall_ns;
    }

  private:
    struct Run {
        uint64_t key;
        uint64_t end;
    };
    uint8_t last() const { return static_cast<uint8_t>((head_ + count_ - 1) % kMaxPinRuns); }
    Run runs_[kMaxPinRuns];
    uint8_t head_ = 0;
    uint8_t count_ = 0;
    uint64_t acked_seen_ = 0;
    uint64_t progress_ns_ = 0;
};

// Whether a connection holding `conn_pins` may pin one more chunk.
enum class PinVerdict : uint8_t { kOk, kConnCap, kBudget };
constexpr PinVerdict pin_verdict(uint32_t conn_pins, uint32_t conn_cap, uint32_t total,
                                 uint32_t budget) {
    if (conn_pins >= conn_cap) return PinVerdict::kConnCap;
    if (total >= budget) return PinVerdict::kBudget;
    return PinVerdict::kOk;
}

}  // namespace ep::stream
