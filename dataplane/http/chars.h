// Character classes of the HTTP grammar, as constexpr tables so the parser
// classifies a byte with one load (no locale, no <cctype>).
#pragma once

#include <array>
#include <cstdint>

namespace ep::http {

namespace detail {

constexpr std::array<bool, 256> make_tchar() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : {'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~'})
        t[static_cast<uint8_t>(c)] = true;
    return t;
}

// RFC 3986 §3.3 pchar minus pct-encoded ('%' is handled by the decoder),
// plus '/' and '?' which delimit segments and the query.
constexpr std::array<bool, 256> make_target_char() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : {'-', '.', '_', '~',                                      // unreserved
                   '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=',  // sub-delims
                   ':', '@', '/', '?',  '%'})
        t[static_cast<uint8_t>(c)] = true;
    return t;
}

}  // namespace detail

// RFC 9110 §5.6.2: tchar, the characters of a token (methods, field names).
inline constexpr std::array<bool, 256> kTchar = detail::make_tchar();
// Characters allowed in a request-target (RFC 9112 §3.2 via RFC 3986).
inline constexpr std::array<bool, 256> kTargetChar = detail::make_target_char();

inline constexpr bool is_tchar(uint8_t c) {
    return kTchar[c];
}
inline constexpr bool is_target_char(uint8_t c) {
    return kTargetChar[c];
}
inline constexpr bool is_digit(uint8_t c) {
    return c >= '0' && c <= '9';
}
// RFC 9110 §5.6.3: OWS = *( SP / HTAB ).
inline constexpr bool is_ows(uint8_t c) {
    return c == ' ' || c == '\t';
}
// RFC 9110 §5.5: field-vchar = VCHAR / obs-text; SP and HTAB may appear inside
// a value. Every other control (NUL, bare CR, LF, DEL) is invalid.
inline constexpr bool is_field_value_char(uint8_t c) {
    return (c >= 0x21 && c != 0x7f) || c == ' ' || c == '\t';
}
inline constexpr uint8_t to_lower(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
}
inline constexpr int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace ep::http
