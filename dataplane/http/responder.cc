#include "dataplane/http/responder.h"

#include "dataplane/http/chars.h"
#include "dataplane/http/content_type.h"
#include "dataplane/http/etag.h"
#include "dataplane/http/range.h"
#include "dataplane/http/response_builder.h"

namespace ep::http {
namespace {

constexpr std::string_view kAllow = "GET, HEAD, OPTIONS";
constexpr std::string_view kDefaultAllowHeaders =
    "Range, If-Range, If-None-Match, If-Modified-Since, If-Match";
constexpr std::size_t kMaxEchoedHeaders = 256;
// Bounds the head size (16 multipart part headers each repeat the type).
constexpr std::size_t kMaxContentTypeLen = 64;

struct Reply {
    HttpContext &ctx;
    ResponseBuilder b;
    int64_t unix_s;
    bool close;
    bool http10;
};

void status_line(Reply &r, Status s) {
    r.b.set_status(s);
    r.b.set_close_after(r.close);
    r.b.begin_head();
    // RFC 9110 §6.2: we answer with our own version, whatever the client's.
    r.b.append("HTTP/1.1 ");
    r.b.append_u64(code(s));
    r.b.append(" ");
    r.b.append(reason_phrase(s));
    r.b.append("\r\n");
    // RFC 9110 §6.6.1: an origin with a clock MUST send Date.
    r.b.field("Date", r.ctx.date.get(r.unix_s));
    r.b.field("Server", "edgeplane");
}

// CORS (Fetch standard): the player page may live on another origin, and
// dash.js must read Content-Range/ETag of range answers.
void cors(Reply &r) {
    r.b.field("Access-Control-Allow-Origin", "*");
    r.b.field("Access-Control-Expose-Headers",
              "Content-Range, Content-Length, ETag, Accept-Ranges");
}

void end_head(Reply &r) {
    // RFC 9112 §9.6: "close" tells the client we end the connection after
    // this response; a 1.0 client keeps it only when told keep-alive.
    if (r.close)
        r.b.field("Connection", "close");
    else if (r.http10)
        r.b.field("Connection", "keep-alive");
    r.b.append("\r\n");
    r.b.end_head();
}

// Small generated answer with a text body inside the head buffer.
void simple(Reply &r, Status s, bool with_body, std::string_view extra_name = {},
            std::string_view extra_value = {}) {
    status_line(r, s);
    if (!extra_name.empty()) r.b.field(extra_name, extra_value);
    cors(r);
    r.b.field("Content-Type", "text/plain; charset=utf-8");
    const std::string_view reason = reason_phrase(s);
    r.b.append("Content-Length: ");
    r.b.append_u64(4 + reason.size() + 1);  // "NNN " + reason + "\n"
    r.b.append("\r\n");
    r.b.field("Cache-Control", "no-store");
    if (r.close)
        r.b.field("Connection", "close");
    else if (r.http10)
        r.b.field("Connection", "keep-alive");
    r.b.append("\r\n");
    // RFC 9110 §9.3.2: HEAD answers carry the same fields and no content.
    if (with_body) {
        r.b.append_u64(code(s));
        r.b.append(" ");
        r.b.append(reason);
        r.b.append("\n");
    }
    r.b.end_head();
}

// Access-Control-Request-Headers is echoed only when it is a plain, short
// token list; anything else gets our default list.
std::string_view allowed_headers(const RequestParser &req) {
    if (req.field_count(Field::kAcRequestHeaders) != 1) return kDefaultAllowHeaders;
    const std::string_view v = req.field(Field::kAcRequestHeaders);
    if (v.empty() || v.size() > kMaxEchoedHeaders) return kDefaultAllowHeaders;
    for (char ch : v) {
        const auto c = static_cast<uint8_t>(ch);
        if (!is_tchar(c) && c != ',' && !is_ows(c)) return kDefaultAllowHeaders;
    }
    return v;
}

void preflight(Reply &r, const RequestParser &req) {
    // 204 (RFC 9110 §15.3.5) carries no Content-Length (§8.6).
    status_line(r, Status::kNoContent);
    r.b.field("Allow", kAllow);
    r.b.field("Access-Control-Allow-Origin", "*");
    r.b.field("Access-Control-Allow-Methods", kAllow);
    r.b.field("Access-Control-Allow-Headers", allowed_headers(req));
    r.b.field("Access-Control-Expose-Headers",
              "Content-Range, Content-Length, ETag, Accept-Ranges");
    r.b.append("Access-Control-Max-Age: ");
    r.b.append_u64(r.ctx.config.cors_max_age);
    r.b.append("\r\n");
    end_head(r);
}

bool any_etag_matches(const RequestParser &req, Field f, std::string_view etag, EtagCompare how) {
    for (unsigned i = 0; i < req.field_count(f); ++i)
        if (match_etag_list(req.field_line(f, i), etag, how) == ListMatch::kMatch) return true;
    return false;
}

// RFC 9110 §13.1.1/§13.1.4: a date field is used only if it is one valid date.
std::optional<int64_t> single_date(const RequestParser &req, Field f) {
    if (req.field_count(f) != 1) return std::nullopt;
    return parse_http_date(req.field(f));
}

// RFC 9110 §13.1.5: If-Range holds a strong ETag or the exact Last-Modified date.
bool if_range_holds(const RequestParser &req, std::string_view etag, int64_t mtime) {
    if (req.field_count(Field::kIfRange) == 0) return true;
    if (req.field_count(Field::kIfRange) != 1) return false;
    const std::string_view v = req.field(Field::kIfRange);
    if (!v.empty() && (v[0] == '"' || v.substr(0, 2) == "W/"))
        return v == etag;  // strong comparison: a weak tag never matches
    const auto d = parse_http_date(v);
    return d && *d == mtime;
}

const std::string_view &cache_control(const HttpConfig &cfg, ContentClass c) {
    switch (c) {
        case ContentClass::kManifest:
            return cfg.cache_control_manifest;
        case ContentClass::kMedia:
            return cfg.cache_control_media;
        case ContentClass::kOther:
            break;
    }
    return cfg.cache_control_other;
}

void content_range(Reply &r, const ByteRange &br, uint64_t size) {
    r.b.append("bytes ");
    r.b.append_u64(br.first);
    r.b.append("-");
    r.b.append_u64(br.last());
    r.b.append("/");
    r.b.append_u64(size);
}

// A catalog-supplied type goes into the head verbatim: it must be short and
// free of CR/LF and controls (no header injection from stored metadata).
bool valid_content_type(std::string_view t) {
    if (t.empty() || t.size() > kMaxContentTypeLen) return false;
    for (char c : t)
        if (!is_field_value_char(static_cast<uint8_t>(c))) return false;
    return true;
}

void serve_object(Reply &r, const RequestParser &req, std::string_view key, const ObjectInfo &o) {
    const HttpConfig &cfg = r.ctx.config;
    const bool head = req.method() == Method::kHead;
    char etag_buf[kEtagLen];
    format_etag(o.etag64, etag_buf);
    const std::string_view etag(etag_buf, kEtagLen);
    char lm_buf[kImfFixdateLen];
    format_imf_fixdate(o.mtime, lm_buf);
    const std::string_view last_modified(lm_buf, kImfFixdateLen);
    ContentType ct = content_type_for(key);
    if (valid_content_type(o.content_type)) ct.mime = o.content_type;

    // RFC 9110 §13.2.2 evaluation order.
    // 1. If-Match: no strong match → 412.
    if (req.field_count(Field::kIfMatch) > 0) {
        if (!any_etag_matches(req, Field::kIfMatch, etag, EtagCompare::kStrong))
            return simple(r, Status::kPreconditionFailed, !head);
    } else if (auto ius = single_date(req, Field::kIfUnmodifiedSince); ius && o.mtime > *ius) {
        // 2. If-Unmodified-Since, only without If-Match.
        return simple(r, Status::kPreconditionFailed, !head);
    }
    // 3. If-None-Match (weak comparison) takes precedence over 4. If-Modified-Since.
    bool not_modified = false;
    if (req.field_count(Field::kIfNoneMatch) > 0) {
        not_modified = any_etag_matches(req, Field::kIfNoneMatch, etag, EtagCompare::kWeak);
    } else if (auto ims = single_date(req, Field::kIfModifiedSince)) {
        not_modified = o.mtime <= *ims;
    }
    if (not_modified) {
        // RFC 9110 §15.4.5: 304 repeats the validators and Cache-Control of a
        // 200, and has no content.
        status_line(r, Status::kNotModified);
        r.b.field("ETag", etag);
        r.b.field("Last-Modified", last_modified);
        r.b.field("Cache-Control", cache_control(cfg, ct.cls));
        cors(r);
        return end_head(r);
    }

    // 5. Range: defined for GET only (RFC 9110 §14.2); HEAD gets 200 fields.
    RangeSet rs;
    if (!head && req.field_count(Field::kRange) > 0) {
        if (req.field_count(Field::kRange) == 1 && if_range_holds(req, etag, o.mtime))
            rs = evaluate_range(req.field(Field::kRange), o.size, cfg.max_ranges);
        if (rs.outcome == RangeSet::Outcome::kIgnore) ++r.ctx.counters.ranges_ignored;
        if (rs.outcome == RangeSet::Outcome::kSatisfiable && rs.count > 1 &&
            !cfg.multipart_ranges) {
            rs.outcome = RangeSet::Outcome::kIgnore;  // documented 200 fallback
            ++r.ctx.counters.ranges_ignored;
        }
    }

    if (rs.outcome == RangeSet::Outcome::kUnsatisfiable) {
        // RFC 9110 §15.5.17: 416 names the current length.
        status_line(r, Status::kRangeNotSatisfiable);
        r.b.append("Content-Range: bytes */");
        r.b.append_u64(o.size);
        r.b.append("\r\n");
        r.b.field("Content-Length", "0");
        r.b.field("ETag", etag);
        r.b.field("Accept-Ranges", "bytes");
        cors(r);
        return end_head(r);
    }

    // Multipart pieces go first in the buffer: their total size is needed
    // for Content-Length before the head is written.
    uint64_t length = o.size;
    uint64_t boundary = 0;
    const bool multipart = rs.outcome == RangeSet::Outcome::kSatisfiable && rs.count > 1;
    if (multipart) {
        // RFC 9110 §14.6: multipart/byteranges; each part has its own
        // Content-Type and Content-Range. The boundary mixes the ETag with a
        // per-core sequence; 64 random-looking bits never occur by chance
        // in the object at exactly a part edge that matters.
        boundary = o.etag64 ^ (++r.ctx.boundary_seq * 0x9e3779b97f4a7c15ull);
        length = 0;
        for (unsigned i = 0; i < rs.count; ++i) {
            const uint16_t m = r.b.mark();
            r.b.append("\r\n--");
            r.b.append_hex16(boundary);
            r.b.append("\r\nContent-Type: ");
            r.b.append(ct.mime);
            r.b.append("\r\nContent-Range: ");
            content_range(r, rs.ranges[i], o.size);
            r.b.append("\r\n\r\n");
            r.b.inline_piece_since(m);
            length += r.b.mark() - m;
            r.b.object_piece(o.handle, rs.ranges[i].first, rs.ranges[i].length);
            length += rs.ranges[i].length;
        }
        const uint16_t m = r.b.mark();
        r.b.append("\r\n--");
        r.b.append_hex16(boundary);
        r.b.append("--\r\n");
        r.b.inline_piece_since(m);
        length += r.b.mark() - m;
        ++r.ctx.counters.multipart;
    } else if (rs.outcome == RangeSet::Outcome::kSatisfiable) {
        length = rs.ranges[0].length;
        r.b.object_piece(o.handle, rs.ranges[0].first, length);
    } else if (!head && o.size > 0) {
        r.b.object_piece(o.handle, 0, o.size);
    }

    status_line(
        r, rs.outcome == RangeSet::Outcome::kSatisfiable ? Status::kPartialContent : Status::kOk);
    if (multipart) {
        r.b.append("Content-Type: multipart/byteranges; boundary=");
        r.b.append_hex16(boundary);
        r.b.append("\r\n");
    } else {
        r.b.field("Content-Type", ct.mime);
    }
    r.b.append("Content-Length: ");
    r.b.append_u64(length);
    r.b.append("\r\n");
    if (rs.outcome == RangeSet::Outcome::kSatisfiable && !multipart) {
        r.b.append("Content-Range: ");
        content_range(r, rs.ranges[0], o.size);
        r.b.append("\r\n");
    }
    r.b.field("ETag", etag);
    r.b.field("Last-Modified", last_modified);
    r.b.field("Accept-Ranges", "bytes");  // RFC 9110 §14.3
    r.b.field("Cache-Control", cache_control(cfg, ct.cls));
    cors(r);
    end_head(r);
}

// Bytes of the response buffer kept for the head of a generated answer
// (status line, Date, Server, type, length, Cache-Control, Connection: about
// 250 bytes); the body gets the rest.
constexpr std::size_t kGeneratedHeadReserve = 512;

// A generated route (http/generator.h): GET only, since it has effects (an
// announce joins a swarm) and HEAD must not. The body is written first, in
// place, so Content-Length is known when the head is.
void serve_generated(Reply &r, const RequestParser &req) {
    if (req.method() != Method::kGet)
        return simple(r, Status::kMethodNotAllowed, req.method() != Method::kHead, "Allow", "GET");
    const uint16_t m = r.b.mark();
    std::size_t room = 0;
    char *at = r.b.space(&room);
    room = room > kGeneratedHeadReserve ? room - kGeneratedHeadReserve : 0;
    std::string_view type = "text/plain";
    const std::string_view target = req.raw_target();
    const std::size_t q = target.find('?');
    const std::string_view query =
        q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    const std::size_t n = r.ctx.generator->generate(req.path(), query, at, room, &type);
    r.b.grow(n);
    if (n) r.b.inline_piece_since(m);
    status_line(r, Status::kOk);
    r.b.field("Content-Type", type);
    r.b.append("Content-Length: ");
    r.b.append_u64(n);
    r.b.append("\r\n");
    r.b.field("Cache-Control", "no-store");  // every answer is for this request
    end_head(r);
}

}  // namespace

Status status_for(ParseError e) {
    switch (e) {
        case ParseError::kUriTooLong:
            return Status::kUriTooLong;
        case ParseError::kHeadTooLarge:
        case ParseError::kTooManyHeaders:
            return Status::kHeaderFieldsTooLarge;
        case ParseError::kBodyTooLarge:
            return Status::kContentTooLarge;
        case ParseError::kVersionNotSupported:
            return Status::kVersionNotSupported;
        default:
            return Status::kBadRequest;
    }
}

void respond_error(HttpContext &ctx, Status status, Method method, int64_t unix_s, Response &out) {
    Reply r{ctx, ResponseBuilder(out), unix_s, true, false};
    simple(r, status, method != Method::kHead);
}

namespace {

// Where the request's one byte range starts ("bytes=N-..." or "bytes=N-M"),
// for a catalog that fetches a cold object chunk by chunk: 0 without a
// single such range (a suffix range, several ranges, no Range at all).
uint64_t first_byte_hint(const RequestParser &req) {
    if (req.field_count(Field::kRange) != 1) return 0;
    std::string_view v = req.field(Field::kRange);
    if (v.substr(0, 6) != "bytes=") return 0;
    v.remove_prefix(6);
    uint64_t n = 0;
    std::size_t i = 0;
    for (; i < v.size() && i < 19 && v[i] >= '0' && v[i] <= '9'; ++i)
        n = n * 10 + static_cast<uint64_t>(v[i] - '0');
    if (i == 0 || i >= v.size() || v[i] != '-' || v.find(',') != std::string_view::npos) return 0;
    return n;
}

// RFC 9110 §15.4.3: 302 with Location; no content. Not cacheable (the
// choice is per client and changes with the model).
void found(Reply &r, std::string_view location) {
    status_line(r, Status::kFound);
    r.b.field("Location", location);
    r.b.field("Content-Length", "0");
    r.b.field("Cache-Control", "no-store");
    cors(r);
    end_head(r);
}

// The manifest's redirect (dataplane/http/steer.h); true when answered.
bool steer_redirect(Reply &r, const RequestParser &req) {
    HttpContext &ctx = r.ctx;
    SteerView v;
    if (!ctx.steer || !ctx.steer->steer_view(&v)) return false;
    Counters &c = ctx.counters;
    const RedirectDecision d = decide_redirect(ctx.config, v, req.raw_target());
    switch (d.verdict) {
        case RedirectVerdict::kRedirect:
            break;
        case RedirectVerdict::kLoopMarker:
            ++c.redirect_skip_loop;
            return false;
        case RedirectVerdict::kUnknownClient:
            ++c.redirect_skip_unknown_client;
            return false;
        case RedirectVerdict::kLocalBest:
            ++c.redirect_skip_local_best;
            return false;
        case RedirectVerdict::kWithinMargin:
            ++c.redirect_skip_margin;
            return false;
        case RedirectVerdict::kNoHost:
            ++c.redirect_skip_no_host;
            return false;
    }
    char loc[kTargetCapacity + 128];
    const std::size_t n =
        redirect_location(ctx.config, v.clusters[d.target].host, req.raw_target(), loc, sizeof loc);
    if (n == 0) {
        ++c.redirect_skip_no_host;
        return false;
    }
    ++c.redirects;
    found(r, {loc, n});
    return true;
}

// GET /<steer_path>: the client's DASH steering manifest (CTS-001 §6.1).
void steer_manifest(Reply &r, const RequestParser &req) {
    HttpContext &ctx = r.ctx;
    SteerView v;
    if (!ctx.steer || !ctx.steer->steer_view(&v))
        return simple(r, Status::kNotFound, req.method() != Method::kHead);
    Counters &c = ctx.counters;
    ++c.steer_manifests;
    if (!v.client_known) ++c.steer_unknown_client;
    char qbuf[256];
    std::string_view pathway;
    uint64_t bps = 0;
    steer_query(req.raw_target(), qbuf, sizeof qbuf, &pathway, &bps);
    uint16_t order[64];
    PathwayNote note;
    const std::size_t n = pathway_order(ctx.config, v, pathway, bps, order, 64, &note);
    if (note == PathwayNote::kKept) ++c.steer_pathway_kept;
    if (note == PathwayNote::kDemoted) ++c.steer_pathway_demoted;
    char body[1536];
    const std::size_t len = steering_manifest(ctx.config, v, {order, n}, body, sizeof body);
    if (len == 0) return simple(r, Status::kServiceUnavailable, req.method() != Method::kHead);
    status_line(r, Status::kOk);
    r.b.field("Content-Type", "application/json");
    r.b.append("Content-Length: ");
    r.b.append_u64(len);
    r.b.append("\r\n");
    r.b.field("Cache-Control", "no-store");  // per client, and TTL says when to ask again
    cors(r);
    end_head(r);
    if (req.method() != Method::kHead) {
        // Generated bytes after the head, as simple() does: the head piece
        // carries them.
        r.b.append({body, len});
        r.b.end_head();
    }
}

}  // namespace

namespace {

bool finish(Reply &r, Method m) {
    if (r.b.overflow()) {
        // Cannot happen with the documented bounds; keep the stream sane anyway.
        r.b.clear();
        r.close = true;
        simple(r, Status::kServiceUnavailable, m != Method::kHead);
    }
    return true;
}

}  // namespace

bool respond(HttpContext &ctx, RequestParser &req, bool keep_alive, int64_t unix_s, Response &out) {
    Reply r{ctx, ResponseBuilder(out), unix_s, !keep_alive, req.version() == Version::kHttp10};
    const Method m = req.method();
    if (m == Method::kPurge && req.target_form() != TargetForm::kAsterisk) {
        const uint16_t st = ctx.catalog.purge(req.path().substr(1));
        if (st == code(Status::kMethodNotAllowed))
            simple(r, Status::kMethodNotAllowed, true, "Allow", kAllow);
        else
            simple(r, static_cast<Status>(st), true);
    } else if (m == Method::kOther || m == Method::kPurge) {
        // RFC 9110 §15.5.6: 405 MUST carry Allow.
        simple(r, Status::kMethodNotAllowed, true, "Allow", kAllow);
    } else if (req.target_form() == TargetForm::kAsterisk) {
        // RFC 9112 §3.2.4: "*" is only for server-wide OPTIONS.
        if (m == Method::kOptions)
            preflight(r, req);
        else
            simple(r, Status::kBadRequest, m != Method::kHead);
    } else if (m == Method::kOptions) {
        preflight(r, req);
    } else if (ctx.generator && ctx.generator->owns(req.path())) {
        serve_generated(r, req);
    } else {
        // Object key: the decoded path without its '/', plus the directory
        // index for "/" and ".../".
        std::size_t n = req.path().size();
        char *p = req.path_buffer();
        const std::string_view index = ctx.config.index_object;
        if (p[n - 1] == '/' && index.size() <= kIndexNameCapacity &&
            n + index.size() <= req.path_capacity()) {
            for (char c : index) p[n++] = c;
            req.set_path_len(n);
        }
        const std::string_view key = req.path().substr(1);
        if (ctx.config.dash_steering && key == ctx.config.steer_path) {
            steer_manifest(r, req);
            return finish(r, m);
        }
        if (ctx.config.redirect && content_type_for(key).cls == ContentClass::kManifest &&
            steer_redirect(r, req))
            return finish(r, m);
        const std::optional<ObjectInfo> o = ctx.catalog.lookup_from(key, first_byte_hint(req));
        if (o && o->pending) {
            r.b.clear();
            return false;
        }
        if (!o) {
            simple(r, Status::kNotFound, m != Method::kHead);
        } else if (o->error_status == code(Status::kBadGateway) ||
                   o->error_status == code(Status::kGatewayTimeout)) {
            simple(r, static_cast<Status>(o->error_status), m != Method::kHead);
        } else if (!o->available) {
            // RFC 9110 §10.2.3: Retry-After tells the player when to retry.
            char tmp[12];
            int len = 0;
            uint32_t v = ctx.config.retry_after_s;
            do {
                tmp[11 - len++] = static_cast<char>('0' + v % 10);
                v /= 10;
            } while (v != 0 && len < 11);
            simple(r, Status::kServiceUnavailable, m != Method::kHead, "Retry-After",
                   {tmp + 12 - len, static_cast<std::size_t>(len)});
        } else {
            serve_object(r, req, key, *o);
        }
    }
    return finish(r, m);
}

}  // namespace ep::http
