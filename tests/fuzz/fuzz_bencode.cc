// libFuzzer target: the strict bencode decoder (dataplane/swarm/bencode.cc).
// What decodes must be canonical, so writing the tree back with BWriter
// gives the input byte for byte; read_torrent must survive anything.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dataplane/swarm/bencode.h"
#include "dataplane/swarm/metainfo.h"

namespace {
using namespace ep::swarm;

uint32_t write(const BNode *n, uint32_t i, BWriter &w) {
    switch (n[i].type) {
        case BType::kInt:
            w.integer(n[i].i);
            return i + 1;
        case BType::kStr:
            w.str(n[i].s);
            return i + 1;
        case BType::kList:
        case BType::kDict: {
            n[i].type == BType::kList ? w.begin_list() : w.begin_dict();
            const uint32_t items = n[i].type == BType::kList ? n[i].count : 2 * n[i].count;
            uint32_t k = i + 1;
            for (uint32_t c = 0; c < items; ++c) k = write(n, k, w);
            w.end();
            if (k != n[i].next) std::abort();
            return k;
        }
    }
    std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char *>(data), size);
    static BNode nodes[512];
    uint32_t n = 0;
    BLimits lim;
    lim.max_depth = 16;
    if (bdecode(in, nodes, 512, &n, lim) == BError::kOk) {
        std::string out;
        BWriter w(&out);
        if (write(nodes, 0, w) != n) std::abort();
        if (out != in) std::abort();  // canonical: one encoding per value
        if (nodes[0].s != in && nodes[0].type != BType::kInt && nodes[0].type != BType::kStr)
            std::abort();
    }
    TorrentSummary s;
    (void)read_torrent(in, &s);
    return 0;
}
