// Appends text into a Response's fixed buffer. Bounded: on overflow it stops
// writing and remembers, and the caller falls back to a minimal answer.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/http/response.h"

namespace ep::http {

class ResponseBuilder {
  public:
    explicit ResponseBuilder(Response &r) : r_(r) {
        r_.npieces_ = 0;
        r_.used_ = r_.head_off_ = r_.head_len_ = 0;
        r_.close_after_ = false;
        r_.status_ = Status::kOk;
    }

    void set_status(Status s) { r_.status_ = s; }
    void set_close_after(bool c) { r_.close_after_ = c; }
    bool overflow() const { return overflow_; }

    void append(std::string_view s);
    void append_u64(uint64_t v);
    void append_hex16(uint64_t v);  // 16 lower-case hex digits
    // "Name: value\r\n"
    void field(std::string_view name, std::string_view value) {
        append(name);
        append(": ");
        append(value);
        append("\r\n");
    }

    // Marks the bytes appended since `mark()` as an inline body piece.
    uint16_t mark() const { return r_.used_; }
    void inline_piece_since(uint16_t mark);
    void object_piece(uint64_t handle, uint64_t offset, uint64_t length);

    // The head is written after any inline pieces (their sizes must be known
    // before Content-Length is); begin_head()/end_head() delimit it.
    void begin_head() { r_.head_off_ = r_.used_; }
    void end_head() { r_.head_len_ = static_cast<uint16_t>(r_.used_ - r_.head_off_); }
    // Drops everything written so far (used to restart as a fallback answer).
    void clear() {
        r_.npieces_ = 0;
        r_.used_ = r_.head_off_ = r_.head_len_ = 0;
        overflow_ = false;
    }

  private:
    Response &r_;
    bool overflow_ = false;
};

}  // namespace ep::http
