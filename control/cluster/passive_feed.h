// The passive measurement feed's control-thread half, the pure part: one
// RttRecord (dataplane/rtt_record.h: what a data lcore's TCP stack measured
// of one connection) into Measurements for this appliance's cluster.
// RTT = the connection's SRTT; loss = retransmitted / sent data segments
// (no data sent: 0 %). The record's peer address is aggregated per /24
// (/48) by Measurements.
#pragma once

#include <cstdint>

#include "control/cluster/measurements.h"
#include "dataplane/rtt_record.h"

namespace ep::cluster {

struct PassiveCounters {
    uint64_t ingested = 0;    // records added to Measurements
    uint64_t no_cluster = 0;  // ignored: this appliance's cluster is not known (not in the model)
};

// The record's peer as a Prefix (IPv4-mapped -> IPv4 /32, else IPv6 /128).
Prefix record_address(const RttRecord &r);

// self_cluster < 0: no cluster configured, the record is counted and ignored.
void ingest_record(const RttRecord &r, int32_t self_cluster, Measurements &m, double now_s,
                   PassiveCounters *ctr);

}  // namespace ep::cluster
