// What a data-plane application is to the lcore that runs it. A Service is
// built per queue (per data lcore and port) by its row of the service table
// (control/service_table.cc), is polled once per loop iteration with a clock
// read once for all services, and shows its counters through one visitor:
// nothing outside the service and its table row names its fields.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace ep {

// Read once per loop iteration, shared by every service on the lcore.
struct Clock {
    uint64_t now_ns = 0;  // monotonic, from the lcore's TSC
    int64_t unix_s = 0;   // wall clock, for HTTP Date and logs
};

// One counter as every output shows it: `edgectl stats` by name, /metrics
// and telemetry with its help text (Prometheus # HELP) and kind. Gauges are
// levels (summed across instances, never rated).
struct CounterRef {
    std::string_view name;  // unique within the service's section
    std::string_view help;
    uint64_t value = 0;
    bool gauge = false;
};

// Called on the control thread; a service reads its lcore-written counters
// relaxed. Every instance of a service visits the same names in the same
// order, so sums go by position.
using CounterVisitor = std::function<void(const CounterRef &)>;

class Service {
  public:
    virtual ~Service() = default;
    // The stats section: `edgectl stats NAME`.
    virtual std::string_view name() const = 0;
    // Once per loop iteration on the owning lcore: timers, waiting work.
    // Fast path: no locks, syscalls, allocation or exceptions.
    virtual void poll(const Clock &) {}
    virtual void visit_counters(const CounterVisitor &fn) const = 0;
};

}  // namespace ep
