// Strict, bounded, incremental HTTP/1.1 request-head parser (RFC 9112).
//
// Bytes may arrive split anywhere: parse() consumes as much as it can and
// remembers where it was, one byte-state at a time. Memory is fixed: the
// request-target and the values of the few fields the server acts on are
// copied into arrays inside the parser; every other field is validated and
// dropped on the fly, so a 1 MiB head costs no memory, only a 431 after
// max_head_bytes. No allocation, no exceptions.
//
// Lifecycle: parse() until state() is kComplete or kError. On kComplete read
// the accessors, then call next_request(): the parser skips the request body
// (Content-Length bytes, discarded) and starts on the next pipelined request.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/http/config.h"
#include "dataplane/http/request.h"

namespace ep::http {

class RequestParser {
  public:
    enum class State : uint8_t { kHead, kComplete, kBody, kError };

    explicit RequestParser(const HttpConfig &cfg) : cfg_(&cfg) { reset(); }

    // Forget everything, as for a new connection.
    void reset();

    // Consumes bytes; stops early at kComplete (so the caller can answer
    // before the next pipelined request is read) or kError.
    std::size_t parse(const uint8_t *data, std::size_t len);

    // After kComplete: discard the body, then parse the next request.
    void next_request();

    State state() const { return state_; }
    ParseError error() const { return error_; }
    // True once any byte of the current request head was consumed; the
    // session starts its header timer there.
    bool head_started() const { return state_ != State::kHead || head_bytes_ != 0; }

    // --- valid in kComplete (method/version also after most errors) ---
    Method method() const { return method_; }
    Version version() const { return version_; }
    TargetForm target_form() const { return form_; }
    std::string_view raw_target() const { return {target_.data(), target_len_}; }
    // Percent-decoded absolute path, always starting with '/', query removed.
    std::string_view path() const { return {path_.data(), path_len_}; }
    // Persistence decided by RFC 9112 §9.3 from version and Connection.
    bool keep_alive() const;
    bool connection_close() const { return conn_close_; }
    bool connection_keep_alive() const { return conn_keep_alive_; }
    uint64_t content_length() const { return content_length_; }
    // Value of a kept field; empty if absent. `count` says how many field
    // lines carried it (list fields are iterated with field_line()).
    std::string_view field(Field f) const;
    unsigned field_count(Field f) const { return field_count_[static_cast<std::size_t>(f)]; }
    // i-th line of a (list-valued) field, for If-Match / If-None-Match / ACRH.
    std::string_view field_line(Field f, unsigned i) const;

    // Bytes of the path buffer reserved beyond the target, so the session
    // can append the directory index name in place.
    char *path_buffer() { return path_.data(); }
    std::size_t path_capacity() const { return path_.size(); }
    void set_path_len(std::size_t n) { path_len_ = n; }

  private:
    enum class S : uint8_t {
        kStart,
        kStartLf,
        kMethod,
        kTarget,
        kVersion,
        kLineLf,
        kFieldStart,
        kFieldName,
        kValueOws,
        kValue,
        kFieldLf,
        kEndLf,
    };
    struct Stored {
        Field field;
        uint16_t off;
        uint16_t len;
    };

    bool fail(ParseError e);
    bool on_byte(uint8_t c);
    std::size_t fast_run(const uint8_t *p, std::size_t n);
    bool end_of_field_line();
    bool finish_head();
    bool finish_version();
    bool decode_target();

    const HttpConfig *cfg_;
    State state_ = State::kHead;
    S s_ = S::kStart;
    ParseError error_ = ParseError::kNone;

    uint32_t head_bytes_ = 0;
    uint32_t header_lines_ = 0;
    uint32_t empty_lines_ = 0;
    Method method_ = Method::kOther;
    Version version_ = Version::kHttp11;
    TargetForm form_ = TargetForm::kOrigin;
    char method_buf_[8] = {};
    uint8_t method_len_ = 0;
    char version_buf_[8] = {};
    uint8_t version_len_ = 0;

    std::array<char, kTargetCapacity> target_{};
    std::size_t target_len_ = 0;
    std::array<char, kTargetCapacity + kIndexNameCapacity + 1> path_{};
    std::size_t path_len_ = 0;

    // Current field line.
    char name_buf_[32] = {};
    uint8_t name_len_ = 0;
    bool name_overflow_ = false;
    Field cur_field_ = Field::kNone;
    enum class Special : uint8_t { kNone, kConnection, kContentLength, kTransferEncoding };
    Special cur_special_ = Special::kNone;
    uint16_t value_off_ = 0;
    uint16_t value_len_ = 0;  // up to and including the last non-OWS byte
    uint16_t value_raw_ = 0;  // including trailing OWS seen so far
    bool value_overflow_ = false;

    std::array<char, kFieldArenaBytes> arena_{};
    uint16_t arena_used_ = 0;
    std::array<Stored, kMaxStoredFields> stored_{};
    uint8_t stored_n_ = 0;
    std::array<uint8_t, static_cast<std::size_t>(Field::kCount)> field_count_{};

    bool conn_close_ = false;
    bool conn_keep_alive_ = false;
    bool has_cl_ = false;
    bool cl_conflict_ = false;
    bool cl_bad_ = false;
    bool has_te_ = false;
    uint64_t content_length_ = 0;
    uint64_t body_left_ = 0;
    // Content-Length digits are accumulated as they arrive.
    uint64_t cl_accum_ = 0;
    bool cl_digits_ = false;
    bool cl_trailing_ows_ = false;
};

}  // namespace ep::http
