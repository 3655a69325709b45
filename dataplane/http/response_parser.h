// HTTP/1.1 response parser (RFC 9112 §4, §6), shared by edgebench's load
// generator and the origin fill client (dataplane/origin/).
// Pure and bounded: bytes in, one step out per call. The head (status line and
// header fields) is copied into a fixed buffer of at most `max_head` bytes;
// the body is never copied: feed() hands back a view of the body bytes it
// consumed so the caller can count (and, sampled, hash) them in place.
//
//   ResponseParser p;
//   while (n > 0) {
//       RespStep s = p.feed(data, n);
//       if (s.error != RespError::none) ...;      // connection is unusable
//       count(s.body, s.body_len);
//       if (s.complete) { use(p.head()); p.reset(); }
//       data += s.consumed; n -= s.consumed;
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace ep::http {

enum class RespError : uint8_t {
    none,
    bad_status_line,      // not "HTTP/1.x NNN reason"
    bad_header,           // a field line without ':' or with controls in it
    head_too_long,        // head exceeds max_head bytes
    bad_content_length,   // not a number, too big, or two different values
    chunked_unsupported,  // Transfer-Encoding (we ask servers that send lengths)
    truncated,            // the peer closed before the body ended
    count_
};
const char *resp_error_name(RespError e);

struct RespHead {
    int status = 0;
    int minor = 1;            // HTTP/1.minor
    bool has_length = false;  // Content-Length present
    uint64_t content_length = 0;
    bool keep_alive = true;  // false: the server closes after this response
    uint32_t head_len = 0;   // bytes of status line + fields + CRLF
};

struct RespStep {
    size_t consumed = 0;
    const uint8_t *body = nullptr;  // body bytes within the input, not copied
    size_t body_len = 0;
    bool head_done = false;  // the head completed in this step (head() is valid)
    bool complete = false;   // the whole response completed in this step
    RespError error = RespError::none;
};

class ResponseParser {
  public:
    explicit ResponseParser(uint32_t max_head = 8192);
    // For the next response on the connection. `head_request`: the request
    // was HEAD, so the response has no body whatever its fields say.
    void reset(bool head_request = false);
    // Consumes bytes up to the end of the current response at most.
    RespStep feed(const uint8_t *p, size_t n);
    // The peer closed the connection: completes a read-until-close body, or
    // reports `truncated` if a response was in progress.
    RespStep eof();
    const RespHead &head() const { return head_; }
    // The value of the first header field called `name` (case-insensitive,
    // trimmed), or nullopt-like empty view with *found = false. Valid from
    // head_done until reset(): the fill client reads ETag, Content-Range,
    // Content-Type, Last-Modified and Cache-Control through it.
    std::string_view field(std::string_view name, bool *found = nullptr) const;
    bool idle() const { return state_ == State::head && used_ == 0; }
    uint64_t body_remaining() const { return remaining_; }

  private:
    enum class State : uint8_t { head, body, until_close, done, error };
    RespError parse_head(const char *h, uint32_t len);

    State state_ = State::head;
    bool head_request_ = false;
    uint32_t max_head_;
    uint32_t used_ = 0;
    uint64_t remaining_ = 0;
    RespHead head_;
    std::unique_ptr<char[]> buf_;
};

}  // namespace ep::http
