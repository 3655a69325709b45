// Policies by name, the same names in the daemon config and the simulator.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cache/policy.h"

namespace ep::cache {

// What "default" resolves to everywhere (see docs/cache.md for why).
std::string_view default_policy_name();

// Names accepted by make_policy, "default" included.
std::vector<std::string> policy_names();

// nullptr when the name is unknown. Names:
//   lru fifo sieve s3fifo belady belady-size
//   tinylfu+lru tinylfu+fifo tinylfu+sieve tinylfu+s3fifo
//   s3fifo+sketch[@T]   S3-FIFO whose misses go straight to main when a
//                       TinyLFU sketch has seen the key more than T times
//   default
std::unique_ptr<Policy> make_policy(std::string_view name, const PolicyConfig &cfg);

// True for policies that need Request::next_access (offline oracles).
bool needs_future(std::string_view name);

}  // namespace ep::cache
