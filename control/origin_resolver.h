// Names of origin servers (issue 14: "one or more origin servers by address
// or name"), resolved off the data plane. The appliance's own DNS server is
// authoritative only, not a resolver, so this uses the system's
// (getaddrinfo: /etc/hosts, then resolv.conf), which may block for seconds:
// it runs on a helper thread of its own, never on the control loop and
// never on a data lcore. It looks every name up at start, every
// `every_s` seconds, and when kicked (a reload); the control loop's tick
// (control/service_table.cc) sees `generation()` move and publishes a new
// route table with the addresses filled in, the same way a reload
// publishes new routes (the lcores take it at their next poll).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/origin_fill.h"

namespace ep {

class OriginResolver {
  public:
    struct Result {
        uint32_t ip_be = 0;  // 0: no IPv4 address (yet, or the name does not resolve)
        std::string error;   // the last failure's text (gai_strerror), empty when it resolved
        int64_t when_unix_s = 0;
        uint64_t failures = 0;
    };

    ~OriginResolver() { stop(); }
    void start(std::vector<std::string> names, unsigned every_s);
    // New names (a reload), looked up at once.
    void set_names(std::vector<std::string> names);
    void kick();  // look every name up now
    void stop();
    // Moves whenever a name's address changes (or its failure text does).
    uint64_t generation() const { return gen_.load(std::memory_order_acquire); }
    std::map<std::string, Result> results() const;
    const OriginResolveCounters &counters() const { return ctr_; }

  private:
    void run();
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::string> names_;
    std::map<std::string, Result> results_;
    bool stop_ = false, kicked_ = false;
    unsigned every_s_ = 30;
    std::atomic<uint64_t> gen_{0};
    OriginResolveCounters ctr_;
    std::thread thread_;
};

// The names of every named server of `t`, once each.
std::vector<std::string> origin_names(const origin::Table &t);
// `base` with every named server's address from `res` (0 where unknown).
void fill_addresses(origin::Table *t, const std::map<std::string, OriginResolver::Result> &res);

}  // namespace ep
