// Helpers the fill tests share (fill_disk_test.cc, fill_evict_test.cc): a
// store over a scratch disk file, opened with reader kTid registered, the
// bytes of chunk i of an object, a promotion driven through the data-core
// path, and the disk slot whose record header names a key.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "chunkstore/record.h"
#include "chunkstore/store.h"
#include "tests/chunkstore/test_util.h"

namespace ep::chunkstore::test {

constexpr uint32_t kTid = 0;

inline Config disk_config(const TempDir &d, uint32_t ram_slots, uint32_t disk_slots,
                          const char *name) {
    Config c;
    c.ram_capacity_bytes = uint64_t{ram_slots} * kChunkSize;
    c.max_objects = 64;
    c.path = d.file("store.eps");
    c.disk_capacity_bytes = uint64_t{disk_slots} * kRecordSize;
    c.name = name;
    return c;
}

inline std::unique_ptr<Store> open_ok(const Config &c, OpenReport *rep = nullptr) {
    std::string err;
    auto s = Store::open(c, &err, rep);
    EXPECT_TRUE(s) << err;
    if (s) {
        EXPECT_TRUE(s->register_reader(kTid));
    }
    return s;
}

inline std::vector<uint8_t> chunk_of(const std::vector<uint8_t> &d, uint32_t i) {
    const size_t off = size_t{i} * kChunkSize;
    const size_t len = std::min<size_t>(kChunkSize, d.size() - off);
    return {d.begin() + off, d.begin() + off + len};
}

// Promotes chunk i through the data-core path (request, poll, lookup) and
// returns its bytes, or nothing when the store settled the request without it.
inline std::vector<uint8_t> promoted(Store &s, const ObjectMeta &m, uint32_t i) {
    const ChunkKey key = chunk_key(m.id, i);
    for (int n = 0; n < 200000; ++n) {
        if (Chunk *c = s.lookup(kTid, m, i)) return {c->data, c->data + c->len};
        if (n > 256 && !s.on_disk(key)) return {};  // no record (any more): nothing comes
        if (n % 64 == 0) s.request_promotion(kTid, key);
        s.poll();
        s.quiescent(kTid);
    }
    return {};
}

// The slot whose header says `key`, or -1.
inline int64_t slot_of(const std::string &path, ChunkKey key, uint32_t slots) {
    int fd = ::open(path.c_str(), O_RDONLY);
    std::vector<uint8_t> h(kHeaderSize);
    int64_t found = -1;
    for (uint32_t s = 0; s < slots && found < 0; ++s) {
        if (pread(fd, h.data(), kHeaderSize, static_cast<off_t>(uint64_t{s} * kRecordSize)) !=
            static_cast<ssize_t>(kHeaderSize))
            break;
        RecordHeader r;
        if (decode_header(h.data(), &r) == HeaderCheck::ok && r.key == key) found = s;
    }
    ::close(fd);
    return found;
}

}  // namespace ep::chunkstore::test
