#include "control/torrents.h"

#include <ctime>

#include "chunkstore/chunk.h"
#include "dataplane/swarm/tracker_table.h"

namespace ep {

namespace {
constexpr std::string_view kExt = ".torrent";

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string> split_path(std::string_view p) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string_view::npos) j = p.size();
        if (j > i) out.emplace_back(p.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

// URL path of an object: each segment percent-encoded, slashes kept.
std::string url_path(std::string_view name) {
    std::string out;
    for (const std::string &seg : split_path(name)) out += "/" + swarm::percent_encode(seg);
    return out;
}
}  // namespace

bool Torrents::hash_object(const chunkstore::ObjectMeta &m, std::string *pieces,
                           swarm::Sha1 *padded_last, std::string *err) {
    swarm::Sha1Stream h, pad;
    std::vector<uint8_t> cold;  // only for a chunk not in RAM (disk tier)
    pieces->clear();
    for (uint32_t i = 0; i < m.chunk_count; ++i) {
        const chunkstore::ChunkKey key = chunkstore::chunk_key(m.id, i);
        const chunkstore::Chunk *c = store_.resident_chunk(key);
        const uint8_t *data = nullptr;
        uint32_t len = m.chunk_len(i);
        if (c && c->oid == m.id && c->index == i && c->generation == m.generation) {
            data = c->data;  // the stored bytes, hashed where they lie
            len = c->len;
        } else {
            chunkstore::Status st = store_.read_chunk(key, &cold);
            if (!st.ok()) {
                *err = st.msg;
                return false;
            }
            data = cold.data();
            len = static_cast<uint32_t>(cold.size());
        }
        if (len != m.chunk_len(i)) {
            *err = "chunk " + std::to_string(i) + " has " + std::to_string(len) + " bytes";
            return false;
        }
        h.update(data, len);
        if (i + 1 == m.chunk_count) {
            h.copy_to(pad);
            pad.update_zeros(swarm::kPieceLength - len);
            *padded_last = pad.final();
        }
        const swarm::Sha1 d = h.final();
        pieces->append(reinterpret_cast<const char *>(d.data()), d.size());
    }
    return true;
}

void Torrents::remember(const std::string &object, const std::string &bytes) {
    swarm::TorrentSummary s;
    if (!swarm::read_torrent(bytes, &s)) return;
    TorrentInfo t{object, s.info_hash, s.name, s.trackers, s.total_length, s.pieces};
    if (ours_) ours_->insert(t.info_hash.data());
    if (on_torrent_) on_torrent_(t, bytes);
    by_object_[object] = std::move(t);
}

bool Torrents::store_torrent(const std::string &object, const swarm::TorrentSpec &spec,
                             std::string *line) {
    return adopt(object, swarm::build_torrent(spec), line);
}

bool Torrents::adopt(const std::string &object, const std::string &bytes, std::string *line) {
    const auto *p = reinterpret_cast<const uint8_t *>(bytes.data());
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    chunkstore::Status st = store_.put_object(object, std::span<const uint8_t>(p, bytes.size()),
                                              int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec,
                                              "application/x-bittorrent");
    if (!st.ok()) {
        *line = "error: " + object + ": " + st.msg;
        return false;
    }
    remember(object, bytes);
    *line = "torrent " + object + " " + swarm::hex(by_object_[object].info_hash);
    return true;
}

std::vector<std::string> Torrents::make(const std::vector<std::string> &names,
                                        const std::string &prefix, const std::string &dir_name) {
    std::vector<std::string> lines;
    std::string line;
    const int64_t created = static_cast<int64_t>(std::time(nullptr));
    swarm::TorrentSpec base;
    // `announce`: UDP (the cheaper tracker) when on, else HTTP; with both,
    // BEP 12 tiers UDP then HTTP, so a client without UDP tracker support
    // (or with UDP blocked) falls back to the same tracker over HTTP.
    base.announce = urls_.announce_udp.empty() ? urls_.announce_http : urls_.announce_udp;
    if (!urls_.announce_udp.empty() && !urls_.announce_http.empty())
        base.announce_list = {{urls_.announce_udp}, {urls_.announce_http}};
    base.creation_date = created;
    // Multi-file title: files in ingest order (sorted by name).
    std::vector<swarm::TorrentFile> files;
    std::string title_pieces;
    for (const std::string &name : names) {
        if (ends_with(name, kExt)) continue;
        const chunkstore::ObjectMeta *m = store_.object_ctl(name);
        if (!m) continue;
        if (m->size == 0) continue;  // no pieces: clients refuse empty torrents
        std::string pieces, err;
        swarm::Sha1 padded{};
        if (!hash_object(*m, &pieces, &padded, &err)) {
            lines.push_back("error: " + name + ": " + err);
            continue;
        }
        if (dir_name.empty()) {
            swarm::TorrentSpec t = base;
            const size_t slash = name.rfind('/');
            t.name = slash == std::string::npos ? name : name.substr(slash + 1);
            t.length = m->size;
            t.pieces = pieces;
            // BEP 19, single file: the URL is the file itself.
            if (!urls_.http_base.empty()) t.url_list.push_back(urls_.http_base + url_path(name));
            store_torrent(name + std::string(kExt), t, &line);
            lines.push_back(line);
        } else if (name.compare(0, prefix.size(), prefix) == 0) {
            // BEP 47: a file that does not end on a piece boundary is
            // followed by padding (the multi-file layout), so its last
            // piece is hashed padded; the title's last file needs none.
            if (!files.empty() && files.back().length % swarm::kPieceLength) {
                // The previous file's last piece, hashed unpadded, is
                // replaced with its padded form (kept in `prev_padded_`).
                title_pieces.replace(title_pieces.size() - 20, 20,
                                     reinterpret_cast<const char *>(prev_padded_.data()), 20);
            }
            files.push_back(
                {split_path(std::string_view(name).substr(prefix.size())), m->size, false});
            title_pieces += pieces;
            prev_padded_ = padded;
        }
    }
    if (!dir_name.empty() && !files.empty()) {
        swarm::TorrentSpec t = base;
        t.name = dir_name;
        t.files = swarm::pad_files(files);
        t.pieces = title_pieces;
        // BEP 19, multi-file: the client appends name/path to the URL; the
        // title's objects are "<prefix><path>", so the base is the prefix's
        // parent directory and the torrent's name its last segment.
        // With no prefix the title's files sit at the root under other
        // names than name/path: no web seed then.
        const bool under = !prefix.empty() && ends_with(prefix, dir_name + "/");
        if (!urls_.http_base.empty() && under) {
            const std::string parent = prefix.substr(0, prefix.size() - dir_name.size() - 1);
            t.url_list.push_back(urls_.http_base + url_path(parent) + "/");
        }
        const std::string obj =
            (under ? prefix.substr(0, prefix.size() - 1) : dir_name) + std::string(kExt);
        store_torrent(obj, t, &line);
        lines.push_back(line);
    }
    return lines;
}

size_t Torrents::load_existing() {
    std::vector<std::string> names;
    store_.for_each_object([&](const chunkstore::ObjectMeta &m) {
        if (ends_with(m.name_view(), kExt)) names.emplace_back(m.name_view());
    });
    for (const std::string &n : names) {
        const chunkstore::ObjectMeta *m = store_.object_ctl(n);
        if (!m) continue;
        std::string bytes;
        std::vector<uint8_t> buf;
        bool ok = true;
        for (uint32_t i = 0; i < m->chunk_count && ok; ++i) {
            ok = store_.read_chunk(chunkstore::chunk_key(m->id, i), &buf).ok();
            bytes.append(reinterpret_cast<const char *>(buf.data()), buf.size());
        }
        if (ok) remember(n, bytes);
    }
    return by_object_.size();
}

std::vector<std::string> Torrents::forget(const std::vector<std::string> &removed) {
    std::vector<std::string> lines, gone;
    for (const auto &[obj, ti] : by_object_) {
        const std::string stem = obj.substr(0, obj.size() - kExt.size());
        for (const std::string &r : removed) {
            if (r == obj || r == stem ||
                (r.size() > stem.size() && r.compare(0, stem.size(), stem) == 0 &&
                 r[stem.size()] == '/')) {
                gone.push_back(obj);
                break;
            }
        }
    }
    for (const std::string &obj : gone) {
        const TorrentInfo ti = by_object_[obj];
        by_object_.erase(obj);
        if (ours_) ours_->remove(ti.info_hash.data());
        if (on_forget_) on_forget_(ti);
        (void)store_.remove_object(obj);  // absent already when it was the one removed
        lines.push_back("untracked " + obj + " " + swarm::hex(ti.info_hash));
    }
    return lines;
}

const TorrentInfo *Torrents::find(const std::string &name) const {
    auto it = by_object_.find(name);
    if (it == by_object_.end()) it = by_object_.find(name + std::string(kExt));
    if (it == by_object_.end() && !name.empty() && name.back() == '/')
        it = by_object_.find(name.substr(0, name.size() - 1) + std::string(kExt));
    return it == by_object_.end() ? nullptr : &it->second;
}

std::string Torrents::magnet(const TorrentInfo &t) const {
    return swarm::magnet_link(t.info_hash, t.name, t.trackers);
}

}  // namespace ep
