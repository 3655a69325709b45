// The services the data plane can host, one row each: the only place besides
// each service's own code and config keys that names one. The daemon builds
// every row's service on every queue (a row returns nullptr when its config
// turns it off) and lists counters by visiting them (dataplane/service.h).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "control/admin_socket.h"
#include "control/config.h"
#include "dataplane/service.h"

namespace ep {

namespace chunkstore {
class Store;
}
namespace http {
struct HttpConfig;
}
namespace tcp {
class Stack;
}
struct AccessSink;
struct TrackerShared;
struct Lcore;
struct LcoreQueue;

// What a service may use on the queue it is built for.
struct ServiceEnv {
    const Config &cfg;
    const http::HttpConfig &http_cfg;
    Lcore *lc;
    LcoreQueue *q;
    tcp::Stack *stack;  // this queue's TCP engine
    chunkstore::Store *store;
    AccessSink *access;  // this lcore's access ring
    TrackerShared *tracker = nullptr;  // the tracker's shared state (nullptr: tracker off)
};

struct ServiceRow {
    const char *section;  // its stats section (and Service::name())
    // Builds the service for one queue; nullptr with *err empty: off in cfg.
    std::unique_ptr<Service> (*make)(const ServiceEnv &env, std::string *err);
    // Optional: admin commands of the service. `all` is every service the
    // daemon built (it outlives the commands); pick yours by name().
    void (*commands)(AdminSocket &admin, const Config &cfg,
                     const std::vector<std::unique_ptr<Service>> &all);
    // Optional: the TCP port the service listens on in cfg (0: none), which
    // a drain stops accepting connections on.
    uint16_t (*tcp_port)(const Config &cfg) = nullptr;
};

std::span<const ServiceRow> service_table();

}  // namespace ep
