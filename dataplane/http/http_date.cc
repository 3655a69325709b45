#include "dataplane/http/http_date.h"

#include <array>

namespace ep::http {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Howard Hinnant's days_from_civil / civil_from_days: exact proleptic
// Gregorian conversion with integer arithmetic only.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t &y, unsigned &m, unsigned &d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

void put2(char *p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10 % 10);
    p[1] = static_cast<char>('0' + v % 10);
}

// Reads exactly n digits at s[pos]; advances pos.
bool digits(std::string_view s, std::size_t &pos, std::size_t n, int64_t &out) {
    if (pos + n > s.size()) return false;
    int64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    pos += n;
    out = v;
    return true;
}

bool lit(std::string_view s, std::size_t &pos, std::string_view l) {
    if (s.substr(pos, l.size()) != l) return false;
    pos += l.size();
    return true;
}

bool month(std::string_view s, std::size_t &pos, unsigned &m) {
    for (unsigned i = 0; i < 12; ++i) {
        if (s.substr(pos, 3) == kMonths[i]) {
            m = i + 1;
            pos += 3;
            return true;
        }
    }
    return false;
}

// time-of-day = hour ":" minute ":" second
bool clock(std::string_view s, std::size_t &pos, int64_t &secs) {
    int64_t h, mi, se;
    if (!digits(s, pos, 2, h) || !lit(s, pos, ":") || !digits(s, pos, 2, mi) || !lit(s, pos, ":") ||
        !digits(s, pos, 2, se))
        return false;
    // RFC 9110 §5.6.7 allows second 60 (leap second).
    if (h > 23 || mi > 59 || se > 60) return false;
    secs = h * 3600 + mi * 60 + se;
    return true;
}

std::optional<int64_t> assemble(int64_t y, unsigned m, int64_t d, int64_t secs) {
    static constexpr unsigned kDim[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d < 1 || d > kDim[m - 1]) return std::nullopt;
    return days_from_civil(y, m, static_cast<unsigned>(d)) * 86400 + secs;
}

}  // namespace

void format_imf_fixdate(int64_t t, char *out) {
    if (t < 0) t = 0;
    const int64_t days = t / 86400;
    const int64_t rem = t % 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    const std::string_view wd =
        kDays[static_cast<std::size_t>((days + 4) % 7)];  // 1970-01-01 was a Thursday
    out[0] = wd[0], out[1] = wd[1], out[2] = wd[2], out[3] = ',', out[4] = ' ';
    put2(out + 5, d);
    out[7] = ' ';
    const std::string_view mn = kMonths[m - 1];
    out[8] = mn[0], out[9] = mn[1], out[10] = mn[2], out[11] = ' ';
    put2(out + 12, static_cast<unsigned>(y / 100 % 100));
    put2(out + 14, static_cast<unsigned>(y % 100));
    out[16] = ' ';
    put2(out + 17, static_cast<unsigned>(rem / 3600));
    out[19] = ':';
    put2(out + 20, static_cast<unsigned>(rem / 60 % 60));
    out[22] = ':';
    put2(out + 23, static_cast<unsigned>(rem % 60));
    out[25] = ' ', out[26] = 'G', out[27] = 'M', out[28] = 'T';
}

std::optional<int64_t> parse_http_date(std::string_view s) {
    std::size_t pos = 0;
    int64_t d, y, secs;
    unsigned m;
    // IMF-fixdate: day-name "," SP date1 SP time-of-day SP GMT
    if (s.size() == kImfFixdateLen && s[3] == ',') {
        bool ok = false;
        for (auto wd : kDays) ok |= s.substr(0, 3) == wd;
        pos = 3;
        if (ok && lit(s, pos, ", ") && digits(s, pos, 2, d) && lit(s, pos, " ") &&
            month(s, pos, m) && lit(s, pos, " ") && digits(s, pos, 4, y) && lit(s, pos, " ") &&
            clock(s, pos, secs) && lit(s, pos, " GMT") && pos == s.size())
            return assemble(y, m, d, secs);
        return std::nullopt;
    }
    // rfc850-date: day-name-l "," SP DD-Mon-YY SP time-of-day SP GMT
    const std::size_t comma = s.find(',');
    if (comma != std::string_view::npos) {
        bool ok = false;
        for (auto wd : kLongDays) ok |= s.substr(0, comma) == wd;
        pos = comma;
        if (ok && lit(s, pos, ", ") && digits(s, pos, 2, d) && lit(s, pos, "-") &&
            month(s, pos, m) && lit(s, pos, "-") && digits(s, pos, 2, y) && lit(s, pos, " ") &&
            clock(s, pos, secs) && lit(s, pos, " GMT") && pos == s.size()) {
            // RFC 9110 §5.6.7: a two-digit year more than 50 years in the
            // future is read as the most recent past year with those digits;
            // without a clock here, pivot at 70 like most implementations.
            y += y < 70 ? 2000 : 1900;
            return assemble(y, m, d, secs);
        }
        return std::nullopt;
    }
    // asctime-date: day-name SP month SP ( 2DIGIT / ( SP DIGIT )) SP time-of-day SP year
    if (s.size() == 24) {
        bool ok = false;
        for (auto wd : kDays) ok |= s.substr(0, 3) == wd;
        pos = 3;
        if (!ok || !lit(s, pos, " ") || !month(s, pos, m) || !lit(s, pos, " ")) return std::nullopt;
        if (s[pos] == ' ') {
            ++pos;
            if (!digits(s, pos, 1, d)) return std::nullopt;
        } else if (!digits(s, pos, 2, d)) {
            return std::nullopt;
        }
        if (lit(s, pos, " ") && clock(s, pos, secs) && lit(s, pos, " ") && digits(s, pos, 4, y) &&
            pos == s.size())
            return assemble(y, m, d, secs);
    }
    return std::nullopt;
}

}  // namespace ep::http
