// The response statuses this server emits and their reason phrases.
#pragma once

#include <cstdint>
#include <string_view>

namespace ep::http {

enum class Status : uint16_t {
    kOk = 200,
    kNoContent = 204,
    kPartialContent = 206,
    kFound = 302,  // cluster steering: a better cluster serves this client
    kNotModified = 304,
    kBadRequest = 400,
    kForbidden = 403,  // PURGE from outside the allowed networks
    kNotFound = 404,
    kMethodNotAllowed = 405,
    kRequestTimeout = 408,
    kPreconditionFailed = 412,
    kContentTooLarge = 413,
    kUriTooLong = 414,
    kRangeNotSatisfiable = 416,
    kHeaderFieldsTooLarge = 431,
    kBadGateway = 502,  // pull on miss: the origin failed or answered badly
    kServiceUnavailable = 503,
    kGatewayTimeout = 504,  // pull on miss: the origin did not answer in time
    kVersionNotSupported = 505,
};

// RFC 9110 §15: reason phrases are informational only, but clients log them.
constexpr std::string_view reason_phrase(Status s) {
    switch (s) {
        case Status::kOk:
            return "OK";
        case Status::kNoContent:
            return "No Content";
        case Status::kPartialContent:
            return "Partial Content";
        case Status::kFound:
            return "Found";
        case Status::kNotModified:
            return "Not Modified";
        case Status::kBadRequest:
            return "Bad Request";
        case Status::kForbidden:
            return "Forbidden";
        case Status::kNotFound:
            return "Not Found";
        case Status::kMethodNotAllowed:
            return "Method Not Allowed";
        case Status::kRequestTimeout:
            return "Request Timeout";
        case Status::kPreconditionFailed:
            return "Precondition Failed";
        case Status::kContentTooLarge:
            return "Content Too Large";
        case Status::kUriTooLong:
            return "URI Too Long";
        case Status::kRangeNotSatisfiable:
            return "Range Not Satisfiable";
        case Status::kHeaderFieldsTooLarge:
            return "Request Header Fields Too Large";
        case Status::kBadGateway:
            return "Bad Gateway";
        case Status::kServiceUnavailable:
            return "Service Unavailable";
        case Status::kGatewayTimeout:
            return "Gateway Timeout";
        case Status::kVersionNotSupported:
            return "HTTP Version Not Supported";
    }
    return "Unknown";
}

constexpr uint16_t code(Status s) {
    return static_cast<uint16_t>(s);
}

}  // namespace ep::http
