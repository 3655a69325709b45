#include "cache/trace_reader.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace ep::cache {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A FILE* that is either fopen'ed or the stdout of a decompressor.
class Input {
  public:
    explicit Input(const std::string &path) {
        const char *tool = nullptr;
        if (ends_with(path, ".xz"))
            tool = "xz -dc";
        else if (ends_with(path, ".bz2"))
            tool = "bzip2 -dc";
        else if (ends_with(path, ".zst"))
            tool = "zstd -dc";
        else if (ends_with(path, ".gz"))
            tool = "gzip -dc";
        if (tool != nullptr) {
            // Checking first gives a clear error instead of an empty stream.
            if (FILE *probe = std::fopen(path.c_str(), "rb"))
                std::fclose(probe);
            else
                throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
            std::string cmd = std::string(tool) + " '" + quote(path) + "'";
            f_ = popen(cmd.c_str(), "r");
            piped_ = true;
        } else {
            f_ = std::fopen(path.c_str(), "rb");
        }
        if (f_ == nullptr)
            throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
        path_ = path;
    }
    ~Input() { finish(false); }

    FILE *get() { return f_; }

    // Reports a decompressor failure (corrupt file, missing tool).
    void finish(bool check = true) {
        if (f_ == nullptr) return;
        int rc = piped_ ? pclose(f_) : std::fclose(f_);
        f_ = nullptr;
        if (check && piped_ && rc != 0)
            throw std::runtime_error("decompressing " + path_ + " failed");
    }

  private:
    static std::string quote(const std::string &s) {
        std::string out;
        for (char c : s) {
            if (c == '\'')
                out += "'\\''";
            else
                out += c;
        }
        return out;
    }

    FILE *f_ = nullptr;
    bool piped_ = false;
    std::string path_;
};

// Reads lines without per-line allocation.
class LineReader {
  public:
    explicit LineReader(FILE *f) : f_(f) {}
    ~LineReader() { std::free(buf_); }
    bool next(std::string_view &line) {
        ssize_t n = getline(&buf_, &cap_, f_);
        if (n < 0) return false;
        while (n > 0 && (buf_[n - 1] == '\n' || buf_[n - 1] == '\r')) --n;
        line = std::string_view(buf_, static_cast<size_t>(n));
        return true;
    }

  private:
    FILE *f_;
    char *buf_ = nullptr;
    size_t cap_ = 0;
};

uint64_t fnv1a(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

// Numeric ids stay as they are (so results match tools that use them);
// anything else is hashed.
uint64_t parse_key(std::string_view s) {
    uint64_t v = 0;
    if (s.empty() || s.size() > 19) return fnv1a(s);
    for (char c : s) {
        if (c < '0' || c > '9') return fnv1a(s);
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

uint64_t parse_u64(std::string_view s, const char *what) {
    uint64_t v = 0;
    if (s.empty()) throw std::runtime_error(std::string("empty ") + what);
    for (char c : s) {
        if (c < '0' || c > '9')
            throw std::runtime_error(std::string("bad ") + what + ": " + std::string(s));
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

uint32_t clamp_size(uint64_t v) {
    return v > 0xffffffffULL ? 0xffffffffu : static_cast<uint32_t>(v);
}

template <class F>
void split(std::string_view line, char sep, F &&f) {
    size_t col = 0, start = 0;
    for (;;) {
        size_t end = line.find(sep, start);
        if (sep == ' ')
            while (end != std::string_view::npos && end == start) {  // collapse runs of spaces
                start = end + 1;
                end = line.find(sep, start);
            }
        std::string_view field =
            line.substr(start, end == std::string_view::npos ? end : end - start);
        if (!f(col++, field)) return;
        if (end == std::string_view::npos) return;
        start = end + 1;
    }
}

bool full(const Trace &t, const TraceReadOptions &o) {
    return o.limit != 0 && t.size() >= o.limit;
}

void read_oracle(FILE *f, const TraceReadOptions &o, Trace &t) {
    // libCacheSim oracleGeneral: packed {u32 time; u64 id; u32 size; i64 next}.
    unsigned char rec[24];
    std::vector<unsigned char> buf(24 * 4096);
    size_t n;
    while (!full(t, o) && (n = std::fread(buf.data(), 24, 4096, f)) > 0) {
        for (size_t i = 0; i < n && !full(t, o); ++i) {
            std::memcpy(rec, buf.data() + 24 * i, 24);
            Request r;
            std::memcpy(&r.key, rec + 4, 8);
            uint32_t size;
            std::memcpy(&size, rec + 12, 4);
            r.size = o.ignore_size ? 1 : size;
            t.push_back(r);
        }
    }
}

void read_cache2k(FILE *f, const TraceReadOptions &o, Trace &t) {
    // Big-endian int32 keys (Java DataInputStream.readInt), nothing else.
    std::vector<unsigned char> buf(4 * 65536);
    size_t n;
    while (!full(t, o) && (n = std::fread(buf.data(), 4, 65536, f)) > 0) {
        for (size_t i = 0; i < n && !full(t, o); ++i) {
            const unsigned char *p = buf.data() + 4 * i;
            uint32_t k = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
            t.push_back(Request{static_cast<uint64_t>(static_cast<int32_t>(k)), 1, kNeverAgain});
        }
    }
}

void read_csv(FILE *f, const TraceReadOptions &o, Trace &t) {
    LineReader lr(f);
    std::string_view line;
    if (!lr.next(line)) return;
    char sep = line.find(',') != std::string_view::npos
                   ? ','
                   : (line.find('\t') != std::string_view::npos ? '\t' : ' ');
    long key_col = -1, size_col = -1;
    split(line, sep, [&](size_t c, std::string_view name) {
        if (name == o.csv_key) key_col = static_cast<long>(c);
        if (!o.csv_size.empty() && name == o.csv_size) size_col = static_cast<long>(c);
        return true;
    });
    if (key_col < 0) throw std::runtime_error("csv header has no key column '" + o.csv_key + "'");
    if (!o.csv_size.empty() && size_col < 0 && !o.ignore_size)
        throw std::runtime_error("csv header has no size column '" + o.csv_size + "'");
    while (!full(t, o) && lr.next(line)) {
        if (line.empty()) continue;
        Request r;
        bool have_key = false;
        split(line, sep, [&](size_t c, std::string_view v) {
            if (static_cast<long>(c) == key_col) {
                r.key = parse_key(v);
                have_key = true;
            }
            if (static_cast<long>(c) == size_col && !o.ignore_size)
                r.size = clamp_size(parse_u64(v, "size"));
            return true;
        });
        if (!have_key) throw std::runtime_error("csv row without key: " + std::string(line));
        t.push_back(r);
    }
}

void read_tencent(FILE *f, const TraceReadOptions &o, Trace &t) {
    // time photo_id format spec bytes hit terminal rt; key = id+format+spec as
    // in Caffeine's TencentPhotoTraceReader; formats other than 0/5 are errors.
    LineReader lr(f);
    std::string_view line;
    while (!full(t, o) && lr.next(line)) {
        std::string_view id, fmt, spec, bytes;
        split(line, ' ', [&](size_t c, std::string_view v) {
            if (c == 1)
                id = v;
            else if (c == 2)
                fmt = v;
            else if (c == 3)
                spec = v;
            else if (c == 4)
                bytes = v;
            return c < 4;
        });
        if (bytes.empty()) continue;
        if (fmt != "0" && fmt != "5") continue;
        uint64_t h = fnv1a(id);
        h = (h ^ static_cast<unsigned char>(fmt[0])) * 0x100000001b3ULL;
        h = fnv1a(spec) ^ (h * 31);
        t.push_back(
            Request{h, o.ignore_size ? 1u : clamp_size(parse_u64(bytes, "size")), kNeverAgain});
    }
}

void read_text(FILE *f, const TraceReadOptions &o, Trace &t) {
    // "time key size" per line (webcachesim style); '#' starts a comment.
    LineReader lr(f);
    std::string_view line;
    while (!full(t, o) && lr.next(line)) {
        if (line.empty() || line[0] == '#') continue;
        Request r;
        int cols = 0;
        split(line, ' ', [&](size_t c, std::string_view v) {
            if (c == 1) r.key = parse_key(v);
            if (c == 2 && !o.ignore_size) r.size = clamp_size(parse_u64(v, "size"));
            cols = static_cast<int>(c) + 1;
            return c < 2;
        });
        if (cols < 2)
            throw std::runtime_error("text trace line needs 'time key [size]': " +
                                     std::string(line));
        t.push_back(r);
    }
}

}  // namespace

std::string guess_format(const std::string &path, const std::string &format) {
    if (format != "auto") return format;
    std::string p = path;
    for (const char *z : {".xz", ".bz2", ".zst", ".gz"})
        if (ends_with(p, z)) p.resize(p.size() - std::strlen(z));
    if (ends_with(p, ".csv")) return "csv";
    if (ends_with(p, ".oracleGeneral") || ends_with(p, ".bin") ||
        p.find("oracleGeneral") != std::string::npos)
        return "oracleGeneral";
    if (p.find("cache2k") != std::string::npos) return "cache2k";
    if (p.find("tencent") != std::string::npos) return "tencent";
    return "text";
}

Trace read_trace(const std::string &path, const TraceReadOptions &opt) {
    std::string fmt = guess_format(path, opt.format);
    Input in(path);
    Trace t;
    if (fmt == "oracleGeneral")
        read_oracle(in.get(), opt, t);
    else if (fmt == "cache2k")
        read_cache2k(in.get(), opt, t);
    else if (fmt == "csv")
        read_csv(in.get(), opt, t);
    else if (fmt == "tencent")
        read_tencent(in.get(), opt, t);
    else if (fmt == "text")
        read_text(in.get(), opt, t);
    else
        throw std::runtime_error("unknown trace format '" + fmt + "'");
    // A stopped-early decompressor exits non-zero on SIGPIPE; only check
    // when the whole file was read.
    if (!full(t, opt)) in.finish(true);
    return t;
}

void write_trace_text(const std::string &path, const Trace &t) {
    FILE *f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write " + path);
    for (size_t i = 0; i < t.size(); ++i)
        std::fprintf(f, "%zu %llu %u\n", i, static_cast<unsigned long long>(t[i].key), t[i].size);
    if (std::fclose(f) != 0) throw std::runtime_error("writing " + path + " failed");
}

void write_trace_oracle(const std::string &path, const Trace &t) {
    FILE *f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("cannot write " + path);
    unsigned char rec[24];
    for (size_t i = 0; i < t.size(); ++i) {
        uint32_t ts = static_cast<uint32_t>(i);
        int64_t next = t[i].next_access == kNeverAgain ? -1 : t[i].next_access;
        std::memcpy(rec, &ts, 4);
        std::memcpy(rec + 4, &t[i].key, 8);
        std::memcpy(rec + 12, &t[i].size, 4);
        std::memcpy(rec + 16, &next, 8);
        std::fwrite(rec, 24, 1, f);
    }
    if (std::fclose(f) != 0) throw std::runtime_error("writing " + path + " failed");
}

}  // namespace ep::cache
