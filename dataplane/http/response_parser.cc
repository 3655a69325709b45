#include "dataplane/http/response_parser.h"

#include <cstring>
#include <new>
#include <string_view>

#include "dataplane/http/text.h"

namespace ep::http {

namespace {

// Does a comma-separated list (Connection: a, b) hold `token`?
bool has_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        const size_t c = list.find(',');
        if (iequals(trim(list.substr(0, c)), token)) return true;
        if (c == std::string_view::npos) break;
        list.remove_prefix(c + 1);
    }
    return false;
}

}  // namespace

const char *resp_error_name(RespError e) {
    switch (e) {
        case RespError::none:
            return "none";
        case RespError::bad_status_line:
            return "bad_status_line";
        case RespError::bad_header:
            return "bad_header";
        case RespError::head_too_long:
            return "head_too_long";
        case RespError::bad_content_length:
            return "bad_content_length";
        case RespError::chunked_unsupported:
            return "chunked_unsupported";
        case RespError::truncated:
            return "truncated";
        case RespError::count_:
            break;
    }
    return "?";
}

ResponseParser::ResponseParser(uint32_t max_head)
    : max_head_(max_head), buf_(new (std::nothrow) char[max_head]) {}

void ResponseParser::reset(bool head_request) {
    state_ = State::head;
    head_request_ = head_request;
    used_ = 0;
    remaining_ = 0;
    head_ = RespHead{};
}

RespError ResponseParser::parse_head(const char *h, uint32_t len) {
    std::string_view all(h, len);
    size_t eol = all.find("\r\n");
    std::string_view line = all.substr(0, eol);
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[7] < '0' || line[7] > '9' ||
        line[8] != ' ')
        return RespError::bad_status_line;
    head_.minor = line[7] - '0';
    int code = 0;
    for (int i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') return RespError::bad_status_line;
        code = code * 10 + (line[i] - '0');
    }
    if (line.size() > 12 && line[12] != ' ') return RespError::bad_status_line;
    if (code < 100) return RespError::bad_status_line;
    head_.status = code;
    head_.keep_alive = head_.minor >= 1;
    bool close = false, keep = false;
    all.remove_prefix(eol + 2);
    while (!all.empty()) {
        eol = all.find("\r\n");
        line = all.substr(0, eol);
        all.remove_prefix(eol + 2);
        if (line.empty()) break;  // the blank line ending the head
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return RespError::bad_header;
        for (char ch : line)
            if ((static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7f)
                return RespError::bad_header;
        const std::string_view name = line.substr(0, colon);
        if (name.back() == ' ' || name.back() == '\t')
            return RespError::bad_header;  // RFC 9112 §5.1
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "content-length")) {
            if (value.empty() || value.size() > 15) return RespError::bad_content_length;
            uint64_t v = 0;
            for (char ch : value) {
                if (ch < '0' || ch > '9') return RespError::bad_content_length;
                v = v * 10 + static_cast<uint64_t>(ch - '0');
            }
            if (head_.has_length && v != head_.content_length) return RespError::bad_content_length;
            head_.has_length = true;
            head_.content_length = v;
        } else if (iequals(name, "transfer-encoding")) {
            return RespError::chunked_unsupported;
        } else if (iequals(name, "connection")) {
            close = close || has_token(value, "close");
            keep = keep || has_token(value, "keep-alive");
        }
    }
    if (close)
        head_.keep_alive = false;
    else if (keep)
        head_.keep_alive = true;
    return RespError::none;
}

std::string_view ResponseParser::field(std::string_view name, bool *found) const {
    if (found) *found = false;
    if (head_.head_len == 0) return {};
    std::string_view all(buf_.get(), head_.head_len);
    size_t eol = all.find("\r\n");
    all.remove_prefix(eol + 2);  // the status line
    while (!all.empty()) {
        eol = all.find("\r\n");
        const std::string_view line = all.substr(0, eol);
        if (line.empty() || eol == std::string_view::npos) break;
        all.remove_prefix(eol + 2);
        const size_t colon = line.find(':');  // parse_head checked there is one
        if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
            if (found) *found = true;
            return trim(line.substr(colon + 1));
        }
    }
    return {};
}

RespStep ResponseParser::feed(const uint8_t *p, size_t n) {
    RespStep s;
    if (state_ == State::error) {
        s.error = RespError::bad_status_line;
        return s;
    }
    if (state_ == State::done) return s;
    if (state_ == State::head) {
        // Copy head bytes until CRLFCRLF; never more than the end of the head.
        const size_t take_max = n;
        size_t i = 0;
        for (; i < take_max; ++i) {
            if (used_ == max_head_) {
                state_ = State::error;
                s.error = RespError::head_too_long;
                s.consumed = i;
                return s;
            }
            const char ch = static_cast<char>(p[i]);
            buf_[used_++] = ch;
            if (ch == '\n' && used_ >= 4 && buf_[used_ - 2] == '\r' && buf_[used_ - 3] == '\n' &&
                buf_[used_ - 4] == '\r') {
                ++i;
                break;
            }
            // Robustness: a bare status line can't start with CRLF; skip leading
            // empty lines (RFC 9112 §2.2 allows one before a request; harmless here).
            if (used_ == 2 && buf_[0] == '\r' && buf_[1] == '\n') used_ = 0;
        }
        s.consumed = i;
        const bool ended = used_ >= 4 && buf_[used_ - 1] == '\n' && buf_[used_ - 2] == '\r' &&
                           buf_[used_ - 3] == '\n' && buf_[used_ - 4] == '\r';
        if (!ended) return s;
        if (RespError e = parse_head(buf_.get(), used_); e != RespError::none) {
            state_ = State::error;
            s.error = e;
            return s;
        }
        head_.head_len = used_;
        if (head_.status < 200) {  // interim (1xx): the real response follows
            used_ = 0;
            head_ = RespHead{};
            return s;
        }
        s.head_done = true;
        const bool no_body = head_request_ || head_.status == 204 || head_.status == 304;
        if (no_body || (head_.has_length && head_.content_length == 0)) {
            state_ = State::done;
            s.complete = true;
            return s;
        }
        if (head_.has_length) {
            state_ = State::body;
            remaining_ = head_.content_length;
        } else {
            state_ = State::until_close;  // RFC 9112 §6.3 rule 8
            head_.keep_alive = false;
        }
        p += i;
        n -= i;
    }
    if (n == 0) return s;
    if (state_ == State::until_close) {
        s.body = p;
        s.body_len = n;
        s.consumed += n;
        return s;
    }
    // State::body
    const size_t take = remaining_ < n ? static_cast<size_t>(remaining_) : n;
    s.body = p;
    s.body_len = take;
    s.consumed += take;
    remaining_ -= take;
    if (remaining_ == 0) {
        state_ = State::done;
        s.complete = true;
    }
    return s;
}

RespStep ResponseParser::eof() {
    RespStep s;
    if (state_ == State::until_close) {
        state_ = State::done;
        s.complete = true;
    } else if (state_ == State::body || (state_ == State::head && used_ > 0)) {
        state_ = State::error;
        s.error = RespError::truncated;
    }
    return s;
}

}  // namespace ep::http
