// `edgectl store`: what the chunk store holds against what it can hold, and
// what the disk tier's eviction of filled content did (issue 14). One line
// per object: its chunks on disk and in RAM, so an operator (and a test) can
// tell which objects a restart will serve from disk and which it will fetch
// from the origin again.
#include <cstdio>
#include <string>

#include "control/daemon.h"

namespace ep {

namespace {
unsigned long long mib(uint64_t b) {
    return static_cast<unsigned long long>(b >> 20);
}
unsigned long long ull(uint64_t v) {
    return static_cast<unsigned long long>(v);
}
}  // namespace

void Daemon::write_store_report(Reply &out) const {
    if (!store_) return out.write("no store\n");
    const chunkstore::Usage u = store_->usage();
    const chunkstore::Counters c = store_->counters();
    char line[512];
    std::snprintf(line, sizeof line, "ram  %llu/%llu MiB used, %llu chunks resident\n",
                  mib(u.ram_bytes_used), mib(u.ram_capacity_bytes), ull(u.ram_resident_chunks));
    out.write(line);
    if (!store_->has_disk()) {
        out.write("disk none (RAM-only store)\n");
    } else {
        uint64_t filled = 0;
        store_->for_each_fill_record([&filled](chunkstore::ChunkKey) { ++filled; });
        std::snprintf(line, sizeof line,
                      "disk %llu/%llu MiB used, %llu/%llu record slots, %llu records of filled "
                      "objects, %llu of ingested ones (never evicted for fills)\n",
                      mib(u.disk_bytes_used), mib(u.disk_capacity_bytes),
                      ull(store_->disk_slots() - store_->disk_free_slots()),
                      ull(store_->disk_slots()), ull(filled), ull(u.disk_chunks - filled));
        out.write(line);
        std::snprintf(line, sizeof line,
                      "fills to disk: %llu written, %llu evicted (%llu MiB, %llu objects left "
                      "with none), %llu skipped (%llu for want of room), %llu not admitted\n",
                      ull(c.fill_disk_writes), ull(c.fill_disk_evicted),
                      mib(c.fill_disk_evicted_bytes), ull(c.fill_disk_evicted_objects),
                      ull(c.fill_disk_skipped), ull(c.fill_disk_no_room), ull(c.fill_not_admitted));
        out.write(line);
    }
    // disk/chunks ram/chunks kind name
    store_->for_each_object([&](const chunkstore::ObjectMeta &m) {
        uint32_t disk = 0, ram = 0;
        for (uint32_t i = 0; i < m.chunk_count && !m.negative_status; ++i) {
            const chunkstore::ChunkKey k = chunkstore::chunk_key(m.id, i);
            disk += store_->on_disk(k);
            const chunkstore::Chunk *ch = store_->resident_chunk(k);
            ram += ch && ch->generation == m.generation;
        }
        char head[80];
        std::snprintf(head, sizeof head, "%6u/%-6u %6u/%-6u %-8s ", disk, m.chunk_count, ram,
                      m.chunk_count,
                      m.negative_status ? "negative"
                      : m.filled        ? "filled"
                                        : "ingested");
        out.write(std::string(head).append(m.name_view()).append("\n"));
    });
}

}  // namespace ep
