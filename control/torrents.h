// Torrents of the store (issue 12, "Torrents from the store"): at ingest,
// a directory ingested under a prefix (a DASH title) gets one multi-file
// BitTorrent v1 .torrent with BEP 47 padding, any other ingested object its
// own single-file one; their pieces are the store's 256 KiB chunks. They
// are stored as objects "<name>.torrent" (application/x-bittorrent), so
// HTTP serves them as it serves anything.
// SHA-1 runs over the chunks where they lie in the store (the bytes HTTP
// and the peer wire will send), so the object is never copied again.
//
// The .torrent objects are the persistent record: at start-up the daemon
// reads them back to know its info hashes (the tracker's closed mode and
// `edgectl torrent`).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "chunkstore/store.h"
#include "dataplane/swarm/metainfo.h"

namespace ep {

namespace swarm {
class TorrentSet;
}

struct TorrentInfo {
    std::string object;  // "<name>.torrent"
    swarm::Sha1 info_hash{};
    std::string name;  // the torrent's info.name
    std::vector<std::string> trackers;
    uint64_t length = 0;
    uint32_t pieces = 0;
};

struct TorrentUrls {
    std::string announce_udp;   // "udp://10.77.0.2:6969/announce" ("" with the tracker off)
    std::string announce_http;  // "http://10.77.0.2/announce" (BEP 3; "" with --tracker-http false)
    std::string http_base;      // "http://10.77.0.2" (web seeds, BEP 19); "" with HTTP off
};

class Torrents {
  public:
    Torrents(chunkstore::Store &store, TorrentUrls urls) : store_(store), urls_(std::move(urls)) {}
    // Info hashes are also inserted here (the tracker's set), may be null.
    void set_tracker_set(swarm::TorrentSet *s) { ours_ = s; }
    // Called for every torrent made or loaded, with its stored bytes (the
    // peer wire's catalog and the tracker's own announce are built from it).
    using OnTorrent = std::function<void(const TorrentInfo &, const std::string &bytes)>;
    void set_on_torrent(OnTorrent f) { on_torrent_ = std::move(f); }
    // Called for every torrent forgotten (its objects were removed).
    using OnForget = std::function<void(const TorrentInfo &)>;
    void set_on_forget(OnForget f) { on_forget_ = std::move(f); }
    const TorrentUrls &urls() const { return urls_; }
    chunkstore::Store &store() const { return store_; }

    // After an ingest. A directory ingested under a prefix (a title: the
    // caller passes its last segment as `dir_name`) gets one multi-file
    // torrent over the objects named `prefix`...; any other ingest one
    // single-file torrent per object. Not both: a torrent takes a whole
    // 256 KiB chunk slot in the store, so one per DASH segment would cost
    // more RAM than the segments. Returns one line per torrent made
    // ("torrent NAME.torrent HASH"), and error lines.
    std::vector<std::string> make(const std::vector<std::string> &names, const std::string &prefix,
                                  const std::string &dir_name);
    // Fill mode: a torrent fetched whole from a swarm (edgectl swarm fetch)
    // keeps its own bytes, so its info hash is the swarm's: stored as the
    // object `object` and tracked and served like one made at ingest.
    bool adopt(const std::string &object, const std::string &bytes, std::string *line);
    // Start-up: every stored .torrent object.
    size_t load_existing();
    // Objects were removed (remove, purge): every torrent whose .torrent
    // object or content is among them (the object it was made for, or a
    // title's files "<stem>/...") is forgotten: out of the tracker's set,
    // on_forget (catalog, own announce), and its .torrent object removed
    // too, since it describes content the store no longer holds. Returns a
    // line per torrent ("untracked NAME.torrent HASH").
    std::vector<std::string> forget(const std::vector<std::string> &removed);

    // By torrent object name, or by the name it was made for ("x" or "x.torrent").
    const TorrentInfo *find(const std::string &name) const;
    std::string magnet(const TorrentInfo &t) const;
    const std::map<std::string, TorrentInfo> &all() const { return by_object_; }

  private:
    // Piece hashes of one object: the single-file list, and the last piece
    // again as padded to a whole piece (the multi-file layout).
    bool hash_object(const chunkstore::ObjectMeta &m, std::string *pieces, swarm::Sha1 *padded_last,
                     std::string *err);
    bool store_torrent(const std::string &object, const swarm::TorrentSpec &spec,
                       std::string *line);
    void remember(const std::string &object, const std::string &bytes);

    chunkstore::Store &store_;
    TorrentUrls urls_;
    swarm::TorrentSet *ours_ = nullptr;
    OnTorrent on_torrent_;
    OnForget on_forget_;
    std::map<std::string, TorrentInfo> by_object_;
    swarm::Sha1 prev_padded_{};  // make(): the last title file's padded last piece
};

}  // namespace ep
