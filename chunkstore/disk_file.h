// The disk tier's file: O_DIRECT through io_uring, buffered I/O as a logged
// fallback where the filesystem refuses O_DIRECT. Control thread only.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>

#include <liburing.h>

namespace ep::chunkstore {

struct IoCompletion {
    uint64_t user_data;
    int32_t res;  // bytes transferred or -errno
};

class DiskFile {
  public:
    // Opens (creating if asked) and grows the file to at least min_size bytes.
    static std::unique_ptr<DiskFile> open(const std::string &path, uint64_t min_size, bool create,
                                          unsigned depth, bool force_buffered, std::string *err);
    ~DiskFile();
    DiskFile(const DiskFile &) = delete;
    DiskFile &operator=(const DiskFile &) = delete;

    bool direct() const { return direct_; }
    uint64_t size() const { return size_; }
    unsigned depth() const { return depth_; }
    unsigned in_flight() const { return in_flight_; }

    // Queue a vectored read/write; the iovec array must stay valid until
    // submit(). Returns false when the submission queue is full.
    bool queue_readv(uint64_t off, const iovec *iov, unsigned n, uint64_t user_data);
    bool queue_writev(uint64_t off, const iovec *iov, unsigned n, uint64_t user_data);
    // Hands queued requests to the kernel (one syscall per batch).
    int submit();
    // Collects up to max completions; with wait, blocks for at least one if
    // any request is in flight.
    unsigned reap(IoCompletion *out, unsigned max, bool wait);

    // Synchronous helpers for the cold paths (scan, tombstones, tools).
    bool pread_all(void *buf, size_t len, uint64_t off);
    bool pwrite_all(const void *buf, size_t len, uint64_t off);
    bool sync_data();

  private:
    DiskFile() = default;
    int fd_ = -1;
    bool direct_ = false;
    uint64_t size_ = 0;
    unsigned depth_ = 0;
    unsigned in_flight_ = 0;
    unsigned queued_ = 0;
    io_uring ring_{};
    bool ring_ok_ = false;
};

}  // namespace ep::chunkstore
