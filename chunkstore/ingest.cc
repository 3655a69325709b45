#include "chunkstore/ingest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace ep::chunkstore {

namespace fs = std::filesystem;

std::string_view guess_content_type(std::string_view name) {
    static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
        {".mpd", "application/dash+xml"},
        {".m4s", "video/iso.segment"},
        {".mp4", "video/mp4"},
        {".m4a", "audio/mp4"},
        {".m4v", "video/mp4"},
        {".m3u8", "application/vnd.apple.mpegurl"},
        {".ts", "video/mp2t"},
        {".torrent", "application/x-bittorrent"},
        {".html", "text/html"},
        {".txt", "text/plain"},
        {".json", "application/json"},
        {".js", "text/javascript"},
        {".css", "text/css"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".bin", "application/octet-stream"},
    };
    for (auto &[ext, type] : kTypes)
        if (name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext) return type;
    return {};
}

namespace {

struct Item {
    fs::path path;
    std::string name;
    uint64_t size;
};

std::string join_name(std::string_view prefix, const std::string &rel) {
    std::string p(prefix);
    while (!p.empty() && p.back() == '/') p.pop_back();
    return p.empty() ? rel : p + "/" + rel;
}

Status store_file(Store &store, const Item &it, IngestReport *rep, const std::atomic<bool> *cancel) {
    int fd = ::open(it.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::error(Err::io, std::strerror(errno));
    struct stat st {};
    fstat(fd, &st);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    const int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    Status s = store.put_object(
        it.name, size,
        [fd, cancel](uint64_t off, void *buf, uint32_t len) {
            if (cancel && cancel->load(std::memory_order_relaxed)) return false;
            auto *p = static_cast<char *>(buf);
            while (len > 0) {
                ssize_t r = ::pread(fd, p, len, static_cast<off_t>(off));
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) return false;  // shrank under us, or I/O error
                p += r, off += static_cast<uint64_t>(r), len -= static_cast<uint32_t>(r);
            }
            return true;
        },
        mtime, guess_content_type(it.name));
    ::close(fd);
    if (s.ok()) {
        ++rep->objects;
        rep->chunks += chunk_count_for(size);
        rep->bytes += size;
    }
    return s;
}

}  // namespace

Status ingest_path(Store &store, const std::string &path, std::string_view name_prefix,
                   const ProgressCb &progress, IngestReport *report,
                   const std::atomic<bool> *cancel) {
    IngestReport local;
    IngestReport *rep = report ? report : &local;
    const auto t0 = std::chrono::steady_clock::now();
    std::error_code ec;
    const fs::path root(path);
    std::vector<Item> items;
    auto st = fs::status(root, ec);
    if (ec) return Status::error(Err::not_found, path + ": " + ec.message());
    if (fs::is_regular_file(st)) {
        std::string name = name_prefix.empty() ? root.filename().string()
                           : name_prefix.back() == '/'
                               ? std::string(name_prefix) + root.filename().string()
                               : std::string(name_prefix);
        items.push_back({root, name, fs::file_size(root, ec)});
    } else if (fs::is_directory(st)) {
        for (auto it = fs::recursive_directory_iterator(root, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (!it->is_regular_file(ec)) continue;
            std::string rel = fs::relative(it->path(), root, ec).generic_string();
            items.push_back({it->path(), join_name(name_prefix, rel), it->file_size(ec)});
        }
        if (ec) return Status::error(Err::io, path + ": " + ec.message());
        std::sort(items.begin(), items.end(), [](auto &a, auto &b) { return a.name < b.name; });
    } else {
        return Status::error(Err::invalid, path + ": not a regular file or directory");
    }

    uint64_t bytes_total = 0;
    for (auto &it : items) bytes_total += it.size;
    Status result;
    const auto cancelled = [cancel] { return cancel && cancel->load(std::memory_order_relaxed); };
    for (size_t i = 0; i < items.size(); ++i) {
        if (cancelled()) {
            result = Status::error(Err::busy, "ingest cancelled before " + items[i].name);
            break;
        }
        Status s = store_file(store, items[i], rep, cancel);
        if (cancelled() && !s.ok()) {
            result = Status::error(Err::busy, "ingest cancelled during " + items[i].name);
            break;
        }
        if (!s.ok()) {
            rep->failed.push_back(items[i].name + ": " + s.msg);
            if (s.code == Err::full || s.code == Err::io) {
                result = s;
                break;
            }
        }
        if (progress) progress({items[i].name, i + 1, items.size(), rep->bytes, bytes_total});
    }
    Status fl = store.flush();
    rep->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!result.ok()) return result;
    if (!fl.ok()) return fl;
    if (!rep->failed.empty())
        return Status::error(Err::io, std::to_string(rep->failed.size()) + " file(s) failed");
    return {};
}

}  // namespace ep::chunkstore
