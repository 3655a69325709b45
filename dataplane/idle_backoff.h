// Idle back-off of a data lcore, as DPDK's examples/l3fwd-power does it: a
// loop turn that found no work counts; after pause_after empty turns in a
// row each turn ends with rte_pause() (a PAUSE instruction: the sibling
// hyperthread and the power budget get the cycles, the core stays ours);
// after sleep_after it sleeps, first sleep_min_us and doubling per empty
// turn up to sleep_max_us. The first turn with work resets all of it, so a
// burst that arrives is handled at full polling speed from the next turn.
// Rx interrupts (rte_eth_dev_rx_intr_enable + an epoll wait, what
// l3fwd-power does where the PMD offers them) are not used: net_tap and
// net_memif do not all offer them and the sleep bound is what the loop's
// TCP timers allow anyway.
//
// Sleeping is a syscall (nanosleep, via rte_delay_us_sleep) on a data
// lcore: the fast-path rule allows none while there is work. It happens
// only after sleep_after turns in a row found nothing to receive, no timer
// due and nothing to send, and the turn that follows it polls everything
// again; the worst it adds is sleep_max_us of latency to the first packet
// of a burst after a quiet period (and to a TCP timer, whose wheel ticks
// are 20 us but whose deadlines are milliseconds).
//
// Pure: turns in, an action out; the lcore loop carries it out and counts
// it (idle_pauses, idle_sleeps, idle_sleep_cycles).
#pragma once

#include <cstdint>

namespace ep {

struct IdleBackoffConfig {
    bool enabled = true;
    uint32_t pause_after = 64;    // empty turns in a row before pausing
    uint32_t sleep_after = 1024;  // ... before sleeping
    uint32_t sleep_min_us = 16;   // the first sleep
    uint32_t sleep_max_us = 500;  // the cap (doubling from sleep_min_us)
};

class IdleBackoff {
  public:
    enum class Action : uint8_t { kNone, kPause, kSleep };

    explicit IdleBackoff(const IdleBackoffConfig &c = {}) : c_(c), sleep_us_(c.sleep_min_us) {}

    // After a loop turn: what to do before the next one. *us is the sleep.
    Action after_turn(bool worked, uint32_t *us) {
        if (worked || !c_.enabled) {
            empty_ = 0;
            sleep_us_ = c_.sleep_min_us;
            return Action::kNone;
        }
        if (empty_ < UINT32_MAX) ++empty_;
        if (empty_ >= c_.sleep_after) {
            *us = sleep_us_;
            sleep_us_ = sleep_us_ * 2 > c_.sleep_max_us ? c_.sleep_max_us : sleep_us_ * 2;
            return Action::kSleep;
        }
        return empty_ >= c_.pause_after ? Action::kPause : Action::kNone;
    }
    uint32_t empty_turns() const { return empty_; }

  private:
    IdleBackoffConfig c_;
    uint32_t empty_ = 0;
    uint32_t sleep_us_;
};

}  // namespace ep
