#include "control/http_steer_tables.h"

namespace ep {

bool HttpSteerTables::init(uint32_t readers, std::string *err) {
    if (!rcu_.init("http_steer_qsbr", readers)) {
        *err = "HTTP steering: cannot allocate the RCU state";
        return false;
    }
    return true;
}

HttpSteerTables::~HttpSteerTables() {
    // The lcores have stopped: nobody reads any more (rcu_ frees what it
    // still holds after this).
    delete cur_.exchange(nullptr);
}

bool HttpSteerTables::publish(const http::SteerMap &map, std::string *err) {
    std::unique_ptr<HttpSteerTable> t = HttpSteerTable::build(map, err);
    if (!t) return false;
    std::lock_guard<std::mutex> g(mu_);
    routes_ = t->routes();
    const HttpSteerTable *old = cur_.exchange(t.release(), std::memory_order_acq_rel);
    if (old) rcu_.retire([old] { delete old; });
    ++published_;
    version_ = map.version;
    rcu_.reclaim(200);
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
