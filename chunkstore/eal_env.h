// EAL start-up for tools and tests that have no daemon around them:
// never probes PCI, no hugepages, no shared config (nothing to clean up).
#pragma once

#include <string>

namespace ep::chunkstore {

// tag names the process in --file-prefix (with the pid appended).
// mem_mb is the --no-huge heap size. Returns false (and logs) on failure.
bool init_tool_eal(const std::string &tag, unsigned mem_mb = 512);

}  // namespace ep::chunkstore
