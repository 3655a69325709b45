// systemd's readiness protocol (sd_notify(3)), Type=notify: READY=1 once
// serving, STATUS= a one-line summary, WATCHDOG=1 from the control loop while
// it turns, STOPPING=1 on the way out.
//
// Written by hand rather than linking libsystemd: the protocol is one
// datagram of KEY=VALUE lines to the AF_UNIX socket named by $NOTIFY_SOCKET
// (a documented stable interface), a dozen lines here against a library and
// its dependencies on an appliance that may run without systemd at all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ep {

class SdNotify {
  public:
    // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID. Without
    // NOTIFY_SOCKET every call is a no-op.
    void init();
    ~SdNotify();
    bool enabled() const { return fd_ >= 0; }
    // One datagram; never blocks (a full socket drops the message).
    bool send(std::string_view state);
    // Half of WATCHDOG_USEC in ms (what sd_watchdog_enabled(3) advises); 0: off.
    uint64_t watchdog_interval_ms() const { return watchdog_ms_; }
    // Sends WATCHDOG=1 when the interval has passed since the last one.
    void tick(uint64_t now_ms);

  private:
    int fd_ = -1;
    std::string addr_;  // sockaddr_un path; a leading '\0' for an abstract name
    uint64_t watchdog_ms_ = 0;
    uint64_t next_watchdog_ms_ = 0;
};

}  // namespace ep
