// Private pieces shared by store.cc and store_disk.cc.
#pragma once

#include <sys/uio.h>

#include <cstdint>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#include "chunkstore/store.h"

namespace ep::chunkstore {

// What a data core puts on the promotion ring (rte_ring elements of 16
// bytes, a multiple of 4 as rte_ring_create_elem wants).
struct PromoRequest {
    ChunkKey key;
    WaiterId waiter;  // kNoWaiter: nobody to tell
    uint32_t pad;
};
static_assert(sizeof(PromoRequest) == 16);

// One in-flight disk request: the record's header and checksum area
// followed by a 256 KiB staging payload, laid out as on disk (4 KiB aligned
// for O_DIRECT). A RAM-bound payload goes straight into the chunk's slab
// slot instead of the staging area.
struct Store::IoBuf {
    enum Kind : uint8_t { write, promote, sync, fill_write };
    uint8_t *mem = nullptr;
    uint8_t *hdr() { return mem; }
    uint8_t *csum_area() { return mem + kHeaderSize; }
    uint8_t *staging() { return mem + kPayloadOffset; }
    iovec iov[2]{};
    Kind kind = write;
    Chunk *ram = nullptr;
    ChunkKey key = 0;
    uint32_t slot = 0;
    uint32_t len = 0;
    uint64_t generation = 0;
    uint64_t tag = 0;  // caller's index for batched sync reads
    int32_t res = 0;
    bool done = false;
};

}  // namespace ep::chunkstore
