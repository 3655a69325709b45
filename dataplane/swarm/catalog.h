// The torrents the peer-wire service serves, as the data lcores see them:
// info hash -> piece layout (which object's which chunk is piece i) and where
// the info dictionary lies inside the stored .torrent object (BEP 9 serves it
// as slices of that object). Built by the control thread from the stored
// .torrent bytes (control/service_table.cc), read lock-free by every lcore.
//
// An entry is built whole, then its pointer is published with a release
// store; readers acquire it. Entries live until the catalog is destroyed
// (after every service is gone): remove() only marks one removed (find()
// no longer returns it; a connection that already holds it keeps valid
// memory), and inserting the same info hash again publishes the new entry
// in that slot and keeps the old one aside until then. No RCU needed. An
// object replaced after its torrent was made keeps its old entry, whose
// recorded generation no longer matches: the service refuses to serve it
// (counted) rather than send pieces that fail the hashes.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "dataplane/swarm/metainfo.h"

namespace ep::swarm {

struct CatFile {
    uint64_t object_id = 0;  // chunkstore::ObjectId of the file's object
    uint64_t generation = 0;
    uint64_t length = 0;
    uint32_t first_piece = 0;  // BEP 47 layout: every file starts on a piece boundary
    uint32_t pieces = 0;
};

struct CatTorrent {
    Sha1 info_hash{};
    uint32_t num_pieces = 0;
    uint32_t piece_length = kPieceLength;
    uint64_t total_length = 0;  // pad files included
    // The .torrent object and the info dict's span in it (BEP 9).
    uint64_t torrent_oid = 0, torrent_generation = 0;
    uint32_t info_off = 0, info_len = 0;
    std::vector<CatFile> files;  // real files, by first_piece
    uint32_t removed = 0;        // set by Catalog::remove (atomic)

    // The file piece `p` lies in (nullptr: none, e.g. a malformed layout).
    const CatFile *file_of(uint32_t p) const;
    // Bytes of piece p in the torrent (the last piece is shorter).
    uint32_t piece_size(uint32_t p) const;
};

// Builds the entry from .torrent bytes; `object_of(path)` gives the object
// id and generation of a file (false: not stored, no entry). path is the
// file's components joined with '/' ("" for a single-file torrent).
// Returns nullptr when the torrent is not servable as chunk slices (a file
// not on a piece boundary, a piece length other than the chunk size).
struct ObjectRef {
    uint64_t id = 0, generation = 0;
};
template <class F>
std::unique_ptr<CatTorrent> build_cat_torrent(std::string_view bytes, const ObjectRef &torrent_obj,
                                              F &&object_of);

class Catalog {
  public:
    explicit Catalog(uint32_t capacity_pow2 = 4096);
    ~Catalog();
    // Control thread. False when full or already present (the first stays);
    // a removed entry of the same hash is replaced.
    bool insert(std::unique_ptr<CatTorrent> t);
    // Control thread: the torrent's object is gone. False when not present.
    bool remove(const uint8_t ih[20]);
    // Any lcore.
    const CatTorrent *find(const uint8_t ih[20]) const;
    uint32_t size() const { return __atomic_load_n(&n_, __ATOMIC_RELAXED); }

  private:
    std::unique_ptr<CatTorrent *[]> slots_;
    std::vector<CatTorrent *> retired_;  // replaced after remove(): freed with the catalog
    uint32_t mask_;
    uint32_t n_ = 0;
};

// ---- implementation of the template ----
struct TorrentLayout {
    Sha1 info_hash{};
    uint32_t piece_length = 0;
    uint32_t num_pieces = 0;
    uint64_t total_length = 0;
    uint32_t info_off = 0, info_len = 0;
    std::vector<TorrentFile> files;  // single-file: one file with an empty path
};
bool read_layout(std::string_view bytes, TorrentLayout *out);

template <class F>
std::unique_ptr<CatTorrent> build_cat_torrent(std::string_view bytes, const ObjectRef &torrent_obj,
                                              F &&object_of) {
    TorrentLayout l;
    if (!read_layout(bytes, &l) || l.piece_length != kPieceLength) return nullptr;
    auto t = std::make_unique<CatTorrent>();
    t->info_hash = l.info_hash;
    t->num_pieces = l.num_pieces;
    t->piece_length = l.piece_length;
    t->total_length = l.total_length;
    t->torrent_oid = torrent_obj.id;
    t->torrent_generation = torrent_obj.generation;
    t->info_off = l.info_off;
    t->info_len = l.info_len;
    uint64_t off = 0;
    for (const TorrentFile &f : l.files) {
        if (!f.pad && f.length) {
            if (off % l.piece_length) return nullptr;  // straddles pieces: not chunk slices
            std::string path;
            for (const std::string &c : f.path) path += (path.empty() ? "" : "/") + c;
            ObjectRef o;
            if (!object_of(path, &o)) return nullptr;
            CatFile cf;
            cf.object_id = o.id;
            cf.generation = o.generation;
            cf.length = f.length;
            cf.first_piece = static_cast<uint32_t>(off / l.piece_length);
            cf.pieces = static_cast<uint32_t>((f.length + l.piece_length - 1) / l.piece_length);
            t->files.push_back(cf);
        }
        off += f.length;
    }
    return t;
}

}  // namespace ep::swarm
