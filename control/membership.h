// Membership in etcd (issue 16, "Many appliances"): this appliance
// registers under <prefix><cluster>/<name> with a lease, renews it while it
// runs, and revokes it on drain or exit; every appliance reads the whole
// prefix and hands the live members to cluster selection
// (cluster::Engine::set_members), so the decision and the DNS answers
// follow membership. An appliance that dies stops renewing: etcd expires its
// lease after the TTL, its key goes, and the next read here drops it.
//
// One helper thread does every etcd call (blocking sockets, EtcdClient):
// made by the control thread after EAL init, so on the control lcore's
// CPUs, never a data core. The control loop never waits for it: set_self()
// and take() only try the mutex (a busy one means "next tick").
//
// Reading: a /v3/kv/range of the prefix every poll_ms rather than a
// /v3/watch stream: the gateway's watch is a long-lived chunked answer that
// needs a resumable parser and a revision to restart from; a range of a few
// hundred small keys every 500 ms is cheap for etcd and bounds staleness
// to poll_ms on top of the lease TTL.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/cluster/members.h"
#include "control/etcd_client.h"

namespace ep {

struct MembershipConfig {
    std::string endpoints;  // --etcd
    std::string prefix = "/edgeplane/appliances/";
    std::string name;     // --appliance-name
    std::string cluster;  // --appliance-cluster
    unsigned ttl_s = 5;   // --etcd-lease-ttl
    unsigned poll_ms = 500;
    int timeout_ms = 1000;  // one etcd call
};

struct MembershipStatus {
    bool registered = false;  // holds a lease with our key
    int64_t lease = 0;
    uint64_t grants = 0, keepalives = 0, puts = 0, reads = 0, errors = 0, lost = 0;
    std::string endpoint, last_error;
    uint64_t members = 0;  // in the last read
};

class Membership {
  public:
    ~Membership() { stop(); }
    bool start(const MembershipConfig &cfg, std::string *err);
    // Control thread: what we say of ourselves (put again when it changes).
    void set_self(const cluster::Member &self);
    // Control thread: a new read of the prefix since the last take()?
    bool take(std::vector<cluster::Member> *out);
    // Drain: revoke now and stop registering (the reads go on).
    void leave();
    // Exit: revoke, stop the thread.
    void stop();
    MembershipStatus status();
    std::string key() const { return cfg_.prefix + cfg_.cluster + "/" + cfg_.name; }
    const MembershipConfig &config() const { return cfg_; }

  private:
    void run();
    MembershipConfig cfg_;
    std::vector<EtcdEndpoint> endpoints_;
    std::thread thread_;
    std::mutex mu_;  // guards what follows; held for copies only
    std::condition_variable cv_;
    bool stop_ = false, leave_ = false;
    std::string self_json_;
    uint64_t self_version_ = 0;
    std::vector<cluster::Member> members_;
    uint64_t members_version_ = 0, taken_version_ = 0;
    MembershipStatus status_;
};

}  // namespace ep
