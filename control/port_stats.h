// What the ports' drivers count (rte_eth_stats) and the mbuf pool's level,
// for stats, /metrics and telemetry alike. These are drops before the data
// plane sees a frame: rx_nombuf when the pool had no mbuf to refill an RX
// ring, rx_missed when the ring was full.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "dataplane/port.h"
#include "dataplane/service.h"

struct rte_mempool;

namespace ep {

// fn(counter) for one port's driver counters.
void visit_port_counters(const Port &p, const CounterVisitor &fn);
// fn(gauge) for the pool: its size and what is out of it (caches included).
void visit_pool_gauges(const rte_mempool *pool, uint32_t size, const CounterVisitor &fn);

}  // namespace ep
