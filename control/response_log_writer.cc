#include "control/response_log_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ep {

namespace {
// Records taken from one ring per call, and at most this many rounds: 8192
// lines per 2 ms tick is 4 M lines/s, beyond which the rings fill and drop.
constexpr unsigned kBatch = 256;
constexpr unsigned kMaxRounds = 32;

int open_append(const std::string &path) {
    return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}
}  // namespace

bool ResponseLogWriter::open(const std::string &path, AccessLogFormat fmt, std::string *err) {
    close();
    path_ = path;
    fmt_ = fmt;
    fd_ = open_append(path);
    if (fd_ < 0) {
        *err = "access log " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

void ResponseLogWriter::close() {
    if (fd_ >= 0) {
        poll();
        ::close(fd_);
    }
    fd_ = -1;
}

bool ResponseLogWriter::reopen(std::string *err) {
    if (fd_ < 0) return true;
    poll();  // lines already queued belong to the old file
    const int fd = open_append(path_);
    if (fd < 0) {
        ++ctr_.reopen_failures;
        *err =
            "access log " + path_ + ": " + std::strerror(errno) + " (still writing the old file)";
        return false;
    }
    ::close(fd_);
    fd_ = fd;
    ++ctr_.reopens;
    return true;
}

bool ResponseLogWriter::write_all(const std::string &s) {
    std::size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::write(fd_, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

unsigned ResponseLogWriter::poll() {
    if (fd_ < 0) return 0;
    static ResponseRecord recs[kBatch];  // ~90 KiB: not on the stack
    unsigned total = 0;
    for (unsigned round = 0; round < kMaxRounds; ++round) {
        unsigned got = 0;
        buf_.clear();
        for (ResponseLog *ring : rings_) {
            const unsigned n = ring->drain(recs, kBatch);
            for (unsigned i = 0; i < n; ++i) {
                format_access_line(recs[i], fmt_, &buf_);
                tally(recs[i]);
            }
            got += n;
        }
        if (got == 0) break;
        // One write per round: lines are whole in the file even when
        // another process appends to it too.
        if (write_all(buf_))
            ctr_.lines_written += got;
        else
            ctr_.write_errors += got;
        total += got;
    }
    return total;
}

void ResponseLogWriter::tally(const ResponseRecord &r) {
    if (r.bytes == 0) return;
    std::string_view p = r.path_view();
    if (!p.empty() && p[0] == '/') p.remove_prefix(1);
    const std::size_t slash = p.find('/');
    std::string title = slash == std::string_view::npos ? "/" : std::string(p.substr(0, slash));
    if (titles_.size() >= kMaxTitles && !titles_.count(title)) title = "(other)";
    titles_[title] += r.bytes * sample_;
}

void ResponseLogWriter::visit_counters(const CounterVisitor &fn) const {
#define EP_X(name, help) fn({#name, help, ctr_.name});
    EP_ACCESS_LOG_COUNTERS(EP_X)
#undef EP_X
}

StatsSection ResponseLogWriter::stats() const {
    StatsSection s{"access_log", {}};
    visit_counters([&s](const CounterRef &c) {
        s.values.push_back({std::string(c.name), c.value, std::string(c.help), c.gauge});
    });
    return s;
}

}  // namespace ep
