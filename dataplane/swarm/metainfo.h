// BitTorrent v1 metainfo (BEP 3) whose pieces are the chunk store's 256 KiB
// chunks: piece i of a file is chunk i of its object, so the peer-wire
// server sends a piece as slices of exactly one chunk. Multi-file torrents
// (a DASH title) put every file on a piece boundary with BEP 47 padding
// files, so that invariant holds for every file (docs/swarm.md).
// Also the info hash and the magnet link (BEP 9 "magnet URI format").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/swarm/bencode.h"
#include "dataplane/swarm/sha1.h"

namespace ep::swarm {

inline constexpr uint32_t kPieceLength = 256 * 1024;  // = chunkstore::kChunkSize

struct TorrentFile {
    std::vector<std::string> path;  // components ("video", "seg-1.m4s")
    uint64_t length = 0;
    bool pad = false;  // BEP 47 attr "p": zeros, never stored or fetched
};

struct TorrentSpec {
    std::string name;  // single-file: the file name; multi-file: the directory
    // Single-file when files is empty: `length` bytes.
    uint64_t length = 0;
    std::vector<TorrentFile> files;          // multi-file, pad files already placed
    std::string pieces;                      // 20 bytes per piece, concatenated
    std::string announce;                    // "udp://10.77.0.2:6969/announce"
    // BEP 12 tiers, tried in order (optional): our UDP tracker, then the
    // same tracker over HTTP for clients without UDP (or UDP blocked).
    std::vector<std::vector<std::string>> announce_list;
    std::vector<std::string> url_list;       // BEP 19 web seeds
    std::string created_by = "edgeplane";
    int64_t creation_date = 0;  // 0: left out
};

// The bencoded info dictionary (keys sorted: BEP 3), and the whole torrent.
std::string build_info(const TorrentSpec &t);
std::string build_torrent(const TorrentSpec &t, std::string *info_out = nullptr);

// Lays out multi-file content on piece boundaries: after every file but the
// last whose length is not a multiple of the piece length, a pad file
// ".pad/N" (BEP 47 convention) of the missing bytes.
std::vector<TorrentFile> pad_files(const std::vector<TorrentFile> &files,
                                   uint32_t piece_length = kPieceLength);

// magnet:?xt=urn:btih:HEX&dn=NAME&tr=ANNOUNCE (BEP 9), values percent-encoded.
std::string magnet_link(const Sha1 &info_hash, std::string_view name,
                        const std::vector<std::string> &trackers);
std::string percent_encode(std::string_view s);

// Reads the info hash, name and piece count back from .torrent bytes (the
// store persists torrents as objects; the tracker's list of our torrents is
// rebuilt from them at start). False if not a strict v1 torrent.
struct TorrentSummary {
    Sha1 info_hash{};
    std::string name;
    std::vector<std::string> trackers;  // announce-list tiers in order (else announce), unique
    uint64_t total_length = 0;
    uint32_t pieces = 0;
    // What fill mode needs to fetch it (edgectl swarm fetch): the piece
    // length, the concatenated piece hashes (20 bytes each) and whether the
    // info dict lists files (multi-file) rather than one `length`.
    uint64_t piece_length = 0;
    std::string piece_hashes;
    bool multi_file = false;
};
bool read_torrent(std::string_view bytes, TorrentSummary *out);

}  // namespace ep::swarm
