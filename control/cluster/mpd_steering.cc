#include "control/cluster/mpd_steering.h"

namespace ep::cluster {
namespace {

// The end of the tag starting at `lt` ('>' excluded), skipping quoted
// attribute values; npos when unterminated.
std::size_t tag_end(std::string_view s, std::size_t lt) {
    char quote = 0;
    for (std::size_t i = lt + 1; i < s.size(); ++i) {
        const char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            return i;
        }
    }
    return std::string_view::npos;
}

// The first element start "<NAME" (followed by space, '>' or '/') from pos.
std::size_t find_element(std::string_view s, std::string_view name, std::size_t pos = 0) {
    for (;;) {
        pos = s.find(name, pos);
        if (pos == std::string_view::npos || pos == 0) return std::string_view::npos;
        const std::size_t after = pos + name.size();
        if (s[pos - 1] == '<' && after < s.size() &&
            (s[after] == ' ' || s[after] == '>' || s[after] == '/' || s[after] == '\t' ||
             s[after] == '\r' || s[after] == '\n'))
            return pos - 1;
        pos = after;
    }
}

}  // namespace

bool add_content_steering(std::string_view mpd, const MpdSteering &s, std::string *out,
                          std::string *err) {
    const std::size_t start = find_element(mpd, "MPD");
    if (start == std::string_view::npos) return *err = "no <MPD> element", false;
    const std::size_t gt = tag_end(mpd, start);
    if (gt == std::string_view::npos || mpd[gt - 1] == '/')
        return *err = "the <MPD> start tag is not closed", false;
    if (find_element(mpd, "ContentSteering") != std::string_view::npos)
        return *err = "already carries ContentSteering", false;
    const std::size_t period = find_element(mpd, "Period");
    const std::size_t base = find_element(mpd, "BaseURL");
    if (base != std::string_view::npos && (period == std::string_view::npos || base < period))
        return *err = "has an MPD-level BaseURL of its own", false;
    std::size_t at = gt + 1;
    const std::size_t pi_end = mpd.rfind("</ProgramInformation>", period);
    if (pi_end != std::string_view::npos && pi_end > at) at = mpd.find('>', pi_end) + 1;
    std::string add;
    for (const auto &[loc, url] : s.locations)
        add += "\n  <BaseURL serviceLocation=\"" + loc + "\">" + url + "</BaseURL>";
    add += "\n  <ContentSteering defaultServiceLocation=\"" + s.default_location +
           "\" queryBeforeStart=\"" + (s.query_before_start ? "true" : "false") + "\">" + s.server +
           "</ContentSteering>";
    out->assign(mpd.substr(0, at));
    *out += add;
    out->append(mpd.substr(at));
    return true;
}

}  // namespace ep::cluster
