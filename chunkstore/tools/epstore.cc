// epstore: offline access to a chunk store file, no daemon needed.
//   epstore ingest --store FILE PATH [--name P] [--capacity SIZE]
//   epstore ls     --store FILE
//   epstore verify --store FILE
//   epstore cat    --store FILE NAME
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "chunkstore/eal_env.h"
#include "chunkstore/ingest.h"
#include "chunkstore/store.h"

using namespace ep::chunkstore;

static std::unique_ptr<Store> open_store(const std::string &path, bool create, uint64_t capacity) {
    Config cfg;
    cfg.path = path;
    cfg.create = create;
    struct stat st {};
    cfg.disk_capacity_bytes = ::stat(path.c_str(), &st) == 0 ? 0 : capacity;
    cfg.ram_capacity_bytes = 8 * kChunkSize;  // offline: the disk tier does the work
    cfg.ram_on_ingest = false;
    cfg.verify_on_open = false;  // `verify` reads everything itself; cat verifies per chunk
    cfg.max_objects = 1u << 20;
    cfg.name = "epstore";
    std::string err;
    OpenReport rep;
    auto s = Store::open(cfg, &err, &rep);
    if (!s)
        std::fprintf(stderr, "epstore: %s\n", err.c_str());
    else if (rep.records_bad || rep.objects_incomplete)
        std::fprintf(stderr,
                     "epstore: open dropped %" PRIu64 " bad records, %" PRIu64
                     " incomplete objects\n",
                     rep.records_bad, rep.objects_incomplete);
    return s;
}

static uint64_t parse_size(const std::string &s) {
    char *end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    switch (end && *end ? *end : ' ') {
        case 'k':
        case 'K':
            v *= 1024;
            break;
        case 'm':
        case 'M':
            v *= 1024 * 1024;
            break;
        case 'g':
        case 'G':
            v *= 1024.0 * 1024 * 1024;
            break;
        case 't':
        case 'T':
            v *= 1024.0 * 1024 * 1024 * 1024;
            break;
        default:
            break;
    }
    return static_cast<uint64_t>(v);
}

int main(int argc, char **argv) {
    CLI::App app{"epstore: offline chunk store tool"};
    app.require_subcommand(1);
    std::string store, path, name, prefix, capacity = "1G";
    auto *ing = app.add_subcommand("ingest", "store a file or directory tree");
    ing->add_option("--store", store, "store file")->required();
    ing->add_option("PATH", path, "file or directory")->required();
    ing->add_option("--name", prefix, "object name (file) or name prefix (directory)");
    ing->add_option("--capacity", capacity, "size of a new store file (e.g. 4G)");
    auto *ls = app.add_subcommand("ls", "list objects");
    ls->add_option("--store", store, "store file")->required();
    auto *ver = app.add_subcommand("verify", "read and check every record");
    ver->add_option("--store", store, "store file")->required();
    auto *cat = app.add_subcommand("cat", "write an object to stdout");
    cat->add_option("--store", store, "store file")->required();
    cat->add_option("NAME", name, "object name")->required();
    CLI11_PARSE(app, argc, argv);

    if (!init_tool_eal("epstore", 256)) return 2;
    auto s = open_store(store, ing->parsed(), parse_size(capacity));
    if (!s) return 2;

    if (ing->parsed()) {
        IngestReport rep;
        Status st = ingest_path(*s, path, prefix, nullptr, &rep);
        std::printf("stored %" PRIu64 " objects, %" PRIu64 " chunks, %" PRIu64
                    " bytes in %.3f s (%.1f MB/s)\n",
                    rep.objects, rep.chunks, rep.bytes, rep.seconds,
                    rep.seconds > 0 ? rep.bytes / rep.seconds / 1e6 : 0.0);
        for (auto &f : rep.failed) std::fprintf(stderr, "failed: %s\n", f.c_str());
        if (!st.ok()) {
            std::fprintf(stderr, "epstore: %s\n", st.msg.c_str());
            return 1;
        }
        return 0;
    }
    if (ls->parsed()) {
        std::vector<const ObjectMeta *> v;
        s->for_each_object([&](const ObjectMeta &m) { v.push_back(&m); });
        std::sort(v.begin(), v.end(),
                  [](auto *a, auto *b) { return a->name_view() < b->name_view(); });
        for (auto *m : v) {
            char etag[19];
            m->etag_string(etag);
            std::printf("%12" PRIu64 " %5u %s %-24.*s %.*s\n", m->size, m->chunk_count, etag,
                        static_cast<int>(m->ctype_len), m->ctype, static_cast<int>(m->name_len),
                        m->name);
        }
        Usage u = s->usage();
        std::printf("%" PRIu64 " objects, %" PRIu64 " chunks, disk %" PRIu64 "/%" PRIu64
                    " bytes, %s I/O\n",
                    u.objects, u.disk_chunks, u.disk_bytes_used, u.disk_capacity_bytes,
                    s->disk_direct() ? "O_DIRECT" : "buffered");
        return 0;
    }
    if (ver->parsed()) {
        VerifyReport r = s->verify();
        std::printf("chunks ok %" PRIu64 ", bad %" PRIu64 "; objects ok %" PRIu64
                    ", dropped %" PRIu64 "\n",
                    r.chunks_ok, r.chunks_bad, r.objects_ok, r.objects_bad);
        return r.chunks_bad ? 1 : 0;
    }
    if (cat->parsed()) {
        const ObjectMeta *m = s->object_ctl(name);
        if (!m) {
            std::fprintf(stderr, "epstore: no such object: %s\n", name.c_str());
            return 1;
        }
        const ObjectId oid = m->id;
        const uint32_t n = m->chunk_count;
        std::vector<uint8_t> buf;
        for (uint32_t i = 0; i < n; ++i) {
            Status st = s->read_chunk(chunk_key(oid, i), &buf);
            if (!st.ok()) {
                std::fprintf(stderr, "epstore: %s chunk %u: %s\n", name.c_str(), i, st.msg.c_str());
                return 1;
            }
            // An empty object's one chunk is empty and buf.data() may be null,
            // which fwrite must not get (C 7.1.4; UBSan's nonnull check).
            if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size())
                return 1;
        }
        return 0;
    }
    return 0;
}
