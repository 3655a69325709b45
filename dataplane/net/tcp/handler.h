// Application callbacks. Calls happen from Stack::input()/poll() (or from the
// API call that caused them); the application may call Stack API functions
// from inside a callback: the resulting output is flushed after the callback.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/net/tcp/tcb.h"

namespace ep::tcp {

class Stack;

class Handler {
  public:
    virtual ~Handler() = default;
    // Active open completed (SYN-SENT -> ESTABLISHED).
    virtual void on_connected(Stack &, ConnId) {}
    // Passive open completed on a listener with this handler; the connection uses
    // this handler unless the callback calls Stack::set_handler().
    virtual void on_accept(Stack &, ConnId) {}
    // In-order bytes. Returns how many were consumed; the rest stays in the
    // receive buffer (shrinking the window) until Stack::resume_read().
    virtual size_t on_data(Stack &, ConnId, const uint8_t *, size_t len) { return len; }
    // The peer's FIN arrived: no more data will come.
    virtual void on_peer_closed(Stack &, ConnId) {}
    // Send-queue space freed after send() queued less than asked.
    virtual void on_writable(Stack &, ConnId) {}
    // The connection is gone; the ConnId is invalid after this returns.
    virtual void on_closed(Stack &, ConnId, CloseReason) {}
};

}  // namespace ep::tcp
