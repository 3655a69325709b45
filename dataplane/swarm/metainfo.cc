#include "dataplane/swarm/metainfo.h"

#include <memory>

namespace ep::swarm {

namespace {
void write_files(BWriter &w, const std::vector<TorrentFile> &files) {
    w.begin_list();
    for (const TorrentFile &f : files) {
        w.begin_dict();  // keys in byte order: attr, length, path
        if (f.pad) w.key("attr"), w.str("p");
        w.key("length"), w.integer(static_cast<int64_t>(f.length));
        w.key("path"), w.begin_list();
        for (const std::string &c : f.path) w.str(c);
        w.end();
        w.end();
    }
    w.end();
}
}  // namespace

std::string build_info(const TorrentSpec &t) {
    std::string out;
    BWriter w(&out);
    w.begin_dict();  // files|length, name, piece length, pieces (byte order)
    if (t.files.empty())
        w.key("length"), w.integer(static_cast<int64_t>(t.length));
    else
        w.key("files"), write_files(w, t.files);
    w.key("name"), w.str(t.name);
    w.key("piece length"), w.integer(kPieceLength);
    w.key("pieces"), w.str(t.pieces);
    w.end();
    return out;
}

std::string build_torrent(const TorrentSpec &t, std::string *info_out) {
    const std::string info = build_info(t);
    std::string out;
    BWriter w(&out);
    w.begin_dict();  // announce, announce-list, created by, creation date, info, url-list
    if (!t.announce.empty())
        w.key("announce"), w.str(t.announce);  // none: tracker off (web seed only)
    if (!t.announce_list.empty()) {
        w.key("announce-list"), w.begin_list();
        for (const std::vector<std::string> &tier : t.announce_list) {
            w.begin_list();
            for (const std::string &a : tier) w.str(a);
            w.end();
        }
        w.end();
    }
    if (!t.created_by.empty()) w.key("created by"), w.str(t.created_by);
    if (t.creation_date) w.key("creation date"), w.integer(t.creation_date);
    w.key("info");
    out += info;  // already canonical
    if (!t.url_list.empty()) {
        w.key("url-list"), w.begin_list();
        for (const std::string &u : t.url_list) w.str(u);
        w.end();
    }
    w.end();
    if (info_out) *info_out = info;
    return out;
}

std::vector<TorrentFile> pad_files(const std::vector<TorrentFile> &files, uint32_t piece_length) {
    std::vector<TorrentFile> out;
    for (size_t i = 0; i < files.size(); ++i) {
        out.push_back(files[i]);
        const uint64_t rem = files[i].length % piece_length;
        if (i + 1 < files.size() && rem != 0) {
            const uint64_t pad = piece_length - rem;
            out.push_back({{".pad", std::to_string(pad)}, pad, true});
        }
    }
    return out;
}

std::string percent_encode(std::string_view s) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string o;
    for (unsigned char c : s) {
        // RFC 3986 unreserved characters stay as they are.
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            o.push_back(static_cast<char>(c));
        else
            o.push_back('%'), o.push_back(kHex[c >> 4]), o.push_back(kHex[c & 15]);
    }
    return o;
}

std::string magnet_link(const Sha1 &ih, std::string_view name,
                        const std::vector<std::string> &trackers) {
    std::string m = "magnet:?xt=urn:btih:" + hex(ih);
    if (!name.empty()) m += "&dn=" + percent_encode(name);
    for (const std::string &t : trackers) m += "&tr=" + percent_encode(t);
    return m;
}

bool read_torrent(std::string_view bytes, TorrentSummary *out) {
    // Nodes: a few per file; torrents of the store are small. Heap: control thread.
    const uint32_t cap = static_cast<uint32_t>(bytes.size() / 2 + 16);
    std::unique_ptr<BNode[]> nodes(new BNode[cap]);
    uint32_t n = 0;
    if (bdecode(bytes, nodes.get(), cap, &n) != BError::kOk) return false;
    if (nodes[0].type != BType::kDict) return false;
    const uint32_t info = bdict_find(nodes.get(), 0, "info");
    if (!info || nodes[info].type != BType::kDict) return false;
    const uint32_t name = bdict_find(nodes.get(), info, "name");
    const uint32_t pieces = bdict_find(nodes.get(), info, "pieces");
    const uint32_t plen = bdict_find(nodes.get(), info, "piece length");
    if (!name || !pieces || !plen || nodes[name].type != BType::kStr ||
        nodes[pieces].type != BType::kStr || nodes[plen].type != BType::kInt ||
        nodes[pieces].s.size() % 20 != 0 || nodes[plen].i <= 0)
        return false;
    uint64_t total = 0;
    if (const uint32_t len = bdict_find(nodes.get(), info, "length")) {
        if (nodes[len].type != BType::kInt || nodes[len].i < 0) return false;
        total = static_cast<uint64_t>(nodes[len].i);
    } else if (const uint32_t files = bdict_find(nodes.get(), info, "files")) {
        if (nodes[files].type != BType::kList) return false;
        for (uint32_t f = files + 1, i = 0; i < nodes[files].count; ++i, f = nodes[f].next) {
            const uint32_t l = bdict_find(nodes.get(), f, "length");
            if (!l || nodes[l].type != BType::kInt || nodes[l].i < 0) return false;
            total += static_cast<uint64_t>(nodes[l].i);
        }
    } else {
        return false;
    }
    const uint64_t npieces = nodes[pieces].s.size() / 20;
    const uint64_t pl = static_cast<uint64_t>(nodes[plen].i);
    if (npieces != (total + pl - 1) / pl) return false;
    out->info_hash = sha1(nodes[info].s);
    out->name = std::string(nodes[name].s);
    out->total_length = total;
    out->pieces = static_cast<uint32_t>(npieces);
    out->piece_length = pl;
    out->piece_hashes = std::string(nodes[pieces].s);
    out->multi_file = bdict_find(nodes.get(), info, "length") == 0;
    out->trackers.clear();
    auto add = [out](std::string_view url) {
        for (const std::string &t : out->trackers)
            if (t == url) return;
        out->trackers.emplace_back(url);
    };
    if (const uint32_t a = bdict_find(nodes.get(), 0, "announce");
        a && nodes[a].type == BType::kStr)
        add(nodes[a].s);
    // BEP 12: every tier's URLs (a client that knows announce-list ignores
    // announce; both are kept, announce first, for the magnet link).
    if (const uint32_t l = bdict_find(nodes.get(), 0, "announce-list");
        l && nodes[l].type == BType::kList) {
        for (uint32_t t = l + 1, i = 0; i < nodes[l].count; ++i, t = nodes[t].next) {
            if (nodes[t].type != BType::kList) continue;
            for (uint32_t u = t + 1, j = 0; j < nodes[t].count; ++j, u = nodes[u].next)
                if (nodes[u].type == BType::kStr) add(nodes[u].s);
        }
    }
    return true;
}

}  // namespace ep::swarm
