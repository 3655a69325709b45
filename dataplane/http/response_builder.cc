#include "dataplane/http/response_builder.h"

#include <cstring>

namespace ep::http {

void ResponseBuilder::append_u64(uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[19 - n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    append({tmp + 20 - n, static_cast<std::size_t>(n)});
}

void ResponseBuilder::append_hex16(uint64_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    char tmp[16];
    for (int i = 0; i < 16; ++i) tmp[i] = kHex[(v >> (60 - 4 * i)) & 0xf];
    append({tmp, 16});
}

void ResponseBuilder::inline_piece_since(uint16_t m) {
    if (overflow_ || r_.npieces_ == kMaxBodyPieces) {
        overflow_ = true;
        return;
    }
    r_.pieces_[r_.npieces_++] =
        BodyPiece{BodyPiece::Kind::kInline, 0, m, static_cast<uint64_t>(r_.used_ - m)};
}

void ResponseBuilder::object_piece(uint64_t handle, uint64_t offset, uint64_t length) {
    if (overflow_ || r_.npieces_ == kMaxBodyPieces) {
        overflow_ = true;
        return;
    }
    r_.pieces_[r_.npieces_++] = BodyPiece{BodyPiece::Kind::kObject, handle, offset, length};
}

}  // namespace ep::http
