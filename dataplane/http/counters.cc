#include "dataplane/http/counters.h"

namespace ep::http {

Counters &Counters::operator+=(const Counters &o) {
    connections += o.connections;
    requests += o.requests;
    bytes_in += o.bytes_in;
    head_bytes_out += o.head_bytes_out;
    body_bytes_out += o.body_bytes_out;
    pipelined += o.pipelined;
    header_timeouts += o.header_timeouts;
    idle_timeouts += o.idle_timeouts;
    send_timeouts += o.send_timeouts;
    pin_resets += o.pin_resets;
    pin_waits += o.pin_waits;
    pinned_bytes += o.pinned_bytes;
    closes_after_error += o.closes_after_error;
    multipart += o.multipart;
    ranges_ignored += o.ranges_ignored;
    for (std::size_t i = 0; i < parse_errors.size(); ++i) parse_errors[i] += o.parse_errors[i];
    for (std::size_t i = 0; i < status.size(); ++i) status[i] += o.status[i];
    return *this;
}

}  // namespace ep::http
