// The parsed form of one request head, as the request parser leaves it.
#pragma once

#include <cstdint>
#include <string_view>

namespace ep::http {

// kPurge: the cache-purge method proxies use (not in RFC 9110; Varnish,
// Squid, nginx's ngx_cache_purge): accepted only where the glue allows it.
enum class Method : uint8_t { kGet, kHead, kOptions, kOther, kPurge };
enum class Version : uint8_t { kHttp10, kHttp11 };
// RFC 9112 §3.2: origin-form "/path?q", absolute-form "http://host/path",
// asterisk-form "*" (OPTIONS only). authority-form (CONNECT) is rejected.
enum class TargetForm : uint8_t { kOrigin, kAbsolute, kAsterisk };

// Header fields the server acts on; every other field is validated and skipped.
enum class Field : uint8_t {
    kHost,
    kRange,
    kIfRange,
    kIfMatch,
    kIfNoneMatch,
    kIfModifiedSince,
    kIfUnmodifiedSince,
    kOrigin,
    kAcRequestHeaders,  // Access-Control-Request-Headers
    kAcRequestMethod,   // Access-Control-Request-Method
    kExpect,
    kCount,
    kNone = kCount,
};

// Why a request was refused at the parsing stage; every kind is counted.
// X(enumerator, stats name, help).
#define EP_HTTP_PARSE_ERRORS(X)                                                                 \
    X(kBadRequestLine, bad_request_line, "400: not method SP target SP version CRLF")           \
    X(kMethodTooLong, method_too_long, "400")                                                   \
    X(kBadTarget, bad_target, "400: a byte outside RFC 3986, '#', unknown form")                \
    X(kUriTooLong, uri_too_long, "414")                                                         \
    X(kBadVersion, bad_version, "400: not HTTP/DIGIT.DIGIT")                                    \
    X(kVersionNotSupported, version_not_supported, "505: HTTP/2.0 etc. in HTTP/1 syntax")       \
    X(kBadLineEnding, bad_line_ending, "400: bare CR or bare LF")                               \
    X(kBadHeaderName, bad_header_name, "400: non-token byte, empty name, space before ':'")     \
    X(kBadHeaderValue, bad_header_value, "400: control byte in a value")                        \
    X(kObsFold, obs_fold, "400: RFC 9112 §5.2 line folding")                                    \
    X(kHeadTooLarge, head_too_large, "431: total head bytes, or kept-field storage")            \
    X(kTooManyHeaders, too_many_headers, "431")                                                 \
    X(kMissingHost, missing_host, "400: RFC 9112 §3.2")                                         \
    X(kDuplicateHost, duplicate_host, "400: RFC 9112 §3.2")                                     \
    X(kBadHost, bad_host, "400: RFC 9112 §3.2")                                                 \
    X(kBadContentLength, bad_content_length, "400: RFC 9112 §6.3 item 5")                       \
    X(kDuplicateContentLength, duplicate_content_length, "400: conflicting or repeated values") \
    X(kTransferEncoding, transfer_encoding, "400: chunked request bodies are not accepted")     \
    X(kContentLengthAndTransferEncoding, content_length_and_transfer_encoding,                  \
      "400: RFC 9112 §6.1 smuggling vector")                                                    \
    X(kBodyTooLarge, body_too_large, "413")                                                     \
    X(kBadPath, bad_path, "400: %2F, \"..\", NUL, bad %-escape after decoding")

enum class ParseError : uint8_t {
    kNone,
#define EP_X(e, name, help) e,
    EP_HTTP_PARSE_ERRORS(EP_X)
#undef EP_X
        kCount,
};

std::string_view parse_error_name(ParseError e);

}  // namespace ep::http
