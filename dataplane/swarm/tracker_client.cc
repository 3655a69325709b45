// Tracker client requests and reply parsers: see tracker_client.h.
#include "dataplane/swarm/tracker_client.h"

#include <cstdio>
#include <cstring>

#include "dataplane/net/byte_order.h"
#include "dataplane/swarm/bencode.h"
#include "dataplane/swarm/magnet.h"

namespace ep::swarm {

const char *reply_error_name(ReplyError e) {
    switch (e) {
        case ReplyError::ok:
            return "ok";
        case ReplyError::need_more:
            return "need_more";
#define EP_X(n, h)      \
    case ReplyError::n: \
        return #n;
            EP_TRACKER_REPLY_ERRORS(EP_X)
#undef EP_X
    }
    return "?";
}

const char *url_error_name(UrlError e) {
    switch (e) {
        case UrlError::ok:
            return "ok";
#define EP_X(n, h)    \
    case UrlError::n: \
        return #n;
            EP_TRACKER_URL_ERRORS(EP_X)
#undef EP_X
    }
    return "?";
}

UrlError parse_tracker_url(std::string_view url, TrackerUrl *out) {
    *out = TrackerUrl{};
    std::string_view rest;
    if (url.substr(0, 7) == "http://") {
        rest = url.substr(7);
    } else if (url.substr(0, 6) == "udp://") {
        out->udp = true;
        rest = url.substr(6);
    } else {
        return UrlError::url_scheme;
    }
    const size_t slash = rest.find_first_of("/?");
    const std::string_view hostport = rest.substr(0, slash);
    out->path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (!out->path.empty() && out->path[0] == '?') out->path.insert(0, "/");
    const size_t colon = hostport.rfind(':');
    std::string hp(hostport);
    if (colon == std::string_view::npos) {
        if (out->udp) return UrlError::url_port;  // BEP 15 has no default port
        hp += ":80";
    }
    uint32_t ip = 0;
    uint16_t port = 0;
    if (!parse_ipv4_port(hp, &ip, &port)) {
        // Tell a bad port from a host name.
        const size_t c = hp.rfind(':');
        uint32_t dummy_ip;
        uint16_t dummy_port;
        if (parse_ipv4_port(std::string(hp.substr(0, c)) + ":1", &dummy_ip, &dummy_port))
            return UrlError::url_port;
        return UrlError::url_host;
    }
    out->ip_be = ip;
    out->port = port;
    return UrlError::ok;
}

namespace {

// RFC 3986 unreserved characters pass; every other byte as %XX (the info
// hash and peer id are binary: BEP 3 "urlencoded").
size_t put_escaped(char *out, size_t cap, const uint8_t *p, size_t n) {
    static const char kHex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
        const uint8_t c = p[i];
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            if (k + 1 > cap) return SIZE_MAX;
            out[k++] = static_cast<char>(c);
        } else {
            if (k + 3 > cap) return SIZE_MAX;
            out[k++] = '%';
            out[k++] = kHex[c >> 4];
            out[k++] = kHex[c & 15];
        }
    }
    return k;
}

const char *event_name(AnnounceEvent e) {
    switch (e) {
        case AnnounceEvent::kStarted:
            return "started";
        case AnnounceEvent::kCompleted:
            return "completed";
        case AnnounceEvent::kStopped:
            return "stopped";
        case AnnounceEvent::kNone:
            break;
    }
    return nullptr;
}

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

void set_failure(AnnounceReply *out, std::string_view why) {
    const size_t n = why.size() < sizeof out->failure - 1 ? why.size() : sizeof out->failure - 1;
    std::memcpy(out->failure, why.data(), n);
    out->failure[n] = 0;
}

void add_peer(AnnounceReply *out, uint32_t ip_be, uint16_t port) {
    if (out->npeers == AnnounceReply::kMaxPeers || port == 0) {
        ++out->peers_ignored;
        return;
    }
    out->peers[out->npeers++] = {ip_be, port};
}

}  // namespace

size_t build_http_announce(char *out, size_t cap, const TrackerUrl &u, const AnnounceParams &p) {
    size_t k = 0;
    auto raw = [&](std::string_view s) {
        if (k == SIZE_MAX || k + s.size() > cap) {
            k = SIZE_MAX;
            return;
        }
        std::memcpy(out + k, s.data(), s.size());
        k += s.size();
    };
    auto esc = [&](const uint8_t *b, size_t n) {
        if (k == SIZE_MAX) return;
        const size_t w = put_escaped(out + k, cap - k, b, n);
        k = w == SIZE_MAX ? SIZE_MAX : k + w;
    };
    char num[160];
    raw("GET ");
    raw(u.path);
    raw(u.path.find('?') == std::string::npos ? "?" : "&");
    raw("info_hash=");
    esc(p.info_hash, 20);
    raw("&peer_id=");
    esc(p.peer_id, 20);
    std::snprintf(num, sizeof num,
                  "&port=%u&uploaded=%llu&downloaded=%llu&left=%llu&compact=1&numwant=%u&key=%08x",
                  p.port, static_cast<unsigned long long>(p.uploaded),
                  static_cast<unsigned long long>(p.downloaded),
                  static_cast<unsigned long long>(p.left), p.numwant, p.key);
    raw(num);
    if (const char *ev = event_name(p.event)) {
        raw("&event=");
        raw(ev);
    }
    const uint8_t *ip = reinterpret_cast<const uint8_t *>(&u.ip_be);
    std::snprintf(num, sizeof num,
                  " HTTP/1.0\r\nHost: %u.%u.%u.%u:%u\r\nUser-Agent: edgeplane\r\n"
                  "Connection: close\r\n\r\n",
                  ip[0], ip[1], ip[2], ip[3], u.port);
    raw(num);
    return k == SIZE_MAX ? 0 : k;
}

ReplyError parse_announce_body(std::string_view body, AnnounceReply *out) {
    BNode nodes[512];
    uint32_t n = 0;
    if (bdecode(body, nodes, 512, &n) != BError::kOk || nodes[0].type != BType::kDict)
        return ReplyError::reply_bencode;
    if (const uint32_t f = bdict_find(nodes, 0, "failure reason")) {
        set_failure(out, nodes[f].type == BType::kStr ? nodes[f].s : "(not a string)");
        return ReplyError::reply_failure;
    }
    const uint32_t iv = bdict_find(nodes, 0, "interval");
    if (!iv || nodes[iv].type != BType::kInt || nodes[iv].i <= 0)
        return ReplyError::reply_no_interval;
    out->interval = nodes[iv].i > 86400 ? 86400 : static_cast<uint32_t>(nodes[iv].i);
    if (const uint32_t mi = bdict_find(nodes, 0, "min interval");
        mi && nodes[mi].type == BType::kInt && nodes[mi].i > 0)
        out->min_interval = nodes[mi].i > 86400 ? 86400 : static_cast<uint32_t>(nodes[mi].i);
    const uint32_t pe = bdict_find(nodes, 0, "peers");
    if (!pe) return ReplyError::ok;       // no peers yet: a valid answer
    if (nodes[pe].type == BType::kStr) {  // BEP 23: 4 bytes address, 2 bytes port, network order
        const std::string_view s = nodes[pe].s;
        if (s.size() % 6) return ReplyError::reply_peers;
        for (size_t i = 0; i < s.size(); i += 6) {
            const auto *b = reinterpret_cast<const uint8_t *>(s.data() + i);
            uint32_t ip = 0;
            std::memcpy(&ip, b, 4);
            add_peer(out, ip, net::get16(b + 4));
        }
        return ReplyError::ok;
    }
    if (nodes[pe].type != BType::kList) return ReplyError::reply_peers;
    // BEP 3's original form: a list of {peer id, ip, port}.
    for (uint32_t c = bfirst_child(pe); c < nodes[pe].next; c = nodes[c].next) {
        if (nodes[c].type != BType::kDict) return ReplyError::reply_peers;
        const uint32_t ip = bdict_find(nodes, c, "ip"), port = bdict_find(nodes, c, "port");
        uint32_t ip_be = 0;
        uint16_t dummy = 0;
        if (!ip || !port || nodes[ip].type != BType::kStr || nodes[port].type != BType::kInt ||
            nodes[port].i <= 0 || nodes[port].i > 65535 ||
            !parse_ipv4_port(std::string(nodes[ip].s) + ":1", &ip_be, &dummy)) {
            ++out->peers_ignored;  // IPv6 or a host name
            continue;
        }
        add_peer(out, ip_be, static_cast<uint16_t>(nodes[port].i));
    }
    return ReplyError::ok;
}

ReplyError parse_http_announce_reply(const uint8_t *p, size_t n, bool eof, AnnounceReply *out) {
    *out = AnnounceReply{};
    const std::string_view all(reinterpret_cast<const char *>(p), n);
    const size_t end = all.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (n > 8192) return ReplyError::reply_head;
        return eof ? ReplyError::reply_incomplete : ReplyError::need_more;
    }
    const std::string_view head = all.substr(0, end + 2);
    // Status line: HTTP/1.x SP 3DIGIT SP reason (RFC 9112 4).
    if (head.size() < 12 || head.substr(0, 7) != "HTTP/1." || head[8] != ' ')
        return ReplyError::reply_head;
    if (head.substr(9, 3) != "200") return ReplyError::reply_status;
    size_t line = head.find("\r\n") + 2;
    uint64_t content_length = UINT64_MAX;
    while (line < head.size()) {
        const size_t eol = head.find("\r\n", line);
        const std::string_view h = head.substr(line, eol - line);
        line = eol + 2;
        const size_t colon = h.find(':');
        if (colon == std::string_view::npos) return ReplyError::reply_head;
        const std::string_view name = h.substr(0, colon);
        std::string_view v = h.substr(colon + 1);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        if (ieq(name, "content-length")) {
            if (v.empty() || v.size() > 9) return ReplyError::reply_head;
            uint64_t cl = 0;
            for (char c : v) {
                if (c < '0' || c > '9') return ReplyError::reply_head;
                cl = cl * 10 + static_cast<uint64_t>(c - '0');
            }
            if (content_length != UINT64_MAX && content_length != cl) return ReplyError::reply_head;
            content_length = cl;
        } else if (ieq(name, "transfer-encoding")) {
            return ReplyError::reply_head;  // we asked HTTP/1.0: no chunked coding expected
        }
    }
    std::string_view body = all.substr(end + 4);
    if (content_length != UINT64_MAX) {
        if (body.size() < content_length)
            return eof ? ReplyError::reply_incomplete : ReplyError::need_more;
        body = body.substr(0, content_length);
    } else if (!eof) {
        return ReplyError::need_more;
    }
    return parse_announce_body(body, out);
}

// ---- UDP (BEP 15) ----

size_t build_udp_connect(uint8_t *out, uint32_t txid) {
    net::put64(out, 0x41727101980ull);  // protocol id
    net::put32(out + 8, 0);             // action connect
    net::put32(out + 12, txid);
    return kUdpConnectLen;
}

size_t build_udp_announce(uint8_t *out, uint64_t conn_id, uint32_t txid, const AnnounceParams &p) {
    net::put64(out, conn_id);
    net::put32(out + 8, 1);  // action announce
    net::put32(out + 12, txid);
    std::memcpy(out + 16, p.info_hash, 20);
    std::memcpy(out + 36, p.peer_id, 20);
    net::put64(out + 56, p.downloaded);
    net::put64(out + 64, p.left);
    net::put64(out + 72, p.uploaded);
    net::put32(out + 80, static_cast<uint32_t>(p.event));
    net::put32(out + 84, 0);  // IP: the source address
    net::put32(out + 88, p.key);
    net::put32(out + 92, p.numwant);
    out[96] = static_cast<uint8_t>(p.port >> 8);
    out[97] = static_cast<uint8_t>(p.port);
    return kUdpAnnounceLen;
}

namespace {
ReplyError udp_head(const uint8_t *p, size_t n, uint32_t want_action, uint32_t txid,
                    AnnounceReply *out) {
    if (n < 8) return ReplyError::reply_udp_short;
    if (net::get32(p + 4) != txid) return ReplyError::reply_udp_txid;
    const uint32_t action = net::get32(p);
    if (action == 3) {  // error: the rest is a message
        set_failure(out, std::string_view(reinterpret_cast<const char *>(p + 8), n - 8));
        return ReplyError::reply_failure;
    }
    if (action != want_action) return ReplyError::reply_udp_action;
    return ReplyError::ok;
}
}  // namespace

ReplyError parse_udp_connect_reply(const uint8_t *p, size_t n, uint32_t txid, uint64_t *conn_id,
                                   AnnounceReply *err_out) {
    *err_out = AnnounceReply{};
    if (ReplyError e = udp_head(p, n, 0, txid, err_out); e != ReplyError::ok) return e;
    if (n < 16) return ReplyError::reply_udp_short;
    *conn_id = uint64_t{net::get32(p + 8)} << 32 | net::get32(p + 12);
    return ReplyError::ok;
}

ReplyError parse_udp_announce_reply(const uint8_t *p, size_t n, uint32_t txid, AnnounceReply *out) {
    *out = AnnounceReply{};
    if (ReplyError e = udp_head(p, n, 1, txid, out); e != ReplyError::ok) return e;
    if (n < 20) return ReplyError::reply_udp_short;
    const uint32_t iv = net::get32(p + 8);
    if (iv == 0) return ReplyError::reply_no_interval;
    out->interval = iv > 86400 ? 86400 : iv;
    // leechers (p + 12) and seeders (p + 16) are not used; IPv4 entries follow
    // (BEP 15: their count is implied by the datagram's length).
    for (size_t i = 20; i + 6 <= n; i += 6) {
        uint32_t ip = 0;
        std::memcpy(&ip, p + i, 4);
        add_peer(out, ip, net::get16(p + i + 4));
    }
    if ((n - 20) % 6) return ReplyError::reply_peers;
    return ReplyError::ok;
}

}  // namespace ep::swarm
