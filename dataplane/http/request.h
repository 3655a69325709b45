// The parsed form of one request head, as the request parser leaves it.
#pragma once

#include <cstdint>
#include <string_view>

namespace ep::http {

enum class Method : uint8_t { kGet, kHead, kOptions, kOther };
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
enum class ParseError : uint8_t {
    kNone,
    kBadRequestLine,                    // 400: not method SP target SP version CRLF
    kMethodTooLong,                     // 400
    kBadTarget,                         // 400: a byte outside RFC 3986, '#', unknown form
    kUriTooLong,                        // 414
    kBadVersion,                        // 400: not HTTP/DIGIT.DIGIT
    kVersionNotSupported,               // 505: HTTP/2.0 etc. in HTTP/1 syntax
    kBadLineEnding,                     // 400: bare CR or bare LF
    kBadHeaderName,                     // 400: non-token byte, empty name, space before ':'
    kBadHeaderValue,                    // 400: control byte in a value
    kObsFold,                           // 400: RFC 9112 §5.2 line folding
    kHeadTooLarge,                      // 431: total head bytes, or kept-field storage
    kTooManyHeaders,                    // 431
    kMissingHost,                       // 400: RFC 9112 §3.2
    kDuplicateHost,                     // 400: RFC 9112 §3.2
    kBadHost,                           // 400: RFC 9112 §3.2
    kBadContentLength,                  // 400: RFC 9112 §6.3 item 5
    kDuplicateContentLength,            // 400: conflicting or repeated values
    kTransferEncoding,                  // 400: chunked request bodies are not accepted
    kContentLengthAndTransferEncoding,  // 400: RFC 9112 §6.1 smuggling vector
    kBodyTooLarge,                      // 413
    kBadPath,                           // 400: %2F, "..", NUL, bad %-escape after decoding
    kCount,
};

std::string_view parse_error_name(ParseError e);

}  // namespace ep::http
