#include "control/dns_tables.h"

#include <rte_malloc.h>

#include <chrono>
#include <thread>

#include "control/dns_zones.h"
#include "dataplane/dns/steer_plan.h"
#include "dataplane/dns_steering.h"

namespace ep {

bool DnsTables::init(uint32_t readers, const std::vector<int> &sockets, std::string *err) {
    readers_ = readers ? readers : 1;
    const size_t sz = rte_rcu_qsbr_get_memsize(readers_);
    qsbr_ = static_cast<rte_rcu_qsbr *>(rte_zmalloc("dns_qsbr", sz, RTE_CACHE_LINE_SIZE));
    if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, readers_) != 0) {
        *err = "DNS: cannot allocate the RCU state";
        return false;
    }
    for (int s : sockets) {
        bool seen = false;
        for (const Slot &x : slots_) seen |= x.socket == s;
        if (!seen) slots_.emplace_back().socket = s;
    }
    if (slots_.empty()) slots_.emplace_back().socket = 0;
    return true;
}

DnsTables::~DnsTables() {
    // The lcores have stopped: nobody reads any more.
    for (Retired &r : retired_) r.free();
    retired_.clear();
    for (Slot &s : slots_) delete s.cur.exchange(nullptr);
    delete zones_.exchange(nullptr);
    rte_free(qsbr_);
}

bool DnsTables::add_reader(uint32_t *id) {
    if (next_reader_ >= readers_) return false;
    *id = next_reader_++;
    if (rte_rcu_qsbr_thread_register(qsbr_, *id) != 0) return false;
    rte_rcu_qsbr_thread_online(qsbr_, *id);
    return true;
}

const std::atomic<const dns::Steering *> *DnsTables::steering(int socket) const {
    for (const Slot &s : slots_)
        if (s.socket == socket) return &s.cur;
    return &slots_.front().cur;
}

void DnsTables::retire(std::function<void()> free) {
    retired_.push_back({rte_rcu_qsbr_start(qsbr_), std::move(free)});
}

void DnsTables::reclaim(uint32_t wait_ms) {
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

bool DnsTables::load_zones(const std::vector<std::string> &files, std::string *err) {
    std::unique_ptr<dns::ZoneTable> t = ep::load_zones(files, err);
    if (!t) return false;  // the published table stays
    std::lock_guard<std::mutex> g(mu_);
    const dns::ZoneTable *old = zones_.exchange(t.release(), std::memory_order_acq_rel);
    ++zones_version_;
    if (old) retire([old] { delete old; });
    reclaim(200);
    return true;
}

bool DnsTables::publish_steering(const dns::SteerMap &map, std::string *err) {
    dns::SteerPlan plan;
    if (!dns::plan_steering(map, &plan, err)) return false;
    std::vector<std::unique_ptr<FibSteering>> built;
    for (const Slot &s : slots_) {
        std::unique_ptr<FibSteering> f = FibSteering::build(plan, s.socket, err);
        if (!f) return false;  // everything built so far is freed; nothing changed
        f->version = map.version;
        built.push_back(std::move(f));
    }
    std::lock_guard<std::mutex> g(mu_);
    for (size_t i = 0; i < slots_.size(); ++i) {
        const dns::Steering *old =
            slots_[i].cur.exchange(built[i].release(), std::memory_order_acq_rel);
        if (old) retire([old] { delete old; });
    }
    steer_version_ = map.version;
    reclaim(200);
    return true;
}

std::unique_ptr<DnsTables> &dns_tables_slot() {
    static std::unique_ptr<DnsTables> t;
    return t;
}

DnsTables *dns_tables() {
    return dns_tables_slot().get();
}

namespace {
std::vector<std::string> &zone_files() {
    static std::vector<std::string> f;
    return f;
}
}  // namespace

void set_dns_zone_files(const std::vector<std::string> &files) {
    zone_files() = files;
}

bool reload_dns_zones(std::string *err) {
    DnsTables *t = dns_tables();
    if (!t) return *err = "the DNS service is off", false;
    return t->load_zones(zone_files(), err);
}

bool publish_steering(const dns::SteerMap &map, std::string *err) {
    DnsTables *t = dns_tables();
    if (!t) return *err = "the DNS service is off", false;
    return t->publish_steering(map, err);
}

}  // namespace ep
