#include "dataplane/http/request_parser.h"

#include <algorithm>
#include <cstring>

#include "dataplane/http/chars.h"

namespace ep::http {
namespace {

bool ieq(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_lower(static_cast<uint8_t>(a[i])) != static_cast<uint8_t>(lower[i])) return false;
    return true;
}

// RFC 9110 §7.2 / RFC 3986 §3.2.2: Host = uri-host [ ":" port ]. We route by
// path only, so checking the alphabet (reg-name, IP-literal brackets, port
// colon, pct-encoding) is enough to refuse junk like "a b" or "x/y".
bool valid_host(std::string_view h) {
    for (char ch : h) {
        const auto c = static_cast<uint8_t>(ch);
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                        c == '-' || c == '.' || c == '_' || c == '~' || c == '!' || c == '$' ||
                        c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
                        c == ',' || c == ';' || c == '=' || c == ':' || c == '[' || c == ']' ||
                        c == '%';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::string_view parse_error_name(ParseError e) {
    static constexpr std::string_view kNames[] = {"none",
#define EP_X(e, name, help) #name,
                                                  EP_HTTP_PARSE_ERRORS(EP_X)
#undef EP_X
    };
    static_assert(std::size(kNames) == static_cast<std::size_t>(ParseError::kCount));
    const auto i = static_cast<std::size_t>(e);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

void RequestParser::reset() {
    state_ = State::kHead;
    s_ = S::kStart;
    error_ = ParseError::kNone;
    head_bytes_ = header_lines_ = empty_lines_ = 0;
    method_ = Method::kOther;
    version_ = Version::kHttp11;
    form_ = TargetForm::kOrigin;
    method_len_ = version_len_ = 0;
    target_len_ = path_len_ = 0;
    name_len_ = 0;
    name_overflow_ = false;
    cur_field_ = Field::kNone;
    cur_special_ = Special::kNone;
    value_off_ = value_len_ = value_raw_ = 0;
    value_overflow_ = false;
    arena_used_ = 0;
    stored_n_ = 0;
    field_count_.fill(0);
    conn_close_ = conn_keep_alive_ = false;
    has_cl_ = cl_conflict_ = cl_bad_ = has_te_ = false;
    content_length_ = body_left_ = cl_accum_ = 0;
    cl_digits_ = cl_trailing_ows_ = false;
}

bool RequestParser::fail(ParseError e) {
    error_ = e;
    state_ = State::kError;
    return false;
}

void RequestParser::next_request() {
    const uint64_t body = content_length_;
    reset();
    // RFC 9112 §6.3 item 6: the body length is Content-Length; we read and
    // drop it so the next pipelined request starts at the right byte.
    if (body > 0) {
        body_left_ = body;
        state_ = State::kBody;
    }
}

std::size_t RequestParser::parse(const uint8_t *data, std::size_t len) {
    std::size_t i = 0;
    while (i < len) {
        if (state_ == State::kBody) {
            const std::size_t take =
                body_left_ < len - i ? static_cast<std::size_t>(body_left_) : len - i;
            body_left_ -= take;
            i += take;
            if (body_left_ == 0) {
                // Return here so the session restarts its header timer for
                // the next request instead of charging it this body's time.
                state_ = State::kHead;
                return i;
            }
            continue;
        }
        if (state_ != State::kHead) break;
        if (s_ == S::kValue || s_ == S::kTarget || s_ == S::kFieldName) {
            i += fast_run(data + i, len - i);
            if (i == len) break;
        }
        const uint8_t c = data[i++];
        if (++head_bytes_ > cfg_->max_head_bytes) {
            // The target alone overran the head limit: that is a long URI.
            fail(s_ == S::kTarget ? ParseError::kUriTooLong : ParseError::kHeadTooLarge);
            break;
        }
        if (!on_byte(c)) break;
    }
    return i;
}

// Fast path for the long runs of a head (field values, the target): copies
// or skips bytes that cannot change the state, many at a time, leaving the
// delimiter (and anything unusual) to on_byte(). Stays inside the head-size
// budget so the limits fire exactly as on the slow path.
std::size_t RequestParser::fast_run(const uint8_t *p, std::size_t n) {
    const uint32_t budget =
        cfg_->max_head_bytes > head_bytes_ ? cfg_->max_head_bytes - head_bytes_ : 0;
    if (n > budget) n = budget;
    std::size_t k = 0;
    if (s_ == S::kValue) {
        if (cur_special_ != Special::kNone) return 0;  // Connection/CL parse per byte
        k = plain_value_run(p, n);
        if (k == 0) return 0;
        if (cur_field_ != Field::kNone) {
            const std::size_t room = arena_.size() - arena_used_;
            if (k > room) return 0;  // let the slow path flag the overflow
            std::memcpy(arena_.data() + arena_used_, p, k);
            arena_used_ = static_cast<uint16_t>(arena_used_ + k);
        }
        for (std::size_t j = k; j > 0; --j) {
            if (!is_ows(p[j - 1])) {
                value_len_ = static_cast<uint16_t>(value_raw_ + j);
                break;
            }
        }
        value_raw_ = static_cast<uint16_t>(value_raw_ + k);
    } else if (s_ == S::kTarget) {
        const std::size_t cap = std::min<std::size_t>(cfg_->max_target_bytes, target_.size());
        const std::size_t room = cap > target_len_ ? cap - target_len_ : 0;
        if (n > room) n = room;
        while (k < n && is_target_char(p[k])) ++k;
        std::memcpy(target_.data() + target_len_, p, k);
        target_len_ += k;
    } else if (s_ == S::kFieldName) {
        while (k < n && is_tchar(p[k])) {
            if (name_len_ < sizeof(name_buf_))
                name_buf_[name_len_++] = static_cast<char>(to_lower(p[k]));
            else
                name_overflow_ = true;
            ++k;
        }
    } else {
        return 0;
    }
    head_bytes_ += static_cast<uint32_t>(k);
    return k;
}

// One byte of the head. Returns false when the head ended (complete or error).
bool RequestParser::on_byte(uint8_t c) {
    switch (s_) {
        case S::kStart:
            // RFC 9112 §2.2: a server SHOULD ignore at least one empty line
            // (CRLF) received prior to the request-line.
            if (c == '\r') {
                s_ = S::kStartLf;
                return true;
            }
            if (!is_tchar(c)) return fail(ParseError::kBadRequestLine);
            s_ = S::kMethod;
            [[fallthrough]];
        case S::kMethod:
            // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
            if (c == ' ') {
                if (method_len_ == 0) return fail(ParseError::kBadRequestLine);
                const std::string_view m(method_buf_, method_len_);
                // RFC 9110 §9.1: methods are case-sensitive.
                method_ = m == "GET"       ? Method::kGet
                          : m == "HEAD"    ? Method::kHead
                          : m == "OPTIONS" ? Method::kOptions
                          : m == "PURGE"   ? Method::kPurge
                                           : Method::kOther;
                s_ = S::kTarget;
                return true;
            }
            if (!is_tchar(c)) return fail(ParseError::kBadRequestLine);
            if (method_len_ == sizeof(method_buf_)) return fail(ParseError::kMethodTooLong);
            method_buf_[method_len_++] = static_cast<char>(c);
            return true;
        case S::kStartLf:
            if (c != '\n') return fail(ParseError::kBadLineEnding);
            ++empty_lines_;
            s_ = S::kStart;
            return true;
        case S::kTarget:
            if (c == ' ') {
                if (target_len_ == 0) return fail(ParseError::kBadRequestLine);
                s_ = S::kVersion;
                return true;
            }
            // HTTP/0.9-style "GET /path\r\n" has no version: not a request line we serve.
            if (c == '\r' || c == '\n') return fail(ParseError::kBadRequestLine);
            // '#' (fragment) is never sent in a request-target; CTLs, space,
            // '"', '<', '\\', '{' etc. are outside RFC 3986.
            if (!is_target_char(c)) return fail(ParseError::kBadTarget);
            if (target_len_ >= cfg_->max_target_bytes || target_len_ >= target_.size())
                return fail(ParseError::kUriTooLong);
            target_[target_len_++] = static_cast<char>(c);
            return true;
        case S::kVersion:
            if (c == '\r') {
                s_ = S::kLineLf;
                return finish_version();
            }
            if (version_len_ == sizeof(version_buf_)) return fail(ParseError::kBadVersion);
            version_buf_[version_len_++] = static_cast<char>(c);
            return true;
        case S::kLineLf:
            if (c != '\n') return fail(ParseError::kBadLineEnding);
            s_ = S::kFieldStart;
            return true;
        case S::kFieldStart:
            if (c == '\r') {
                s_ = S::kEndLf;
                return true;
            }
            // RFC 9112 §5.2: obs-fold is rejected with 400; §2.2 likewise
            // whitespace before the first field line.
            if (is_ows(c)) return fail(ParseError::kObsFold);
            if (!is_tchar(c)) return fail(ParseError::kBadHeaderName);
            if (++header_lines_ > cfg_->max_headers) return fail(ParseError::kTooManyHeaders);
            name_len_ = 0;
            name_overflow_ = false;
            s_ = S::kFieldName;
            [[fallthrough]];
        case S::kFieldName:
            if (c == ':') {
                const std::string_view n(name_buf_, name_overflow_ ? 0 : name_len_);
                cur_field_ = Field::kNone;
                cur_special_ = Special::kNone;
                if (n == "host")
                    cur_field_ = Field::kHost;
                else if (n == "range")
                    cur_field_ = Field::kRange;
                else if (n == "if-range")
                    cur_field_ = Field::kIfRange;
                else if (n == "if-match")
                    cur_field_ = Field::kIfMatch;
                else if (n == "if-none-match")
                    cur_field_ = Field::kIfNoneMatch;
                else if (n == "if-modified-since")
                    cur_field_ = Field::kIfModifiedSince;
                else if (n == "if-unmodified-since")
                    cur_field_ = Field::kIfUnmodifiedSince;
                else if (n == "origin")
                    cur_field_ = Field::kOrigin;
                else if (n == "access-control-request-headers")
                    cur_field_ = Field::kAcRequestHeaders;
                else if (n == "access-control-request-method")
                    cur_field_ = Field::kAcRequestMethod;
                else if (n == "expect")
                    cur_field_ = Field::kExpect;
                else if (n == "connection")
                    cur_special_ = Special::kConnection;
                else if (n == "content-length")
                    cur_special_ = Special::kContentLength;
                else if (n == "transfer-encoding")
                    cur_special_ = Special::kTransferEncoding;
                value_off_ = arena_used_;
                value_len_ = value_raw_ = 0;
                value_overflow_ = false;
                name_len_ = 0;  // reused as the Connection token buffer
                cl_accum_ = 0;
                cl_digits_ = cl_trailing_ows_ = false;
                if (cur_special_ == Special::kContentLength) {
                    if (has_cl_) cl_conflict_ = true;  // §6.3: repeated CL is refused
                    has_cl_ = true;
                }
                if (cur_special_ == Special::kTransferEncoding) has_te_ = true;
                s_ = S::kValueOws;
                return true;
            }
            // RFC 9112 §5.1: no whitespace between field name and colon.
            if (!is_tchar(c)) return fail(ParseError::kBadHeaderName);
            if (name_len_ < sizeof(name_buf_)) {
                name_buf_[name_len_++] = static_cast<char>(to_lower(c));
            } else {
                name_overflow_ = true;  // longer than any field we act on
            }
            return true;
        case S::kValueOws:
            if (is_ows(c)) return true;  // RFC 9112 §5.1: leading OWS is not part of the value
            s_ = S::kValue;
            [[fallthrough]];
        case S::kValue:
            if (c == '\r') {
                s_ = S::kFieldLf;
                return true;
            }
            // RFC 9110 §5.5: field values never contain NUL, bare CR/LF or
            // other controls; a recipient MUST reject or replace them. We reject.
            if (!is_field_value_char(c)) {
                return fail(c == '\n' ? ParseError::kBadLineEnding : ParseError::kBadHeaderValue);
            }
            ++value_raw_;
            if (!is_ows(c)) value_len_ = value_raw_;
            if (cur_field_ != Field::kNone) {
                if (arena_used_ >= arena_.size()) {
                    value_overflow_ = true;
                } else {
                    arena_[arena_used_++] = static_cast<char>(c);
                }
            } else if (cur_special_ == Special::kConnection) {
                // RFC 9110 §7.6.1: Connection = #connection-option (tokens).
                if (c == ',' || is_ows(c)) {
                    const std::string_view t(name_buf_, name_overflow_ ? 0 : name_len_);
                    if (ieq(t, "close")) conn_close_ = true;
                    if (ieq(t, "keep-alive")) conn_keep_alive_ = true;
                    name_len_ = 0;
                    name_overflow_ = false;
                } else if (name_len_ < sizeof(name_buf_)) {
                    name_buf_[name_len_++] = static_cast<char>(c);
                } else {
                    name_overflow_ = true;
                }
            } else if (cur_special_ == Special::kContentLength) {
                // RFC 9112 §6.3: Content-Length = 1*DIGIT. Lists ("5, 5"),
                // signs and inner spaces are all refused.
                if (is_digit(c) && !cl_trailing_ows_) {
                    if (cl_accum_ > (UINT64_MAX - 9) / 10) cl_bad_ = true;
                    cl_accum_ = cl_accum_ * 10 + (c - '0');
                    cl_digits_ = true;
                } else if (is_ows(c)) {
                    cl_trailing_ows_ = true;  // only OWS may follow now
                } else {
                    cl_bad_ = true;
                }
            }
            return true;
        case S::kFieldLf:
            if (c != '\n') return fail(ParseError::kBadLineEnding);
            s_ = S::kFieldStart;
            return end_of_field_line();
        case S::kEndLf:
            if (c != '\n') return fail(ParseError::kBadLineEnding);
            finish_head();
            return false;
    }
    return fail(ParseError::kBadRequestLine);
}

bool RequestParser::end_of_field_line() {
    if (cur_field_ != Field::kNone) {
        if (value_overflow_ || stored_n_ == stored_.size()) return fail(ParseError::kHeadTooLarge);
        // Trailing OWS was stored; drop it (RFC 9112 §5.1) and give it back.
        arena_used_ = static_cast<uint16_t>(value_off_ + value_len_);
        stored_[stored_n_++] = Stored{cur_field_, value_off_, value_len_};
        auto &n = field_count_[static_cast<std::size_t>(cur_field_)];
        if (n < 255) ++n;
    } else if (cur_special_ == Special::kConnection) {
        const std::string_view t(name_buf_, name_overflow_ ? 0 : name_len_);
        if (ieq(t, "close")) conn_close_ = true;
        if (ieq(t, "keep-alive")) conn_keep_alive_ = true;
    } else if (cur_special_ == Special::kContentLength) {
        if (!cl_digits_) cl_bad_ = true;
        if (!cl_bad_ && !cl_conflict_) content_length_ = cl_accum_;
    }
    cur_field_ = Field::kNone;
    cur_special_ = Special::kNone;
    name_len_ = 0;
    name_overflow_ = false;
    return true;
}

bool RequestParser::finish_version() {
    // RFC 9112 §2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT (case-sensitive).
    const std::string_view v(version_buf_, version_len_);
    if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !is_digit(v[5]) || v[6] != '.' ||
        !is_digit(v[7]))
        return fail(ParseError::kBadVersion);
    if (v[5] != '1') return fail(ParseError::kVersionNotSupported);
    // RFC 9110 §6.2: a 1.x minor version above ours is handled as 1.1.
    version_ = v[7] == '0' ? Version::kHttp10 : Version::kHttp11;
    return true;
}

bool RequestParser::finish_head() {
    // Framing first: a message whose body length is in doubt must not be
    // answered and followed by another read from the same stream.
    if (has_te_) {
        // RFC 9112 §6.1: CL with TE "ought to be handled as an error"; a
        // server MAY reject and MUST close. We never accept request bodies
        // with a transfer coding (GET/HEAD/OPTIONS bodies have no meaning).
        return fail(has_cl_ ? ParseError::kContentLengthAndTransferEncoding
                            : ParseError::kTransferEncoding);
    }
    if (cl_conflict_) return fail(ParseError::kDuplicateContentLength);
    if (cl_bad_) return fail(ParseError::kBadContentLength);
    if (content_length_ > cfg_->max_discard_body) return fail(ParseError::kBodyTooLarge);

    // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, for more than
    // one Host line, and for an invalid Host value.
    const unsigned hosts = field_count(Field::kHost);
    if (hosts > 1) return fail(ParseError::kDuplicateHost);
    if (hosts == 0 && version_ == Version::kHttp11) return fail(ParseError::kMissingHost);
    if (hosts == 1 && !valid_host(field(Field::kHost))) return fail(ParseError::kBadHost);

    if (!decode_target()) return false;
    state_ = State::kComplete;
    return false;
}

// Turns the raw target into a decoded absolute path that cannot leave the
// content namespace. Policy (docs/http.md): we refuse rather than normalise —
// an encoded '/' or '\\', a NUL or control byte, a bad %-escape, and any "."
// or ".." segment (literal or encoded) give 400. Browsers and dash.js
// normalise dot segments before sending, so only crafted requests hit this.
bool RequestParser::decode_target() {
    std::string_view t = raw_target();
    if (t == "*") {
        form_ = TargetForm::kAsterisk;  // RFC 9112 §3.2.4, OPTIONS only
        path_len_ = 0;
        return true;
    }
    if (t[0] == '/') {
        form_ = TargetForm::kOrigin;  // RFC 9112 §3.2.1
    } else {
        // RFC 9112 §3.2.2: a server MUST accept absolute-form; the authority
        // replaces Host, but we route by path so we only validate it.
        std::size_t scheme = 0;
        if (t.size() > 7 && ieq(t.substr(0, 7), "http://"))
            scheme = 7;
        else if (t.size() > 8 && ieq(t.substr(0, 8), "https://"))
            scheme = 8;
        if (scheme == 0) return fail(ParseError::kBadTarget);
        t.remove_prefix(scheme);
        const std::size_t end = t.find_first_of("/?");
        const std::string_view authority = t.substr(0, end);
        // RFC 9110 §4.2.4: userinfo in an http(s) URI is to be treated as an error.
        if (authority.empty() || authority.find('@') != std::string_view::npos ||
            !valid_host(authority))
            return fail(ParseError::kBadTarget);
        t = end == std::string_view::npos ? std::string_view{} : t.substr(end);
        form_ = TargetForm::kAbsolute;
    }
    const std::size_t q = t.find('?');
    if (q != std::string_view::npos) t = t.substr(0, q);  // the query does not name content

    std::size_t n = 0;
    if (t.empty() || t[0] != '/') path_[n++] = '/';
    for (std::size_t i = 0; i < t.size(); ++i) {
        auto c = static_cast<uint8_t>(t[i]);
        if (c == '%') {
            if (i + 2 >= t.size()) return fail(ParseError::kBadPath);  // truncated escape
            const int hi = hex_value(static_cast<uint8_t>(t[i + 1]));
            const int lo = hex_value(static_cast<uint8_t>(t[i + 2]));
            if (hi < 0 || lo < 0) return fail(ParseError::kBadPath);
            c = static_cast<uint8_t>(hi * 16 + lo);
            i += 2;
            if (c == '/' || c == '\\') return fail(ParseError::kBadPath);  // encoded separators
            if (c < 0x20 || c == 0x7f) return fail(ParseError::kBadPath);  // NUL and controls
        }
        path_[n++] = static_cast<char>(c);
    }
    path_len_ = n;
    // Dot segments, checked after decoding so "%2e%2E" is caught too.
    const std::string_view p = path();
    std::size_t seg = 1;
    for (std::size_t i = 1; i <= p.size(); ++i) {
        if (i == p.size() || p[i] == '/') {
            const std::string_view s = p.substr(seg, i - seg);
            if (s == "." || s == "..") return fail(ParseError::kBadPath);
            seg = i + 1;
        }
    }
    return true;
}

bool RequestParser::keep_alive() const {
    // RFC 9112 §9.3: "close" ends it; HTTP/1.1 persists by default; HTTP/1.0
    // persists only with the keep-alive connection option.
    if (conn_close_) return false;
    if (version_ == Version::kHttp11) return true;
    return conn_keep_alive_;
}

std::string_view RequestParser::field(Field f) const {
    for (uint8_t i = 0; i < stored_n_; ++i)
        if (stored_[i].field == f) return {arena_.data() + stored_[i].off, stored_[i].len};
    return {};
}

std::string_view RequestParser::field_line(Field f, unsigned idx) const {
    for (uint8_t i = 0; i < stored_n_; ++i) {
        if (stored_[i].field != f) continue;
        if (idx-- == 0) return {arena_.data() + stored_[i].off, stored_[i].len};
    }
    return {};
}

}  // namespace ep::http
