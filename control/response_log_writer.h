// The access log's control-thread half: drains every data lcore's
// ResponseLog ring each tick, formats the lines (control/response_log_format.h)
// and appends them to the file. reopen() (SIGUSR1) closes and opens the path
// again, so logrotate can rename the file and have new lines go to a new one.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "control/response_log_format.h"
#include "control/stats.h"
#include "dataplane/response_log.h"
#include "dataplane/service.h"

namespace ep {

#define EP_ACCESS_LOG_COUNTERS(X)                                                       \
    X(lines_written, "access-log lines written to the file")                            \
    X(write_errors, "access-log writes that failed (disk full, file gone): lines lost") \
    X(reopens, "times the access-log file was reopened (SIGUSR1, for logrotate)")       \
    X(reopen_failures, "reopens that failed: lines go on to the old file until the next one")

class ResponseLogWriter {
  public:
    ResponseLogWriter() = default;
    ~ResponseLogWriter() { close(); }
    ResponseLogWriter(const ResponseLogWriter &) = delete;
    ResponseLogWriter &operator=(const ResponseLogWriter &) = delete;

    bool open(const std::string &path, AccessLogFormat fmt, std::string *err);
    bool is_open() const { return fd_ >= 0; }
    void add_ring(ResponseLog *ring) { rings_.push_back(ring); }
    // Writes what the rings hold (bounded per call: the loop's other work
    // goes on under a flood). Returns the lines written.
    unsigned poll();
    // Opens the path anew (after the previous file was renamed); on failure
    // keeps writing to the old file and says why.
    bool reopen(std::string *err);
    void close();

    void visit_counters(const CounterVisitor &fn) const;
    // Body bytes served per title (the first path segment; "/" for files at
    // the top), from every logged response since start: `edgectl top`.
    // Sampled logs scale by the sample rate; at most kMaxTitles names, the
    // rest under "(other)".
    static constexpr std::size_t kMaxTitles = 1024;
    const std::unordered_map<std::string, uint64_t> &title_bytes() const { return titles_; }
    void set_sample(uint32_t n) { sample_ = n ? n : 1; }
    StatsSection stats() const;

  private:
    struct Counters {
#define EP_X(name, help) uint64_t name = 0;
        EP_ACCESS_LOG_COUNTERS(EP_X)
#undef EP_X
    };
    bool write_all(const std::string &s);

    std::string path_;
    AccessLogFormat fmt_ = AccessLogFormat::kCombined;
    int fd_ = -1;
    std::vector<ResponseLog *> rings_;
    std::string buf_;
    void tally(const ResponseRecord &r);
    Counters ctr_;
    std::unordered_map<std::string, uint64_t> titles_;
    uint32_t sample_ = 1;
};

}  // namespace ep
