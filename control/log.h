// Logging for the daemon through rte_log, so DPDK's --log-level and its
// log stream settings apply to our lines as well.
#pragma once

#include <rte_log.h>

namespace ep {
int log_type();
}

#define EP_LOG(level, fmt, ...) \
    rte_log(RTE_LOG_##level, ::ep::log_type(), "edgeplane: " fmt "\n", ##__VA_ARGS__)
