// One rte_rcu_qsbr domain and the frees it defers: what the control side
// replaced behind an atomic pointer is freed once every reader (a service
// instance on a data lcore, reporting a quiescent state once per loop
// iteration) has moved past it. Shared by the tables the lcores read
// (control/dns_tables.h, control/http_steer_tables.h); each owns one.
//
// Not thread-safe: the owner orders its writers (retire, reclaim) itself.
#pragma once

#include <rte_rcu_qsbr.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

namespace ep {

class RcuDomain {
  public:
    RcuDomain() = default;
    RcuDomain(const RcuDomain &) = delete;
    RcuDomain &operator=(const RcuDomain &) = delete;
    // Frees everything still retired: the lcores have stopped by then.
    ~RcuDomain();

    // `name` names the rte_zmalloc allocation; `readers` 0 counts as 1.
    bool init(const char *name, uint32_t readers);
    // A reader id, registered and online; false when all are taken.
    bool add_reader(uint32_t *id);
    rte_rcu_qsbr *qsbr() const { return qsbr_; }

    // Queues `free` for after the grace period that starts now.
    void retire(std::function<void()> free);
    // Runs the frees whose grace period has ended, waiting up to `wait_ms`
    // for the rest. Readers that are not running (start-up, shutdown) never
    // report: what is left waits for a later call or the destructor.
    void reclaim(uint32_t wait_ms);
    std::size_t pending() const { return retired_.size(); }

  private:
    struct Retired {
        uint64_t token;
        std::function<void()> free;
    };
    rte_rcu_qsbr *qsbr_ = nullptr;
    uint32_t readers_ = 0, next_reader_ = 0;
    std::deque<Retired> retired_;
};

}  // namespace ep
