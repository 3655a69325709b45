#include "control/origin_resolver.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace ep {

void OriginResolver::start(std::vector<std::string> names, unsigned every_s) {
    names_ = std::move(names);
    every_s_ = std::max(every_s, 1u);
    kicked_ = true;  // the first round at once
    thread_ = std::thread([this] { run(); });
}

void OriginResolver::set_names(std::vector<std::string> names) {
    {
        std::lock_guard<std::mutex> g(mu_);
        names_ = std::move(names);
        kicked_ = true;
    }
    cv_.notify_all();
}

void OriginResolver::kick() {
    {
        std::lock_guard<std::mutex> g(mu_);
        kicked_ = true;
    }
    cv_.notify_all();
}

void OriginResolver::stop() {
    {
        std::lock_guard<std::mutex> g(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::map<std::string, OriginResolver::Result> OriginResolver::results() const {
    std::lock_guard<std::mutex> g(mu_);
    return results_;
}

void OriginResolver::run() {
    std::unique_lock<std::mutex> lk(mu_);
    while (!stop_) {
        cv_.wait_for(lk, std::chrono::seconds(every_s_), [&] { return stop_ || kicked_; });
        if (stop_) return;
        kicked_ = false;
        const std::vector<std::string> names = names_;
        lk.unlock();  // getaddrinfo may take seconds: nobody waits on the lock meanwhile
        std::map<std::string, Result> found;
        for (const std::string &n : names) {
            addrinfo hints{};
            hints.ai_family = AF_INET;  // the data plane's TCP client is IPv4
            hints.ai_socktype = SOCK_STREAM;
            addrinfo *ai = nullptr;
            const int rc = getaddrinfo(n.c_str(), nullptr, &hints, &ai);
            Result r;
            r.when_unix_s = static_cast<int64_t>(std::time(nullptr));
            ctr_.origin_resolves.fetch_add(1, std::memory_order_relaxed);
            if (rc == 0 && ai) {
                // The first address (the resolver's order, RFC 6724 for glibc).
                r.ip_be = reinterpret_cast<const sockaddr_in *>(ai->ai_addr)->sin_addr.s_addr;
            } else {
                r.error = gai_strerror(rc);
                ctr_.origin_resolve_failures.fetch_add(1, std::memory_order_relaxed);
            }
            if (ai) freeaddrinfo(ai);
            found[n] = r;
        }
        lk.lock();
        bool changed = false;
        for (auto &[n, r] : found) {
            auto it = results_.find(n);
            if (it != results_.end()) r.failures = it->second.failures;
            if (!r.error.empty()) ++r.failures;
            if (it == results_.end() || it->second.ip_be != r.ip_be ||
                it->second.error != r.error) {
                changed = true;
                if (it != results_.end() && it->second.ip_be != r.ip_be)
                    ctr_.origin_resolve_changes.fetch_add(1, std::memory_order_relaxed);
            }
            results_[n] = r;
        }
        if (changed) gen_.fetch_add(1, std::memory_order_release);
    }
}

std::vector<std::string> origin_names(const origin::Table &t) {
    std::vector<std::string> out;
    for (size_t i = 0; i < t.size(); ++i)
        for (uint8_t k = 0; k < t.at(i).nservers; ++k) {
            const std::string n(t.at(i).servers[k].name_view());
            if (!n.empty() && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
        }
    return out;
}

void fill_addresses(origin::Table *t, const std::map<std::string, OriginResolver::Result> &res) {
    for (size_t i = 0; i < t->size(); ++i) {
        origin::Route &r = t->at(i);
        for (uint8_t k = 0; k < r.nservers; ++k) {
            origin::Server &s = r.servers[k];
            if (s.name_len == 0) continue;
            auto it = res.find(std::string(s.name_view()));
            s.ip_be = it == res.end() ? 0 : it->second.ip_be;
        }
    }
}

}  // namespace ep
