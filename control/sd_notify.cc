#include "control/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace ep {

void SdNotify::init() {
    const char *path = std::getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@') ||
        std::strlen(path) >= sizeof(sockaddr_un::sun_path))
        return;
    addr_ = path;
    if (addr_[0] == '@') addr_[0] = '\0';  // abstract namespace (sd_notify(3))
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    // The watchdog is ours only if WATCHDOG_PID is unset or names us.
    const char *usec = std::getenv("WATCHDOG_USEC");
    const char *pid = std::getenv("WATCHDOG_PID");
    if (usec && (!pid || std::strtol(pid, nullptr, 10) == ::getpid())) {
        const unsigned long long us = std::strtoull(usec, nullptr, 10);
        watchdog_ms_ = us / 2000;
        if (us > 0 && watchdog_ms_ == 0) watchdog_ms_ = 1;
    }
}

SdNotify::~SdNotify() {
    if (fd_ >= 0) ::close(fd_);
}

bool SdNotify::send(std::string_view state) {
    if (fd_ < 0) return false;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, addr_.data(), addr_.size());
    const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + addr_.size() +
                                                 (addr_[0] == '\0' ? 0 : 1));
    return ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                    reinterpret_cast<const sockaddr *>(&sa),
                    len) == static_cast<ssize_t>(state.size());
}

void SdNotify::tick(uint64_t now_ms) {
    if (fd_ < 0 || watchdog_ms_ == 0 || now_ms < next_watchdog_ms_) return;
    send("WATCHDOG=1");
    next_watchdog_ms_ = now_ms + watchdog_ms_;
}

}  // namespace ep
