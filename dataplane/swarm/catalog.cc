#include "dataplane/swarm/catalog.h"

#include <cstring>

#include "dataplane/swarm/bencode.h"

namespace ep::swarm {

const CatFile *CatTorrent::file_of(uint32_t p) const {
    // Binary search over files by first piece.
    size_t lo = 0, hi = files.size();
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (files[mid].first_piece <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return nullptr;
    const CatFile &f = files[lo - 1];
    return p < f.first_piece + f.pieces ? &f : nullptr;
}

uint32_t CatTorrent::piece_size(uint32_t p) const {
    const uint64_t start = uint64_t{p} * piece_length;
    if (start >= total_length) return 0;
    const uint64_t rest = total_length - start;
    return rest < piece_length ? static_cast<uint32_t>(rest) : piece_length;
}

bool read_layout(std::string_view bytes, TorrentLayout *out) {
    // Control thread: heap for the nodes is fine here.
    const uint32_t cap = static_cast<uint32_t>(bytes.size() / 2 + 16);
    std::unique_ptr<BNode[]> nodes(new BNode[cap]);
    uint32_t n = 0;
    if (bdecode(bytes, nodes.get(), cap, &n) != BError::kOk || nodes[0].type != BType::kDict)
        return false;
    const BNode *b = nodes.get();
    const uint32_t info = bdict_find(b, 0, "info");
    if (!info || b[info].type != BType::kDict) return false;
    const uint32_t pieces = bdict_find(b, info, "pieces");
    const uint32_t plen = bdict_find(b, info, "piece length");
    if (!pieces || !plen || b[pieces].type != BType::kStr || b[plen].type != BType::kInt ||
        b[pieces].s.size() % 20 || b[plen].i <= 0 || b[plen].i > (1 << 30))
        return false;
    out->files.clear();
    uint64_t total = 0;
    if (const uint32_t len = bdict_find(b, info, "length")) {
        if (b[len].type != BType::kInt || b[len].i < 0) return false;
        total = static_cast<uint64_t>(b[len].i);
        out->files.push_back({{}, total, false});
    } else if (const uint32_t files = bdict_find(b, info, "files");
               files && b[files].type == BType::kList) {
        for (uint32_t f = files + 1, i = 0; i < b[files].count; ++i, f = b[f].next) {
            if (b[f].type != BType::kDict) return false;
            const uint32_t l = bdict_find(b, f, "length");
            const uint32_t p = bdict_find(b, f, "path");
            if (!l || b[l].type != BType::kInt || b[l].i < 0 || !p || b[p].type != BType::kList)
                return false;
            TorrentFile tf;
            tf.length = static_cast<uint64_t>(b[l].i);
            for (uint32_t c = p + 1, k = 0; k < b[p].count; ++k, c = b[c].next) {
                if (b[c].type != BType::kStr) return false;
                tf.path.emplace_back(b[c].s);
            }
            if (const uint32_t a = bdict_find(b, f, "attr"); a && b[a].type == BType::kStr)
                tf.pad = b[a].s.find('p') != std::string_view::npos;  // BEP 47
            total += tf.length;
            out->files.push_back(std::move(tf));
        }
    } else {
        return false;
    }
    const uint64_t pl = static_cast<uint64_t>(b[plen].i);
    const uint64_t np = b[pieces].s.size() / 20;
    if (np != (total + pl - 1) / pl || np > UINT32_MAX) return false;
    out->info_hash = sha1(b[info].s);
    out->piece_length = static_cast<uint32_t>(pl);
    out->num_pieces = static_cast<uint32_t>(np);
    out->total_length = total;
    out->info_off = static_cast<uint32_t>(b[info].s.data() - bytes.data());
    out->info_len = static_cast<uint32_t>(b[info].s.size());
    return true;
}

Catalog::Catalog(uint32_t capacity_pow2)
    : slots_(new CatTorrent *[capacity_pow2]()), mask_(capacity_pow2 - 1) {}

Catalog::~Catalog() {
    for (uint32_t i = 0; i <= mask_; ++i) delete slots_[i];
    for (CatTorrent *t : retired_) delete t;
}

static uint32_t slot_hash(const uint8_t ih[20]) {
    uint32_t h;
    std::memcpy(&h, ih, 4);  // SHA-1 bytes: already uniform
    return h;
}

bool Catalog::insert(std::unique_ptr<CatTorrent> t) {
    if (!t || n_ >= (mask_ + 1) / 4 * 3) return false;
    for (uint32_t i = slot_hash(t->info_hash.data()), k = 0; k <= mask_; ++i, ++k) {
        CatTorrent *&s = slots_[i & mask_];
        CatTorrent *cur = __atomic_load_n(&s, __ATOMIC_ACQUIRE);
        if (cur && std::memcmp(cur->info_hash.data(), t->info_hash.data(), 20) == 0) {
            if (!__atomic_load_n(&cur->removed, __ATOMIC_ACQUIRE)) return false;
            retired_.push_back(cur);  // a reader may still hold it
            __atomic_store_n(&s, t.release(), __ATOMIC_RELEASE);
            return true;
        }
        if (!cur) {
            __atomic_store_n(&s, t.release(), __ATOMIC_RELEASE);
            __atomic_store_n(&n_, n_ + 1, __ATOMIC_RELAXED);
            return true;
        }
    }
    return false;
}

const CatTorrent *Catalog::find(const uint8_t ih[20]) const {
    for (uint32_t i = slot_hash(ih), k = 0; k <= mask_; ++i, ++k) {
        const CatTorrent *cur = __atomic_load_n(&slots_[i & mask_], __ATOMIC_ACQUIRE);
        if (!cur) return nullptr;
        if (std::memcmp(cur->info_hash.data(), ih, 20) == 0)
            return __atomic_load_n(&cur->removed, __ATOMIC_ACQUIRE) ? nullptr : cur;
    }
    return nullptr;
}

bool Catalog::remove(const uint8_t ih[20]) {
    for (uint32_t i = slot_hash(ih), k = 0; k <= mask_; ++i, ++k) {
        CatTorrent *cur = __atomic_load_n(&slots_[i & mask_], __ATOMIC_ACQUIRE);
        if (!cur) return false;
        if (std::memcmp(cur->info_hash.data(), ih, 20) == 0) {
            __atomic_store_n(&cur->removed, 1u, __ATOMIC_RELEASE);
            return true;
        }
    }
    return false;
}

}  // namespace ep::swarm
