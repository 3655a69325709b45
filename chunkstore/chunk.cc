#include "chunkstore/chunk.h"

#include <cstdio>

namespace ep::chunkstore {

void chunk_release_cb(void *, void *opaque) {
    auto *c = static_cast<Chunk *>(opaque);
    // Runs on whichever core dropped the last reference (often a data core
    // freeing a transmitted mbuf): no locks, no allocation. The ring has room
    // for every slot, so this cannot fail.
    rte_ring_mp_enqueue(c->release_ring, c);
}

void ObjectMeta::etag_string(char out[19]) const {
    std::snprintf(out, 19, "\"%016llx\"", static_cast<unsigned long long>(etag));
}

}  // namespace ep::chunkstore
