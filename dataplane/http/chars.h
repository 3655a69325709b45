// Character classes of the HTTP grammar, as constexpr tables so the parser
// classifies a byte with one load (no locale, no <cctype>).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
// Length of the leading run of p[0..n) that is plain field-value text: any
// byte >= 0x20 except DEL (so obs-text passes). Stops at CR, HTAB, and every
// other control, which the byte-wise parser then judges. 16 bytes per step
// with SSE2, which every x86-64 has.
inline std::size_t plain_value_run(const uint8_t *p, std::size_t n) {
    std::size_t k = 0;
#if defined(__SSE2__)
    const __m128i lim = _mm_set1_epi8(0x1f);
    const __m128i del = _mm_set1_epi8(0x7f);
    while (k + 16 <= n) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + k));
        // c <= 0x1f (unsigned) ⇔ min(c, 0x1f) == c
        const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, lim), v);
        const __m128i bad = _mm_or_si128(ctl, _mm_cmpeq_epi8(v, del));
        const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(bad));
        if (mask != 0) return k + static_cast<std::size_t>(__builtin_ctz(mask));
        k += 16;
    }
#endif
    while (k < n && p[k] >= 0x20 && p[k] != 0x7f) ++k;
    return k;
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
