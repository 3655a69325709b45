// Readers for the trace formats the simulator replays. Compressed files
// (.xz, .bz2, .zst, .gz) are read through the system's decompressor.
#pragma once

#include <cstdint>
#include <string>

#include "cache/trace.h"

namespace ep::cache {

struct TraceReadOptions {
    // oracleGeneral | csv | cache2k | tencent | text | auto (by file name)
    std::string format = "auto";
    std::string csv_key = "lbn";
    std::string csv_size = "size";  // empty: every object size 1
    std::string csv_time = "time";  // read but unused by the policies
    bool ignore_size = false;       // every object weighs 1
    uint64_t limit = 0;             // stop after this many requests (0: all)
};

// Resolves "auto" from the file name; returns the format unchanged otherwise.
std::string guess_format(const std::string &path, const std::string &format);

// Throws std::runtime_error with a readable message on failure.
Trace read_trace(const std::string &path, const TraceReadOptions &opt);

// Writers used by `edgebench tracegen`.
void write_trace_text(const std::string &path, const Trace &t);
void write_trace_oracle(const std::string &path, const Trace &t);

}  // namespace ep::cache
