// Chunk store microbenchmarks (results: docs/benchmarks.md, "Chunk store").
//   BM_IndexLookup/BM_IndexLookupBulk: the chunk index (rte_hash LF) at 1 M
//     keys, metadata-only entries, random keys.
//   BM_StoreLookupPin: Store::lookup_pinned + unpin on a resident chunk.
//   BM_PinAttachFree: attach one 64 KiB slice (pins) and free the mbuf.
//   BM_Ingest*: put_object throughput, RAM only and RAM+disk.
//   BM_DiskPromote: disk-tier chunk reads through the promotion path
//     (io_uring O_DIRECT, checksum verified, inserted in RAM); compare with
//     fio on the same file: bench/chunkstore_disk_vs_fio.sh.
// EAL: --no-pci --no-huge by default; CS_BENCH_HUGE=1 uses hugepages.
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "chunkstore/index.h"
#include "chunkstore/store.h"

using namespace ep::chunkstore;

namespace {

std::string prefix() {
    return "cs-bench-" + std::to_string(getpid());
}

bool init_eal() {
    const bool huge = std::getenv("CS_BENCH_HUGE") != nullptr;
    std::vector<std::string> args = {"bench",
                                     "--no-pci",
                                     "--file-prefix=" + prefix(),
                                     "-l",
                                     "0",
                                     "--log-level=*:warning",
                                     "--no-telemetry"};
    if (huge) {
        args.insert(args.end(), {"-m", "1024", "--huge-unlink"});
    } else {
        args.insert(args.end(), {"--no-huge", "-m", "1400", "--no-shconf"});
    }
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
}

std::vector<uint64_t> random_keys(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint64_t> k(n);
    for (auto &x : k) x = rng();
    return k;
}

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t x = rng();
        std::memcpy(&v[i], &x, 8);
    }
    return v;
}

std::string scratch_dir() {
    const char *d = std::getenv("CS_BENCH_DIR");
    std::string p = std::string(d ? d : "/var/tmp") + "/" + prefix();
    std::filesystem::create_directories(p);
    return p;
}

// ---------------------------------------------------------------- index

struct IndexFixture {
    KeyIndex idx;
    std::vector<uint64_t> keys, order;
    explicit IndexFixture(size_t n) {
        std::string err;
        if (!idx.create("bench_idx", static_cast<uint32_t>(n * 2), SOCKET_ID_ANY, &err)) {
            std::fprintf(stderr, "%s\n", err.c_str());
            std::abort();
        }
        keys = random_keys(n, 1);
        void *old;
        for (size_t i = 0; i < n; ++i)
            if (!idx.upsert(keys[i], reinterpret_cast<void *>(i + 1), &old)) std::abort();
        // Look keys up in a random order, so the cache does not help.
        order = keys;
        std::shuffle(order.begin(), order.end(), std::mt19937_64(2));
    }
};

IndexFixture &index_1m() {
    static IndexFixture f(1u << 20);
    return f;
}

void BM_IndexLookup(benchmark::State &st) {
    auto &f = index_1m();
    size_t i = 0;
    for (auto _ : st) {
        benchmark::DoNotOptimize(f.idx.lookup(f.order[i]));
        if (++i == f.order.size()) i = 0;
    }
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_IndexLookup);

void BM_IndexLookupBulk(benchmark::State &st) {
    auto &f = index_1m();
    size_t i = 0;
    void *out[32];
    for (auto _ : st) {
        f.idx.lookup_bulk(&f.order[i], 32, out);
        benchmark::DoNotOptimize(out[31]);
        i += 32;
        if (i + 32 > f.order.size()) i = 0;
    }
    st.SetItemsProcessed(st.iterations() * 32);
}
BENCHMARK(BM_IndexLookupBulk);

// ---------------------------------------------------------------- pin/attach

struct RamFixture {
    std::unique_ptr<Store> s;
    rte_mempool *pool;
    Chunk *c;
    RamFixture() {
        Config cfg;
        cfg.ram_capacity_bytes = 8ull * kChunkSize;
        cfg.max_readers = 2;
        std::string err;
        s = Store::open(cfg, &err);
        if (!s) std::abort();
        s->register_reader(0);
        auto data = random_bytes(kChunkSize, 3);
        if (!s->put_object("bench/chunk", data, 0).ok()) std::abort();
        c = s->lookup(0, chunk_key("bench/chunk", 0));
        pool = rte_pktmbuf_pool_create("bench_ind", 8191, 256, 0, 0, SOCKET_ID_ANY);
        if (!c || !pool) std::abort();
    }
};

RamFixture &ram() {
    static RamFixture f;
    return f;
}

void BM_StoreLookupPin(benchmark::State &st) {
    auto &f = ram();
    const ChunkKey k = chunk_key("bench/chunk", 0);
    for (auto _ : st) {
        Chunk *c = f.s->lookup_pinned(0, k);
        benchmark::DoNotOptimize(c);
        unpin(c);
    }
    f.s->quiescent(0);
}
BENCHMARK(BM_StoreLookupPin);

void BM_PinAttachFree(benchmark::State &st) {
    auto &f = ram();
    const uint32_t len = static_cast<uint32_t>(st.range(0));
    for (auto _ : st) {
        rte_mbuf *m = attach_slice(f.c, 1000, len, f.pool);
        benchmark::DoNotOptimize(m);
        rte_pktmbuf_free(m);
    }
}
BENCHMARK(BM_PinAttachFree)->Arg(kMaxSlice)->Arg(1448);

// A TCP-ish burst: 4 slices of 64 KiB attached, then freed together.
void BM_PinAttachFreeBurst4(benchmark::State &st) {
    auto &f = ram();
    rte_mbuf *m[4];
    for (auto _ : st) {
        for (uint32_t i = 0; i < 4; ++i) m[i] = attach_slice(f.c, i * kMaxSlice, kMaxSlice, f.pool);
        rte_pktmbuf_free_bulk(m, 4);
    }
    st.SetItemsProcessed(st.iterations() * 4);
}
BENCHMARK(BM_PinAttachFreeBurst4);

void BM_PayloadPartialSum(benchmark::State &st) {
    auto &f = ram();
    uint32_t off = 1;
    for (auto _ : st) {
        benchmark::DoNotOptimize(payload_partial_sum(f.c, off, 1448));
        off = (off + 1447) % (kChunkSize - 1448);
    }
}
BENCHMARK(BM_PayloadPartialSum);

// ---------------------------------------------------------------- ingest

void BM_IngestRam(benchmark::State &st) {
    Config cfg;
    cfg.ram_capacity_bytes = 520ull * kChunkSize;  // old and new copy during a re-put
    std::string err;
    auto s = Store::open(cfg, &err);
    if (!s) std::abort();
    auto data = random_bytes(64ull << 20, 4);
    for (auto _ : st) {
        if (!s->put_object("bench/ingest", data, 0).ok()) std::abort();
        s->synchronize();
    }
    st.SetBytesProcessed(st.iterations() * data.size());
}
BENCHMARK(BM_IngestRam)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_IngestDisk(benchmark::State &st) {
    const std::string dir = scratch_dir();
    Config cfg;
    cfg.path = dir + "/ingest.eps";
    cfg.disk_capacity_bytes = 300ull << 20;
    cfg.ram_capacity_bytes = 520ull * kChunkSize;
    cfg.ram_on_ingest = st.range(0) != 0;
    std::string err;
    auto s = Store::open(cfg, &err);
    if (!s) std::abort();
    auto data = random_bytes(64ull << 20, 5);
    for (auto _ : st) {
        if (!s->put_object("bench/ingest", data, 0).ok()) std::abort();
        s->synchronize();
    }
    st.SetBytesProcessed(st.iterations() * data.size());
    st.SetLabel(s->disk_direct() ? "O_DIRECT" : "buffered");
    s.reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_IngestDisk)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---------------------------------------------------------------- disk reads

// Promotes chunks of a store file (CS_BENCH_STORE, or one made here) with
// io_depth reads in flight; one iteration = at least one chunk promoted.
void BM_DiskPromote(benchmark::State &st) {
    std::string dir, path;
    if (const char *p = std::getenv("CS_BENCH_STORE")) {
        path = p;
    } else {
        dir = scratch_dir();
        path = dir + "/promote.eps";
    }
    Config cfg;
    cfg.path = path;
    cfg.promotion_ring_size = 1024;
    cfg.disk_capacity_bytes = std::filesystem::exists(path) ? 0 : 136ull << 20;
    cfg.ram_capacity_bytes = 520ull * kChunkSize;
    cfg.ram_on_ingest = false;
    cfg.verify_on_open = false;
    cfg.io_depth = static_cast<uint32_t>(st.range(0));
    cfg.max_readers = 2;
    std::string err;
    auto s = Store::open(cfg, &err);
    if (!s) {
        st.SkipWithError(err.c_str());
        return;
    }
    if (!dir.empty()) {
        auto data = random_bytes(128ull << 20, 6);
        if (!s->put_object("bench/disk", data, 0).ok()) std::abort();
    }
    std::vector<ChunkKey> keys;
    s->for_each_object([&](const ObjectMeta &m) {
        for (uint32_t i = 0; i < m.chunk_count; ++i) keys.push_back(chunk_key(m.id, i));
    });
    if (keys.size() > 512) keys.resize(512);
    if (keys.empty()) {
        st.SkipWithError("store holds no chunks");
        return;
    }
    std::shuffle(keys.begin(), keys.end(), std::mt19937_64(7));
    s->register_reader(0);
    // Steady state: keep 2 x io_depth promotions requested (the store keeps
    // at most io_depth reads in flight, the rest wait in its request ring, as
    // misses from data cores would); as each chunk lands in RAM, evict it and
    // ask for the next one.
    const size_t depth = 2 * cfg.io_depth;
    std::vector<ChunkKey> outstanding;
    size_t next = 0;
    uint64_t seen = s->counters().promotions;
    const uint64_t start = seen;
    for (auto _ : st) {
        while (outstanding.size() < depth) {
            ChunkKey k = keys[next++ % keys.size()];
            if (std::find(outstanding.begin(), outstanding.end(), k) != outstanding.end()) continue;
            s->request_promotion(0, k);
            outstanding.push_back(k);
        }
        uint64_t now;
        while ((now = s->counters().promotions) == seen) {
            s->poll(true);
            s->quiescent(0);
        }
        seen = now;
        for (size_t i = 0; i < outstanding.size();) {
            if (s->try_evict(outstanding[i])) {
                outstanding[i] = outstanding.back();
                outstanding.pop_back();
            } else {
                ++i;
            }
        }
    }
    const uint64_t promoted = s->counters().promotions - start;
    const int64_t bytes = static_cast<int64_t>(promoted) * kChunkSize;
    Counters c = s->counters();
    st.SetBytesProcessed(bytes);
    st.counters["chunks/s"] =
        benchmark::Counter(static_cast<double>(promoted), benchmark::Counter::kIsRate);
    st.SetLabel(std::string(s->disk_direct() ? "O_DIRECT" : "buffered") +
                " csum_fail=" + std::to_string(c.checksum_failures));
    s.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DiskPromote)->Arg(32)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

int main(int argc, char **argv) {
    if (!init_eal()) return 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    rte_eal_cleanup();
    return 0;
}
