#include "control/membership.h"

#include <chrono>

#include "control/log.h"

namespace ep {

bool Membership::start(const MembershipConfig &cfg, std::string *err) {
    cfg_ = cfg;
    if (!parse_etcd_endpoints(cfg.endpoints, &endpoints_, err)) return false;
    if (cfg_.prefix.empty() || cfg_.prefix.back() != '/') cfg_.prefix += '/';
    thread_ = std::thread([this] { run(); });
    return true;
}

void Membership::set_self(const cluster::Member &self) {
    std::unique_lock<std::mutex> l(mu_, std::try_to_lock);
    if (!l.owns_lock()) return;  // the worker is copying: next tick
    std::string j = cluster::encode_member(self);
    if (j == self_json_) return;
    self_json_ = std::move(j);
    ++self_version_;
    cv_.notify_one();
}

bool Membership::take(std::vector<cluster::Member> *out) {
    std::unique_lock<std::mutex> l(mu_, std::try_to_lock);
    if (!l.owns_lock() || members_version_ == taken_version_) return false;
    taken_version_ = members_version_;
    *out = members_;
    return true;
}

void Membership::leave() {
    std::lock_guard<std::mutex> l(mu_);
    leave_ = true;
    cv_.notify_one();
}

void Membership::stop() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard<std::mutex> l(mu_);
        stop_ = true;
        cv_.notify_one();
    }
    thread_.join();
}

MembershipStatus Membership::status() {
    std::lock_guard<std::mutex> l(mu_);
    return status_;
}

void Membership::run() {
    using Clock = std::chrono::steady_clock;
    EtcdClient etcd(endpoints_, cfg_.timeout_ms);
    const std::string key = this->key();
    // Renew at a third of the TTL: two renewals may fail before it expires.
    const auto renew_every = std::chrono::milliseconds(std::max(300u, cfg_.ttl_s * 1000 / 3));
    const auto read_every = std::chrono::milliseconds(cfg_.poll_ms);
    int64_t lease = 0;
    uint64_t put_version = 0;
    bool left = false, reput = false;  // reput: a put failed, try again at the next renewal
    Clock::time_point next_renew{}, next_read{};
    std::string last_logged;
    auto fail = [&](const std::string &e) {
        std::lock_guard<std::mutex> l(mu_);
        status_.errors++;
        status_.last_error = e;
        if (e != last_logged) EP_LOG(WARNING, "etcd: %s", e.c_str());
        last_logged = e;
    };
    for (;;) {
        std::string self;
        uint64_t self_version;
        bool stopping, leaving;
        {
            std::unique_lock<std::mutex> l(mu_);
            stopping = stop_;
            leaving = leave_;
            self = self_json_;
            self_version = self_version_;
        }
        if ((stopping || leaving) && lease && !left) {
            std::string e;
            if (!etcd.revoke(lease, &e)) fail("revoke: " + e);
            EP_LOG(NOTICE, "etcd: %s left (lease revoked)", key.c_str());
            lease = 0;
            left = true;
            std::lock_guard<std::mutex> l(mu_);
            status_.registered = false;
            status_.lease = 0;
        }
        if (stopping) break;
        const auto now = Clock::now();
        if (!leaving && !self.empty()) {
            std::string e;
            if (lease == 0) {
                int64_t id = 0;
                if (etcd.grant(cfg_.ttl_s, &id, &e) && etcd.put(key, self, id, &e)) {
                    lease = id;
                    put_version = self_version;
                    next_renew = now + renew_every;
                    EP_LOG(NOTICE, "etcd: registered %s (lease %lld, ttl %u s) at %s", key.c_str(),
                           static_cast<long long>(id), cfg_.ttl_s, etcd.last_endpoint().c_str());
                    std::lock_guard<std::mutex> l(mu_);
                    status_.grants++, status_.puts++;
                    status_.registered = true;
                    status_.lease = id;
                    status_.endpoint = etcd.last_endpoint();
                } else {
                    fail("register: " + e);
                }
            } else {
                if (put_version != self_version || (reput && now >= next_renew)) {
                    put_version = self_version;
                    reput = !etcd.put(key, self, lease, &e);
                    if (reput) {
                        fail("put: " + e);
                    } else {
                        std::lock_guard<std::mutex> l(mu_);
                        status_.puts++;
                    }
                }
                if (now >= next_renew) {
                    bool alive = false;
                    if (etcd.keepalive(lease, &alive, &e)) {
                        next_renew = now + renew_every;
                        std::lock_guard<std::mutex> l(mu_);
                        status_.keepalives++;
                        if (!alive) {
                            // Expired (we were cut off longer than the TTL):
                            // register again from scratch.
                            status_.lost++;
                            status_.registered = false;
                            lease = 0;
                        }
                    } else {
                        fail("keepalive: " + e);
                    }
                }
            }
        }
        if (now >= next_read) {
            next_read = now + read_every;
            std::vector<std::pair<std::string, std::string>> kvs;
            std::string e;
            if (etcd.range_prefix(cfg_.prefix, &kvs, &e)) {
                std::vector<cluster::Member> ms;
                for (const auto &[k, v] : kvs) {
                    cluster::Member m;
                    std::string why;
                    if (cluster::decode_member(v, &m, &why))
                        ms.push_back(std::move(m));
                    else
                        fail("ignoring " + k + ": " + why);
                }
                std::lock_guard<std::mutex> l(mu_);
                status_.reads++;
                status_.members = ms.size();
                status_.endpoint = etcd.last_endpoint();
                if (ms != members_ || members_version_ == 0) {
                    members_ = std::move(ms);
                    ++members_version_;
                }
            } else {
                fail("read: " + e);
            }
        }
        std::unique_lock<std::mutex> l(mu_);
        const auto until = lease && !leaving ? std::min(next_read, next_renew) : next_read;
        cv_.wait_until(l, until, [&] {
            return stop_ || (leave_ && lease) || (self_version_ != put_version && lease);
        });
    }
}

}  // namespace ep
