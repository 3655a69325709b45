// The body of the fuzz_fetch_session target (fuzz_fetch_session.cc) as a
// function, so that test_fuzz_fetch_session.cc can check what the serving
// seeds reach: the fuzzer's replay only shows that no invariant broke.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/swarm/fetch_session.h"

namespace ep::swarm::test {

struct FetchRunResult {
    FetchCounters counters;  // the run's, summed over its sessions
    uint32_t pieces = 0;     // the torrent's (byte 1 + 1); 0: input too short
    bool complete = false;   // the picker had every piece at the end
};

FetchRunResult fuzz_fetch_session(const uint8_t *data, std::size_t size);

}  // namespace ep::swarm::test
