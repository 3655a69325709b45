#include "control/http_steer_tables.h"

#include <rte_malloc.h>

#include <chrono>
#include <thread>

namespace ep {

bool HttpSteerTables::init(uint32_t readers, std::string *err) {
    readers_ = readers ? readers : 1;
    const size_t sz = rte_rcu_qsbr_get_memsize(readers_);
    qsbr_ = static_cast<rte_rcu_qsbr *>(rte_zmalloc("http_steer_qsbr", sz, RTE_CACHE_LINE_SIZE));
    if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, readers_) != 0) {
        *err = "HTTP steering: cannot allocate the RCU state";
        return false;
    }
    return true;
}

HttpSteerTables::~HttpSteerTables() {
    // The lcores have stopped: nobody reads any more.
    for (Retired &r : retired_) r.free();
    retired_.clear();
    delete cur_.exchange(nullptr);
    rte_free(qsbr_);
}

bool HttpSteerTables::add_reader(uint32_t *id) {
    if (next_reader_ >= readers_) return false;
    *id = next_reader_++;
    if (rte_rcu_qsbr_thread_register(qsbr_, *id) != 0) return false;
    rte_rcu_qsbr_thread_online(qsbr_, *id);
    return true;
}

void HttpSteerTables::reclaim(uint32_t wait_ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (!retired_.empty()) {
        if (rte_rcu_qsbr_check(qsbr_, retired_.front().token, false) == 1) {
            retired_.front().free();
            retired_.pop_front();
            continue;
        }
        // Lcores not running (start-up, shutdown) never report: what is
        // left is freed by a later call or the destructor.
        if (std::chrono::steady_clock::now() >= until) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

bool HttpSteerTables::publish(const http::SteerMap &map, std::string *err) {
    std::unique_ptr<HttpSteerTable> t = HttpSteerTable::build(map, err);
    if (!t) return false;
    std::lock_guard<std::mutex> g(mu_);
    routes_ = t->routes();
    const HttpSteerTable *old = cur_.exchange(t.release(), std::memory_order_acq_rel);
    if (old) retired_.push_back({rte_rcu_qsbr_start(qsbr_), [old] { delete old; }});
    ++published_;
    version_ = map.version;
    reclaim(200);
    return true;
}

std::unique_ptr<HttpSteerTables> &http_steer_tables_slot() {
    static std::unique_ptr<HttpSteerTables> t;
    return t;
}

HttpSteerTables *http_steer_tables() {
    return http_steer_tables_slot().get();
}

}  // namespace ep
