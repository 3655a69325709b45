// EAL start-up for tools and tests that have no daemon around them:
// never probes PCI, no hugepages, no shared config (nothing to clean up).
#pragma once

#include <string>
#include <vector>

namespace ep::chunkstore {

// tag names the process in --file-prefix (with the pid appended).
// mem_mb is the --no-huge heap size; extra goes on the command line after
// the rest (e.g. "--vdev=net_ring0"). Returns false (and logs) on failure.
bool init_tool_eal(const std::string &tag, unsigned mem_mb = 512,
                   const std::vector<std::string> &extra = {});

}  // namespace ep::chunkstore
