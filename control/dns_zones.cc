#include "control/dns_zones.h"

// libzscanner's headers declare C functions without extern "C".
extern "C" {
#include <libzscanner/scanner.h>
}

#include <arpa/inet.h>

#include <cstring>
#include <sstream>

namespace ep {

namespace {

struct FileLoad {
    dns::ZoneBuilder *builder;
    std::string file;
    std::string err;  // first problem, with its line
    bool zone_started = false;
};

std::string at(const FileLoad &f, const zs_scanner_t *s, const std::string &what) {
    return f.file + ":" + std::to_string(s->line_counter) + ": " + what;
}

bool record(FileLoad &f, zs_scanner_t *s) {
    if (s->r_class != dns::kClassIN) {
        f.err = at(f, s, "class " + std::to_string(s->r_class) + " is not served (IN only)");
        return false;
    }
    std::string e;
    if (!f.zone_started) {
        // The zone's apex is the owner of its first record, which must be
        // the SOA (RFC 1035 5.2: "exactly one SOA RR ... at the top").
        if (s->r_type != dns::kSOA) {
            f.err = at(f, s, "the first record must be the zone's SOA");
            return false;
        }
        if (!f.builder->begin_zone(s->r_owner, &e)) {
            f.err = at(f, s, e);
            return false;
        }
        f.zone_started = true;
    }
    if (!f.builder->add(s->r_owner, s->r_type, s->r_ttl, s->r_data, s->r_data_length, &e)) {
        f.err = at(f, s, e);
        return false;
    }
    return true;
}

// `text` nullptr: read the file; else parse text, named `file` in messages.
bool load_one(dns::ZoneBuilder *b, const std::string &file, const std::string *text,
              std::string *err) {
    // The scanner holds 64 KiB buffers: on the heap, not the stack.
    auto s = std::make_unique<zs_scanner_t>();
    if (zs_init(s.get(), ".", dns::kClassIN, 3600) != 0) {
        *err = file + ": cannot start the zone parser";
        return false;
    }
    FileLoad f{b, file, "", false};
    bool ok = true;
    const int in = text ? zs_set_input_string(s.get(), text->data(), text->size())
                        : zs_set_input_file(s.get(), file.c_str());
    if (in != 0) {
        *err = file + ": " + zs_strerror(s->error.code);
        ok = false;
    }
    while (ok) {
        if (zs_parse_record(s.get()) != 0) {
            *err = at(f, s.get(), zs_strerror(s->error.code));
            ok = false;
            break;
        }
        if (s->state == ZS_STATE_DATA) {
            if (!record(f, s.get())) {
                *err = f.err;
                ok = false;
            }
        } else if (s->state == ZS_STATE_ERROR) {
            *err = at(f, s.get(), zs_strerror(s->error.code));
            ok = false;
        } else if (s->state == ZS_STATE_INCLUDE) {
            *err = at(f, s.get(), "$INCLUDE is not supported");
            ok = false;
        } else if (s->state == ZS_STATE_EOF || s->state == ZS_STATE_STOP) {
            break;
        }
    }
    if (ok && !f.zone_started) {
        *err = file + ": no records";
        ok = false;
    }
    zs_deinit(s.get());
    return ok;
}

}  // namespace

std::unique_ptr<dns::ZoneTable> load_zones(const std::vector<std::string> &files,
                                           std::string *err) {
    dns::ZoneBuilder b;
    for (const std::string &file : files)
        if (!load_one(&b, file, nullptr, err)) return nullptr;
    return b.compile(err);
}

std::unique_ptr<dns::ZoneTable> load_zone_texts(
    const std::vector<std::pair<std::string, std::string>> &zones, std::string *err) {
    dns::ZoneBuilder b;
    for (const auto &[name, text] : zones)
        if (!load_one(&b, name, &text, err)) return nullptr;
    return b.compile(err);
}

bool parse_steering(const std::vector<std::string> &lines, const dns::ZoneTable &zones,
                    dns::SteerMap *out, std::string *err) {
    for (const std::string &line : lines) {
        auto fail = [&](const std::string &why) {
            *err = "--dns-steer '" + line + "': " + why;
            return false;
        };
        std::istringstream in(line);
        std::string name, prefix, addrs, ttl_s, extra;
        in >> name >> prefix >> addrs >> ttl_s >> extra;
        if (addrs.empty() || !extra.empty())
            return fail("expected NAME PREFIX ADDR[,ADDR...] [TTL]");
        dns::SteerMap::Route route;
        uint8_t wire[dns::kMaxName];
        uint32_t wlen = 0;
        if (!name.empty() && name.back() == '.') name.pop_back();
        if (!dns::name_from_text(name.c_str(), wire, &wlen)) return fail("bad name");
        const int z = zones.find_zone(wire);
        if (z < 0 || !zones.find(static_cast<uint32_t>(z), wire, wlen))
            return fail("not a name of a loaded zone");
        uint8_t lower[dns::kMaxName];
        dns::name_lower(wire, lower);
        route.owner.assign(reinterpret_cast<const char *>(lower), wlen);
        const auto slash = prefix.find('/');
        if (slash == std::string::npos) return fail("PREFIX needs a /LEN");
        const std::string net = prefix.substr(0, slash);
        const int len = std::atoi(prefix.c_str() + slash + 1);
        if (inet_pton(AF_INET, net.c_str(), route.net) == 1) {
            route.family = 1;
            if (len < 0 || len > 32) return fail("prefix length over 32");
        } else if (inet_pton(AF_INET6, net.c_str(), route.net) == 1) {
            route.family = 2;
            if (len < 0 || len > 128) return fail("prefix length over 128");
        } else {
            return fail("bad prefix address");
        }
        route.prefix = static_cast<uint8_t>(len);
        std::vector<uint8_t> bytes;
        std::istringstream as(addrs);
        std::string a;
        int fam = 0;
        while (std::getline(as, a, ',')) {
            uint8_t b[16];
            const int f = inet_pton(AF_INET, a.c_str(), b) == 1    ? 4
                          : inet_pton(AF_INET6, a.c_str(), b) == 1 ? 16
                                                                   : 0;
            if (f == 0) return fail("bad address '" + a + "'");
            if (fam && f != fam) return fail("mixes IPv4 and IPv6 addresses");
            fam = f;
            bytes.insert(bytes.end(), b, b + f);
        }
        if (!fam) return fail("no address");
        uint32_t ttl = 60;
        if (!ttl_s.empty()) {
            char *end = nullptr;
            const unsigned long t = std::strtoul(ttl_s.c_str(), &end, 10);
            if (*end || t > 0x7fffffff) return fail("bad TTL");
            ttl = static_cast<uint32_t>(t);
        }
        // The same owner and prefix seen before: its set takes these addresses.
        dns::SteerMap::Route *same = nullptr;
        for (dns::SteerMap::Route &r : out->routes)
            if (r.owner == route.owner && r.family == route.family && r.prefix == route.prefix &&
                std::memcmp(r.net, route.net, 16) == 0)
                same = &r;
        if (!same) {
            route.set = static_cast<uint32_t>(out->sets.size());
            out->sets.emplace_back().ttl = ttl;
            out->routes.push_back(route);
            same = &out->routes.back();
        }
        dns::SteerMap::AnswerSet &set = out->sets[same->set];
        std::vector<uint8_t> &dst = fam == 4 ? set.v4 : set.v6;
        if (!dst.empty())
            return fail("a second line with " + std::string(fam == 4 ? "IPv4" : "IPv6") +
                        " addresses for this name and prefix");
        dst = bytes;
        if (ttl < set.ttl) set.ttl = ttl;
    }
    return true;
}

}  // namespace ep
