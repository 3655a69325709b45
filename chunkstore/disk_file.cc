#include "chunkstore/disk_file.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "chunkstore/log.h"

namespace ep::chunkstore {

std::unique_ptr<DiskFile> DiskFile::open(const std::string &path, uint64_t min_size, bool create,
                                         unsigned depth, bool force_buffered, std::string *err) {
    std::unique_ptr<DiskFile> f(new DiskFile());
    int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
    if (!force_buffered) {
        f->fd_ = ::open(path.c_str(), flags | O_DIRECT, 0644);
        if (f->fd_ >= 0) {
            f->direct_ = true;
        } else if (errno == EINVAL) {
            log_warn("%s: O_DIRECT not supported by this filesystem; using buffered I/O",
                     path.c_str());
        }
    }
    if (f->fd_ < 0) f->fd_ = ::open(path.c_str(), flags, 0644);
    if (f->fd_ < 0) {
        *err = path + ": " + std::strerror(errno);
        return nullptr;
    }
    struct stat st {};
    if (fstat(f->fd_, &st) != 0) {
        *err = path + ": fstat: " + std::strerror(errno);
        return nullptr;
    }
    if (S_ISBLK(st.st_mode)) {
        uint64_t bytes = 0;
        if (ioctl(f->fd_, BLKGETSIZE64, &bytes) != 0) {
            *err = path + ": BLKGETSIZE64: " + std::strerror(errno);
            return nullptr;
        }
        f->size_ = bytes;
    } else {
        f->size_ = static_cast<uint64_t>(st.st_size);
        if (f->size_ < min_size) {
            if (ftruncate(f->fd_, static_cast<off_t>(min_size)) != 0) {
                *err = path + ": ftruncate: " + std::strerror(errno);
                return nullptr;
            }
            f->size_ = min_size;
        }
    }
    f->depth_ = depth;
    int rc = io_uring_queue_init(depth, &f->ring_, 0);
    if (rc < 0) {
        *err = std::string("io_uring_queue_init: ") + std::strerror(-rc);
        return nullptr;
    }
    f->ring_ok_ = true;
    return f;
}

DiskFile::~DiskFile() {
    if (ring_ok_) {
        // Never leave the kernel writing into buffers we are about to free.
        IoCompletion c[32];
        while (in_flight_ > 0) reap(c, 32, true);
        io_uring_queue_exit(&ring_);
    }
    if (fd_ >= 0) ::close(fd_);
}

bool DiskFile::queue_readv(uint64_t off, const iovec *iov, unsigned n, uint64_t user_data) {
    io_uring_sqe *sqe = io_uring_get_sqe(&ring_);
    if (!sqe) return false;
    io_uring_prep_readv(sqe, fd_, iov, n, off);
    io_uring_sqe_set_data64(sqe, user_data);
    ++queued_;
    return true;
}

bool DiskFile::queue_writev(uint64_t off, const iovec *iov, unsigned n, uint64_t user_data) {
    io_uring_sqe *sqe = io_uring_get_sqe(&ring_);
    if (!sqe) return false;
    io_uring_prep_writev(sqe, fd_, iov, n, off);
    io_uring_sqe_set_data64(sqe, user_data);
    ++queued_;
    return true;
}

int DiskFile::submit() {
    if (queued_ == 0) return 0;
    int rc = io_uring_submit(&ring_);
    if (rc > 0) {
        in_flight_ += static_cast<unsigned>(rc);
        queued_ -= static_cast<unsigned>(rc);
    }
    return rc;
}

unsigned DiskFile::reap(IoCompletion *out, unsigned max, bool wait) {
    unsigned n = 0;
    while (n < max && in_flight_ > 0) {
        io_uring_cqe *cqe = nullptr;
        int rc =
            (wait && n == 0) ? io_uring_wait_cqe(&ring_, &cqe) : io_uring_peek_cqe(&ring_, &cqe);
        if (rc == -EINTR) continue;
        if (rc < 0 || !cqe) break;
        out[n++] = {io_uring_cqe_get_data64(cqe), cqe->res};
        io_uring_cqe_seen(&ring_, cqe);
        --in_flight_;
    }
    return n;
}

bool DiskFile::pread_all(void *buf, size_t len, uint64_t off) {
    auto *p = static_cast<char *>(buf);
    while (len > 0) {
        ssize_t r = ::pread(fd_, p, len, static_cast<off_t>(off));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r, len -= static_cast<size_t>(r), off += static_cast<uint64_t>(r);
    }
    return true;
}

bool DiskFile::pwrite_all(const void *buf, size_t len, uint64_t off) {
    auto *p = static_cast<const char *>(buf);
    while (len > 0) {
        ssize_t r = ::pwrite(fd_, p, len, static_cast<off_t>(off));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r, len -= static_cast<size_t>(r), off += static_cast<uint64_t>(r);
    }
    return true;
}

bool DiskFile::sync_data() {
    return fdatasync(fd_) == 0;
}

}  // namespace ep::chunkstore
