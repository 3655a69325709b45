#include "tests/tcp/harness.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace ep::tcp::test {

namespace {

std::vector<std::string> split_ws(const std::string &s) {
    std::vector<std::string> out;
    std::istringstream is(s);
    std::string w;
    while (is >> w) out.push_back(w);
    return out;
}

uint8_t parse_flags(const std::string &f) {
    uint8_t r = 0;
    for (char c : f) {
        switch (c) {
            case 'S':
                r |= kSyn;
                break;
            case 'F':
                r |= kFin;
                break;
            case 'R':
                r |= kRst;
                break;
            case 'P':
                r |= kPsh;
                break;
            case '.':
                r |= kAck;
                break;
            case 'E':
                r |= kEce;
                break;
            case 'W':
                r |= kCwr;
                break;
            default:
                ADD_FAILURE() << "bad flag char " << c;
        }
    }
    return r;
}

void parse_options(const std::string &body, ParsedSeg &p) {
    p.has_opts = true;
    std::string norm = body;
    for (char &c : norm)
        if (c == ',') c = ' ';
    auto w = split_ws(norm);
    for (size_t i = 0; i < w.size(); ++i) {
        if (w[i] == "mss") {
            p.opts.has_mss = true;
            p.opts.mss = static_cast<uint16_t>(std::stoul(w[++i]));
        } else if (w[i] == "wscale") {
            p.opts.has_wscale = true;
            p.opts.wscale = static_cast<uint8_t>(std::stoul(w[++i]));
        } else if (w[i] == "sackOK") {
            p.opts.sack_permitted = true;
        } else if (w[i] == "nop" || w[i] == "eol") {
        } else if (w[i] == "TS") {
            p.opts.has_ts = true;
            ++i;  // "val"
            std::string v = w[++i];
            if (v == "*")
                p.ts_val_any = true;
            else
                p.opts.ts_val = static_cast<uint32_t>(std::stoul(v));
            ++i;  // "ecr"
            std::string e = w[++i];
            if (e == "*")
                p.ts_ecr_any = true;
            else
                p.opts.ts_ecr = static_cast<uint32_t>(std::stoul(e));
        } else if (w[i] == "sack") {
            while (i + 1 < w.size() && w[i + 1].find(':') != std::string::npos) {
                std::string b = w[++i];
                size_t c = b.find(':');
                SackBlock sb{static_cast<Seq>(std::stoul(b.substr(0, c))),
                             static_cast<Seq>(std::stoul(b.substr(c + 1)))};
                p.opts.sack[p.opts.num_sack++] = sb;
            }
        } else {
            ADD_FAILURE() << "unknown option " << w[i];
        }
    }
}

}  // namespace

ParsedSeg parse_seg(const std::string &text) {
    ParsedSeg p;
    std::string head = text, opts;
    size_t lt = text.find('<');
    if (lt != std::string::npos) {
        size_t gt = text.find('>', lt);
        opts = text.substr(lt + 1, gt - lt - 1);
        head = text.substr(0, lt);
        parse_options(opts, p);
    }
    auto w = split_ws(head);
    if (w.size() < 2) {
        ADD_FAILURE() << "bad segment text: " << text;
        return p;
    }
    p.flags = parse_flags(w[0]);
    // START:END(LEN)
    const std::string &r = w[1];
    size_t c = r.find(':'), lp = r.find('(');
    p.start = static_cast<uint32_t>(std::stoul(r.substr(0, c)));
    p.end = static_cast<uint32_t>(std::stoul(r.substr(c + 1, lp - c - 1)));
    p.len = static_cast<uint32_t>(std::stoul(r.substr(lp + 1)));
    for (size_t i = 2; i + 1 < w.size(); i += 2) {
        if (w[i] == "ack")
            p.ack = static_cast<uint32_t>(std::stoul(w[i + 1]));
        else if (w[i] == "win")
            p.win = static_cast<uint32_t>(std::stoul(w[i + 1]));
        else
            ADD_FAILURE() << "unknown field " << w[i];
    }
    return p;
}

StackConfig Harness::default_config() {
    StackConfig c;
    c.max_connections = 64;
    c.time_wait_capacity = 8;
    c.rcv_buf_bytes = 64 * 1024;
    c.inline_blocks = 256;
    c.random_ts_offset = false;
    c.syn_backlog = 16;
    c.tlp = false;  // scripts about the RTO stay readable; Data.TailLossProbe enables it
    return c;
}

Harness::Harness(const StackConfig &cfg, bool listen) {
    now_ = start_ns;
    bool ok = stack.init(cfg, &cap, now_);
    EXPECT_TRUE(ok);
    if (listen) stack.listen(local_port, &app);
}

Harness &Harness::at(double t_ms) {
    uint64_t t = start_ns + static_cast<uint64_t>(t_ms * 1e6);
    if (t > now_) now_ = t;
    stack.poll(now_);
    return *this;
}

Harness &Harness::in(double t_ms, SegmentIn s) {
    at(t_ms);
    s.src = peer;
    s.dst = local;
    s.sport = peer_port;
    s.dport = local_port;
    stack.input(s, now_);
    return *this;
}

Harness &Harness::in(double t_ms, const std::string &text, const uint8_t *payload) {
    ParsedSeg p = parse_seg(text);
    SegmentIn s;
    s.seq = peer_isn + p.start;
    s.ack = p.ack ? local_iss + *p.ack : 0;
    s.flags = p.flags;
    s.window = static_cast<uint16_t>(p.win ? *p.win : 65535);
    s.opts = p.opts;
    if (p.ts_ecr_any) s.opts.ts_ecr = last_tsval;
    for (int i = 0; i < s.opts.num_sack; ++i) {
        s.opts.sack[i].start += local_iss;
        s.opts.sack[i].end += local_iss;
    }
    static std::vector<uint8_t> buf;
    if (p.len) {
        buf.resize(p.len);
        if (payload) {
            std::memcpy(buf.data(), payload, p.len);
        } else {
            for (uint32_t i = 0; i < p.len; ++i) buf[i] = static_cast<uint8_t>(p.start + i);
        }
        s.payload = buf.data();
        s.payload_len = p.len;
    }
    return in(t_ms, s);
}

std::optional<Captured> Harness::pop() {
    if (cap.q.empty()) return std::nullopt;
    Captured c = std::move(cap.q.front());
    cap.q.pop_front();
    if ((c.seg.flags & kSyn) && !iss_known) {
        local_iss = c.seg.seq;
        iss_known = true;
    }
    if (c.seg.opts.has_ts) last_tsval = c.seg.opts.ts_val;
    return c;
}

std::string Harness::format(const SegmentOut &s) const {
    std::string f;
    if (s.flags & kSyn) f += 'S';
    if (s.flags & kFin) f += 'F';
    if (s.flags & kRst) f += 'R';
    if (s.flags & kPsh) f += 'P';
    if (s.flags & kAck) f += '.';
    char b[256];
    uint32_t rs = s.seq - local_iss;
    uint32_t len = s.payload_len;
    std::snprintf(b, sizeof b, "%s %u:%u(%u)", f.c_str(), rs, rs + len, len);
    std::string r = b;
    if (s.flags & kAck) r += " ack " + std::to_string(s.ack - peer_isn);
    r += " win " + std::to_string(s.window);
    std::string o;
    auto add = [&o](const std::string &x) { o += (o.empty() ? "" : ",") + x; };
    if (s.opts.has_mss) add("mss " + std::to_string(s.opts.mss));
    if (s.opts.sack_permitted) add("sackOK");
    if (s.opts.has_ts)
        add("TS val " + std::to_string(s.opts.ts_val) + " ecr " + std::to_string(s.opts.ts_ecr));
    if (s.opts.has_wscale) add("wscale " + std::to_string(s.opts.wscale));
    if (s.opts.num_sack) {
        std::string sk = "sack";
        for (int i = 0; i < s.opts.num_sack; ++i)
            sk += " " + std::to_string(s.opts.sack[i].start - peer_isn) + ":" +
                  std::to_string(s.opts.sack[i].end - peer_isn);
        add(sk);
    }
    if (!o.empty()) r += " <" + o + ">";
    return r;
}

Harness &Harness::out(const std::string &text) {
    auto c = pop();
    if (!c) {
        ADD_FAILURE() << "expected " << text << " but nothing was sent";
        return *this;
    }
    const SegmentOut &s = c->seg;
    ParsedSeg p = parse_seg(text);
    std::string got = format(s);
    auto fail = [&](const char *what) {
        ADD_FAILURE() << what << " mismatch\n  expected: " << text << "\n  got:      " << got;
    };
    if (s.flags != p.flags) return fail("flags"), *this;
    if (s.seq - local_iss != p.start || s.payload_len != p.len) return fail("seq/len"), *this;
    if (p.ack && s.ack - peer_isn != *p.ack) return fail("ack"), *this;
    if (p.win && s.window != *p.win) return fail("win"), *this;
    if (p.has_opts) {
        const TcpOptions &a = s.opts, &e = p.opts;
        if (a.has_mss != e.has_mss || (e.has_mss && a.mss != e.mss)) return fail("mss"), *this;
        if (a.has_wscale != e.has_wscale || (e.has_wscale && a.wscale != e.wscale))
            return fail("wscale"), *this;
        if (a.sack_permitted != e.sack_permitted) return fail("sackOK"), *this;
        if (a.has_ts != e.has_ts) return fail("TS"), *this;
        if (e.has_ts && !p.ts_val_any && a.ts_val != e.ts_val) return fail("TS val"), *this;
        if (e.has_ts && !p.ts_ecr_any && a.ts_ecr != e.ts_ecr) return fail("TS ecr"), *this;
        if (a.num_sack != e.num_sack) return fail("sack count"), *this;
        for (int i = 0; i < e.num_sack; ++i)
            if (a.sack[i].start - peer_isn != e.sack[i].start ||
                a.sack[i].end - peer_isn != e.sack[i].end)
                return fail("sack block"), *this;
    }
    return *this;
}

Harness &Harness::no_out() {
    if (!cap.q.empty()) {
        std::string all;
        for (auto &c : cap.q) all += "\n  " + format(c.seg);
        ADD_FAILURE() << "unexpected output:" << all;
    }
    return *this;
}

ConnId Harness::connect() {
    ConnId c = stack.connect(local, peer, peer_port, &app);
    app.conn = c;
    // In active mode the peer's port is the listening one; keep names consistent.
    local_port = stack.flow(c).lport;
    return c;
}

ConnId Harness::accept_default(bool ts, bool sack, bool ws) {
    // "S 0:0(0) win 65535 <mss 1460[,sackOK][,TS val 100 ecr 0][,wscale 7]>"
    SegmentIn syn;
    syn.seq = peer_isn;
    syn.flags = kSyn;
    syn.window = 65535;
    syn.opts.has_mss = true;
    syn.opts.mss = 1460;
    syn.opts.sack_permitted = sack;
    syn.opts.has_ts = ts;
    syn.opts.ts_val = ts ? 100 : 0;
    syn.opts.has_wscale = ws;
    syn.opts.wscale = ws ? 7 : 0;
    in(0, syn);
    EXPECT_TRUE(pop().has_value());
    // ". 1:1(0) ack 1 win 1024[ <nop,nop,TS val 101 ecr *>]"
    SegmentIn ack;
    ack.seq = peer_isn + 1;
    ack.ack = local_iss + 1;
    ack.flags = kAck;
    ack.window = 1024;
    ack.opts.has_ts = ts;
    ack.opts.ts_val = ts ? 101 : 0;
    ack.opts.ts_ecr = ts ? last_tsval : 0;
    in(1, ack);
    EXPECT_EQ(app.accepted, 1);
    return app.conn;
}

}  // namespace ep::tcp::test
