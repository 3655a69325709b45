#include "control/dns_tables.h"

#include "control/dns_zones.h"
#include "dataplane/dns/steer_plan.h"
#include "dataplane/dns_steering.h"

namespace ep {

bool DnsTables::init(uint32_t readers, const std::vector<int> &sockets, std::string *err) {
    if (!rcu_.init("dns_qsbr", readers)) {
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
    // The lcores have stopped: nobody reads any more (rcu_ frees what it
    // still holds after this).
    for (Slot &s : slots_) delete s.cur.exchange(nullptr);
    delete zones_.exchange(nullptr);
}

const std::atomic<const dns::Steering *> *DnsTables::steering(int socket) const {
    for (const Slot &s : slots_)
        if (s.socket == socket) return &s.cur;
    return &slots_.front().cur;
}

bool DnsTables::load_zones(const std::vector<std::string> &files, std::string *err) {
    std::unique_ptr<dns::ZoneTable> t = ep::load_zones(files, err);
    if (!t) return false;  // the published table stays
    std::lock_guard<std::mutex> g(mu_);
    const dns::ZoneTable *old = zones_.exchange(t.release(), std::memory_order_acq_rel);
    ++zones_version_;
    if (old) rcu_.retire([old] { delete old; });
    rcu_.reclaim(200);
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
        if (old) rcu_.retire([old] { delete old; });
    }
    steer_version_ = map.version;
    rcu_.reclaim(200);
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
