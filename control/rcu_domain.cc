#include "control/rcu_domain.h"

#include <rte_malloc.h>

#include <chrono>
#include <thread>

namespace ep {

RcuDomain::~RcuDomain() {
    for (Retired &r : retired_) r.free();
    retired_.clear();
    rte_free(qsbr_);
}

bool RcuDomain::init(const char *name, uint32_t readers) {
    readers_ = readers ? readers : 1;
    const size_t sz = rte_rcu_qsbr_get_memsize(readers_);
    qsbr_ = static_cast<rte_rcu_qsbr *>(rte_zmalloc(name, sz, RTE_CACHE_LINE_SIZE));
    return qsbr_ && rte_rcu_qsbr_init(qsbr_, readers_) == 0;
}

bool RcuDomain::add_reader(uint32_t *id) {
    if (next_reader_ >= readers_) return false;
    *id = next_reader_++;
    if (rte_rcu_qsbr_thread_register(qsbr_, *id) != 0) return false;
    rte_rcu_qsbr_thread_online(qsbr_, *id);
    return true;
}

void RcuDomain::retire(std::function<void()> free) {
    retired_.push_back({rte_rcu_qsbr_start(qsbr_), std::move(free)});
}

void RcuDomain::reclaim(uint32_t wait_ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (!retired_.empty()) {
        if (rte_rcu_qsbr_check(qsbr_, retired_.front().token, false) == 1) {
            retired_.front().free();
            retired_.pop_front();
            continue;
        }
        if (std::chrono::steady_clock::now() >= until) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace ep
