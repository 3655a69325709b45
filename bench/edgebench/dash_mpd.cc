#include "bench/edgebench/dash_mpd.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ep::bench {

namespace {

// One start tag: name and raw attribute text.
struct Tag {
    std::string_view name;
    std::string_view attrs;
    bool closing = false;       // </name>
    bool self_closing = false;  // <name/>
};

// Next tag at or after `pos`; skips comments, <?...?> and <!...>.
bool next_tag(std::string_view x, size_t &pos, Tag *t) {
    while (true) {
        const size_t lt = x.find('<', pos);
        if (lt == std::string_view::npos) return false;
        if (x.substr(lt, 4) == "<!--") {
            const size_t e = x.find("-->", lt + 4);
            if (e == std::string_view::npos) return false;
            pos = e + 3;
            continue;
        }
        const size_t gt = x.find('>', lt);
        if (gt == std::string_view::npos) return false;
        pos = gt + 1;
        if (x[lt + 1] == '?' || x[lt + 1] == '!') continue;
        std::string_view body = x.substr(lt + 1, gt - lt - 1);
        t->closing = !body.empty() && body.front() == '/';
        if (t->closing) body.remove_prefix(1);
        t->self_closing = !body.empty() && body.back() == '/';
        if (t->self_closing) body.remove_suffix(1);
        size_t n = 0;
        while (n < body.size() && body[n] != ' ' && body[n] != '\t' && body[n] != '\n' &&
               body[n] != '\r')
            ++n;
        t->name = body.substr(0, n);
        // Namespace prefixes (mpd:Representation) don't matter here.
        if (const size_t c = t->name.find(':'); c != std::string_view::npos)
            t->name.remove_prefix(c + 1);
        t->attrs = body.substr(n);
        return true;
    }
}

std::optional<std::string> attr(std::string_view attrs, std::string_view name) {
    size_t pos = 0;
    while (pos < attrs.size()) {
        const size_t eq = attrs.find('=', pos);
        if (eq == std::string_view::npos) return std::nullopt;
        size_t ns = pos;
        while (ns < eq &&
               (attrs[ns] == ' ' || attrs[ns] == '\t' || attrs[ns] == '\n' || attrs[ns] == '\r'))
            ++ns;
        std::string_view key = attrs.substr(ns, eq - ns);
        while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
        size_t q = eq + 1;
        while (q < attrs.size() && attrs[q] == ' ') ++q;
        if (q >= attrs.size() || (attrs[q] != '"' && attrs[q] != '\'')) return std::nullopt;
        const char quote = attrs[q];
        const size_t end = attrs.find(quote, q + 1);
        if (end == std::string_view::npos) return std::nullopt;
        if (key == name) {
            std::string v(attrs.substr(q + 1, end - q - 1));
            // The few entities an MPD URL template may carry.
            for (auto [ent, ch] :
                 {std::pair{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}}) {
                size_t at;
                while ((at = v.find(ent)) != std::string::npos)
                    v.replace(at, std::string_view(ent).size(), 1, ch);
            }
            return v;
        }
        pos = end + 1;
    }
    return std::nullopt;
}

uint64_t to_u64(const std::optional<std::string> &s, uint64_t dflt) {
    if (!s || s->empty()) return dflt;
    char *end = nullptr;
    const unsigned long long v = std::strtoull(s->c_str(), &end, 10);
    return (end && *end == '\0') ? v : dflt;
}

struct Template {
    std::optional<std::string> media, init;
    std::optional<uint64_t> duration, timescale, start;
    void apply(std::string_view attrs) {
        if (auto v = attr(attrs, "media")) media = *v;
        if (auto v = attr(attrs, "initialization")) init = *v;
        if (auto v = attr(attrs, "duration")) duration = to_u64(v, 0);
        if (auto v = attr(attrs, "timescale")) timescale = to_u64(v, 1);
        if (auto v = attr(attrs, "startNumber")) start = to_u64(v, 1);
    }
    void inherit(const Template &outer) {
        if (!media) media = outer.media;
        if (!init) init = outer.init;
        if (!duration) duration = outer.duration;
        if (!timescale) timescale = outer.timescale;
        if (!start) start = outer.start;
    }
};

}  // namespace

double parse_iso_duration(std::string_view s) {
    if (s.empty() || s.front() != 'P') return -1;
    s.remove_prefix(1);
    double total = 0;
    bool in_time = false, any = false;
    while (!s.empty()) {
        if (s.front() == 'T') {
            in_time = true;
            s.remove_prefix(1);
            continue;
        }
        size_t n = 0;
        while (n < s.size() && ((s[n] >= '0' && s[n] <= '9') || s[n] == '.')) ++n;
        if (n == 0 || n == s.size()) return -1;
        const double v = std::strtod(std::string(s.substr(0, n)).c_str(), nullptr);
        const char unit = s[n];
        s.remove_prefix(n + 1);
        any = true;
        if (!in_time && unit == 'D')
            total += v * 86400;
        else if (!in_time && unit == 'Y')
            total += v * 365 * 86400;  // approximate; MPDs don't use it
        else if (!in_time && unit == 'M')
            total += v * 30 * 86400;
        else if (in_time && unit == 'H')
            total += v * 3600;
        else if (in_time && unit == 'M')
            total += v * 60;
        else if (in_time && unit == 'S')
            total += v;
        else
            return -1;
    }
    return any ? total : -1;
}

std::string expand_template(std::string_view t, const DashRepresentation &r, uint64_t number) {
    std::string out;
    size_t pos = 0;
    while (pos < t.size()) {
        const size_t a = t.find('$', pos);
        if (a == std::string_view::npos) {
            out.append(t.substr(pos));
            break;
        }
        out.append(t.substr(pos, a - pos));
        const size_t b = t.find('$', a + 1);
        if (b == std::string_view::npos) {
            out.append(t.substr(a));
            break;
        }
        const std::string_view id = t.substr(a + 1, b - a - 1);
        auto fmt = [&](std::string_view name, uint64_t v) {
            // $Name$ or $Name%0Nd$ (ISO/IEC 23009-1 Table 16)
            if (id == name) {
                out += std::to_string(v);
                return true;
            }
            if (id.substr(0, name.size()) == name && id.size() > name.size() + 1 &&
                id[name.size()] == '%') {
                std::string_view f = id.substr(name.size() + 1);
                if (f.back() != 'd') return false;
                int width = std::atoi(std::string(f.substr(0, f.size() - 1)).c_str());
                if (width < 0 || width > 32) width = 0;
                char buf[48];
                std::snprintf(buf, sizeof buf, "%0*llu", width, static_cast<unsigned long long>(v));
                out += buf;
                return true;
            }
            return false;
        };
        if (id.empty())
            out += '$';
        else if (id == "RepresentationID")
            out += r.id;
        else if (!fmt("Number", number) && !fmt("Bandwidth", r.bandwidth))
            out.append(t.substr(a, b - a + 1));
        pos = b + 1;
    }
    return out;
}

std::string resolve_url(std::string_view mpd_path, std::string_view rel) {
    if (!rel.empty() && rel.front() == '/') return std::string(rel);
    const size_t slash = mpd_path.rfind('/');
    std::string base =
        slash == std::string_view::npos ? "/" : std::string(mpd_path.substr(0, slash + 1));
    return base + std::string(rel);
}

const DashAdaptationSet *DashMpd::video() const {
    for (const auto &s : sets)
        if (s.content_type == "video") return &s;
    return sets.empty() ? nullptr : &sets.front();
}

uint32_t DashMpd::segment_count(const DashRepresentation &r) const {
    if (r.duration == 0 || r.timescale == 0 || duration_s <= 0) return 0;
    const double seg = static_cast<double>(r.duration) / static_cast<double>(r.timescale);
    // Durations print rounded ("PT8.0S" for 7.99 s of media): a sliver above a
    // whole number of segments is rounding, not one more segment.
    return static_cast<uint32_t>(std::ceil(duration_s / seg - 1e-3));
}

std::optional<DashMpd> parse_mpd(std::string_view x, std::string *err) {
    DashMpd mpd;
    size_t pos = 0;
    Tag t;
    Template period_t, set_t, rep_t;
    bool in_set = false, in_rep = false;
    DashAdaptationSet set;
    DashRepresentation rep;
    auto finish_rep = [&]() {
        rep_t.inherit(set_t);
        rep_t.inherit(period_t);
        rep.media = rep_t.media.value_or("");
        rep.initialization = rep_t.init.value_or("");
        rep.duration = rep_t.duration.value_or(0);
        rep.timescale = rep_t.timescale.value_or(1);
        rep.start_number = rep_t.start.value_or(1);
        set.reps.push_back(rep);
        in_rep = false;
    };
    // Templates at the AdaptationSet level can come after its Representations
    // in document order; collect reps first and fill templates when the set closes.
    std::vector<std::pair<DashRepresentation, Template>> pending;
    while (next_tag(x, pos, &t)) {
        if (t.name == "MPD" && !t.closing) {
            if (auto d = attr(t.attrs, "mediaPresentationDuration"))
                mpd.duration_s = parse_iso_duration(*d);
        } else if (t.name == "Period" && !t.closing) {
            period_t = Template{};
        } else if (t.name == "AdaptationSet") {
            if (!t.closing) {
                in_set = true;
                set = DashAdaptationSet{};
                set_t = Template{};
                pending.clear();
                std::string ct = attr(t.attrs, "contentType").value_or("");
                if (ct.empty()) {
                    const std::string mime = attr(t.attrs, "mimeType").value_or("");
                    ct = mime.substr(0, mime.find('/'));
                }
                set.content_type = ct;
            }
            if (t.closing || t.self_closing) {
                for (auto &[r, tp] : pending) {
                    rep = r;
                    rep_t = tp;
                    finish_rep();
                }
                pending.clear();
                std::sort(set.reps.begin(), set.reps.end(),
                          [](const auto &a, const auto &b) { return a.bandwidth < b.bandwidth; });
                if (!set.reps.empty()) mpd.sets.push_back(std::move(set));
                in_set = false;
            }
        } else if (t.name == "Representation" && in_set) {
            if (!t.closing) {
                rep = DashRepresentation{};
                rep_t = Template{};
                rep.id = attr(t.attrs, "id").value_or("");
                rep.bandwidth = to_u64(attr(t.attrs, "bandwidth"), 0);
                if (set.content_type.empty()) {
                    const std::string mime = attr(t.attrs, "mimeType").value_or("");
                    set.content_type = mime.substr(0, mime.find('/'));
                }
                in_rep = true;
            }
            if (t.closing || t.self_closing) {
                pending.emplace_back(rep, rep_t);
                in_rep = false;
            }
        } else if (t.name == "SegmentTemplate" && !t.closing) {
            if (in_rep)
                rep_t.apply(t.attrs);
            else if (in_set)
                set_t.apply(t.attrs);
            else
                period_t.apply(t.attrs);
        }
    }
    // Drop representations without a usable template.
    for (auto &s : mpd.sets)
        std::erase_if(
            s.reps, [](const DashRepresentation &r) { return r.media.empty() || r.duration == 0; });
    std::erase_if(mpd.sets, [](const DashAdaptationSet &s) { return s.reps.empty(); });
    if (mpd.sets.empty()) {
        if (err) *err = "no AdaptationSet with a number-based SegmentTemplate";
        return std::nullopt;
    }
    if (mpd.duration_s <= 0) {
        if (err) *err = "no mediaPresentationDuration";
        return std::nullopt;
    }
    return mpd;
}

}  // namespace ep::bench
