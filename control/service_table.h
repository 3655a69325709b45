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
namespace tcp {
class Stack;
}
struct AccessSink;
class ResponseLog;
struct Lcore;
struct LcoreQueue;

// What a row's setup sees, once, on the control thread, before any queue's
// service is built: a service keeps what its queues share (a config derived
// from cfg, a table every lcore reads) in its row's own state.
struct ServiceSetup {
    const Config &cfg;
    chunkstore::Store *store;
    uint32_t lcores;     // data lcores
    uint32_t queues;     // queues over all lcores and ports (service instances per row)
    uint32_t ip_be;      // the first port's address, for URLs the service hands out
};

// What an ingest stored, for rows that derive content from it (torrents).
struct IngestEvent {
    const std::string &path;    // the file or directory ingested
    const std::string &prefix;  // the name prefix it was stored under
    const std::vector<std::string> &stored;  // object names, in ingest order
};

// What a service may use on the queue it is built for.
struct ServiceEnv {
    const Config &cfg;
    Lcore *lc;
    LcoreQueue *q;
    tcp::Stack *stack;  // this queue's TCP engine
    chunkstore::Store *store;
    AccessSink *access;  // this lcore's access ring
    ResponseLog *response_log = nullptr;  // this lcore's access-log ring; nullptr: off
};

// What a row's reload hook sees (SIGHUP, edgectl reload), on the control
// thread while the lcores serve: the running config and the validated next
// one. A hook applies what of its keys changed without dropping a
// connection (publish a new table with RCU, store new limits the lcores read
// relaxed) and reports a line per change; or it returns false with *err and
// leaves everything as it was (the daemon then rejects the whole reload;
// rows are called before the daemon applies its own keys).
struct ServiceReload {
    const Config &old_cfg;
    const Config &next;
    chunkstore::Store *store;
    Reply &out;
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
    // Optional: once before the queues' services are built (false + *err:
    // the daemon does not start), and once after they are all destroyed.
    bool (*setup)(const ServiceSetup &s, std::string *err) = nullptr;
    void (*teardown)() = nullptr;
    // Optional: after every ingest, on the control thread; may report lines.
    void (*on_ingest)(const Config &cfg, const IngestEvent &ev, Reply &out) = nullptr;
    // Optional: live reload of the row's keys (see ServiceReload). A key no
    // hook takes and the daemon does not either needs a restart, and the
    // reload says so.
    bool (*reload)(const ServiceReload &r, std::string *err) = nullptr;
    // Optional (last, so rows without it need not name it): after `remove` or `purge` removed these
    // objects, on the control thread; may report lines (the tracker row forgets torrents).
    void (*on_remove)(const Config &cfg, const std::vector<std::string> &removed,
                      Reply &out) = nullptr;
    // Optional: once per control-loop tick (2 ms), holding the store gate,
    // after the store's own work: rows that hand work to the lcores and
    // finish it on the control thread (fill mode publishes torrents).
    void (*tick)() = nullptr;
};

std::span<const ServiceRow> service_table();

}  // namespace ep
