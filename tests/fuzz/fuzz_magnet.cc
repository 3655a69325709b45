// libFuzzer target: the magnet URI parser (dataplane/swarm/magnet.cc). Any
// input: a verdict, never a crash; an accepted link has a hash, at most 64
// trackers and peers, and every peer has a port.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dataplane/swarm/magnet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::swarm;
    Magnet m;
    const MagnetError e =
        parse_magnet(std::string_view(reinterpret_cast<const char *>(data), size), &m);
    if (e == MagnetError::ok) {
        if (m.trackers.size() > 64 || m.peers.size() > 64) std::abort();
        for (const auto &p : m.peers)
            if (p.second == 0) std::abort();
    }
    return 0;
}
