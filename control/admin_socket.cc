#include "control/admin_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace ep {

namespace {
constexpr std::string_view kTruncated = "\nerror: reply truncated (too large)\n";

bool make_addr(const std::string &path, sockaddr_un *sa, std::string *err) {
    std::memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (path.size() >= sizeof sa->sun_path) {
        *err = "socket path too long: " + path;
        return false;
    }
    std::memcpy(sa->sun_path, path.c_str(), path.size());
    return true;
}

uint64_t mono_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1'000'000;
}

// Sends what the socket takes now. Returns bytes sent, or -1 when the peer
// is gone. Never blocks on a non-blocking socket.
ssize_t send_some(int fd, std::string_view s) {
    std::size_t done = 0;
    while (done < s.size()) {
        const ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) return -1;
        done += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(done);
}
}  // namespace

void Reply::write(std::string_view s) {
    if (failed_ || truncated_) return;
    if (fd_ < 0 && buf_) {  // collector()
        buf_->append(s);
        return;
    }
    if (!buf_) {  // client side: a blocking socket, written in full
        while (!s.empty()) {
            ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                failed_ = true;  // the server went away; drop the rest
                return;
            }
            s.remove_prefix(static_cast<std::size_t>(n));
        }
        return;
    }
    // Server side: keep order (buffered bytes first), send what the socket
    // takes without waiting, buffer the rest up to the cap.
    if (buf_->empty() && fd_ >= 0) {  // fd -1: collect only (a LateReply's part)
        const ssize_t n = send_some(fd_, s);
        if (n < 0) {
            failed_ = true;
            return;
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
    if (s.empty()) return;
    if (buf_->size() + s.size() > cap_) {
        truncated_ = true;
        buf_->append(kTruncated);  // the client learns its answer is incomplete
        return;
    }
    buf_->append(s);
}

AdminSocket::~AdminSocket() {
    close();
}

bool AdminSocket::open(const std::string &path, std::string *err) {
    sockaddr_un sa;
    if (!make_addr(path, &sa, err)) return false;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    // A socket file left by a crashed daemon would make bind fail; refuse only
    // if someone still answers on it.
    std::string probe_err;
    if (admin_request(
            path, "ping", [](std::string_view) {}, &probe_err)) {
        *err = "another edgeplane already serves " + path;
        return false;
    }
    ::unlink(path.c_str());
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
        *err = "admin socket " + path + ": " + std::strerror(errno);
        close();
        return false;
    }
    ::chmod(path.c_str(), 0660);
    path_ = path;
    clients_.reserve(kMaxClients);
    add_command("ping", "check the daemon answers", [](auto &, Reply &r) { r.write("pong\n"); });
    add_command("admin", "admin socket counters: clients dropped and why",
                [this](auto &, Reply &r) {
                    const std::pair<const char *, uint64_t> v[] = {
                        {"clients", ctr_.clients},
                        {"refused_busy", ctr_.refused_busy},
                        {"request_timeouts", ctr_.request_timeouts},
                        {"request_too_long", ctr_.request_too_long},
                        {"write_timeouts", ctr_.write_timeouts},
                        {"reply_truncated", ctr_.reply_truncated},
                        {"clients_now", clients_.size()},
                    };
                    for (const auto &[name, n] : v)
                        r.write(std::string(name) + " " + std::to_string(n) + "\n");
                });
    add_command("help", "list commands", [this](auto &, Reply &r) {
        for (const auto &[name, c] : commands_) r.write(name + "\t" + c.help + "\n");
    });
    return true;
}

void AdminSocket::add_command(const std::string &name, const std::string &help, Handler h) {
    commands_[name] = Command{help, std::move(h)};
}

void LateReply::write(std::string_view s) {
    if (!gone_ && !closed_) buf_.append(s);
}

void AdminSocket::absorb_late(uint64_t now) {
    for (Client &c : clients_) {
        if (!c.late || c.late->buf_.empty()) continue;
        if (c.out.empty()) c.deadline_ms = now + kWriteStallMs;  // the stall clock starts now
        if (c.out.size() + c.late->buf_.size() > kMaxReply) {
            ++ctr_.reply_truncated;
            c.out.append(kTruncated);
            c.late->gone_ = true;  // nothing more for this client
            c.late->closed_ = true;
        } else {
            c.out.append(c.late->buf_);
        }
        c.late->buf_.clear();
    }
}

void AdminSocket::wait(int timeout_ms) {
    npfd_ = 0;
    if (listen_fd_ < 0) return;
    uint64_t now = mono_ms();
    absorb_late(now);
    // Wake for the nearest client deadline, not only for the caller's tick.
    // A client waiting for a late answer with nothing to send has none.
    for (const Client &c : clients_) {
        if (c.late && c.writing && c.out.empty()) continue;
        timeout_ms = static_cast<int>(std::min<uint64_t>(
            static_cast<uint64_t>(timeout_ms), c.deadline_ms > now ? c.deadline_ms - now : 0));
    }
    pfd_[npfd_++] = {listen_fd_, POLLIN, 0};
    for (const Client &c : clients_)
        pfd_[npfd_++] = {c.fd,
                         static_cast<short>(!c.writing ? POLLIN : c.out.empty() ? 0 : POLLOUT), 0};
    if (::poll(pfd_, npfd_, timeout_ms) < 0)  // EINTR: a signal, the caller checks it
        for (std::size_t i = 0; i < npfd_; ++i) pfd_[i].revents = 0;
}

void AdminSocket::serve() {
    if (listen_fd_ < 0 || npfd_ == 0) return;
    const uint64_t now = mono_ms();
    absorb_late(now);
    // Clients first (indices match pfd_[1..]), then new ones.
    for (std::size_t i = std::min(clients_.size(), npfd_ - 1); i-- > 0;) {
        Client &c = clients_[i];
        const short re = pfd_[i + 1].revents;
        bool keep = true;
        if (!c.writing && (re & (POLLIN | POLLHUP | POLLERR))) read_from(c, now);
        if (c.writing) {
            const bool waiting_late = c.late && !c.late->closed_ && c.out.empty();
            if (waiting_late) {
                keep = !(re & (POLLHUP | POLLERR));  // gone while its answer was being made
            } else {
                if (re & (POLLOUT | POLLHUP | POLLERR) || c.out.empty()) keep = flush(c, now);
                if (keep && now >= c.deadline_ms) {
                    ++ctr_.write_timeouts;
                    keep = false;
                }
            }
        } else if (c.fd < 0) {
            keep = false;  // closed while reading
        } else if (now >= c.deadline_ms) {
            ++ctr_.request_timeouts;
            keep = false;
        }
        if (!keep) drop(i);
    }
    if (pfd_[0].revents & POLLIN) accept_clients(now);
    npfd_ = 0;
}

void AdminSocket::accept_clients(uint64_t now) {
    // Bounded: at most a backlog's worth per call, so a connect flood cannot
    // keep the control thread here either.
    for (int k = 0; k < 64; ++k) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;
        if (clients_.size() >= kMaxClients) {
            ++ctr_.refused_busy;
            send_some(fd, "error: busy, try again\n");
            ::close(fd);
            continue;
        }
        ++ctr_.clients;
        Client c;
        c.fd = fd;
        c.deadline_ms = now + kRequestTimeoutMs;
        clients_.push_back(std::move(c));
        // Most clients have already sent their line: serve it without
        // waiting for the next poll.
        read_from(clients_.back(), now);
        Client &b = clients_.back();
        if (b.fd < 0 || (b.writing && !flush(b, now))) drop(clients_.size() - 1);
    }
}

void AdminSocket::read_from(Client &c, uint64_t now) {
    char buf[512];
    for (;;) {
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            // EOF: a line without its newline still counts (socat, printf);
            // nothing at all is just a probe.
            if (n == 0 && !c.in.empty()) return run(c, std::move(c.in), now);
            ::close(c.fd);
            c.fd = -1;
            return;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        const std::size_t nl = c.in.find('\n');
        if (nl != std::string::npos) return run(c, c.in.substr(0, nl), now);
        if (c.in.size() >= kMaxRequest) {
            ++ctr_.request_too_long;
            c.writing = true;
            c.out = "error: request too long\n";
            c.deadline_ms = now + kWriteStallMs;
            return;
        }
    }
}

void AdminSocket::run(Client &c, std::string line, uint64_t now) {
    c.writing = true;
    c.in.clear();
    Reply out(c.fd, &c.out, kMaxReply);
    std::istringstream words(line);
    std::vector<std::string> args;
    for (std::string w; words >> w;) args.push_back(w);
    if (args.empty()) {
        out.write("error: empty request\n");
    } else if (auto it = commands_.find(args[0]); it == commands_.end()) {
        out.write("error: unknown command '" + args[0] + "' (try 'help')\n");
    } else {
        it->second.handler(args, out);
    }
    if (out.truncated()) ++ctr_.reply_truncated;
    c.failed = out.failed();
    c.late = out.held();
    c.deadline_ms = now + kWriteStallMs;
}

bool AdminSocket::flush(Client &c, uint64_t now) {
    if (c.failed) return false;
    if (!c.out.empty()) {
        const ssize_t n = send_some(c.fd, c.out);
        if (n < 0) return false;
        if (n > 0) {
            c.out.erase(0, static_cast<std::size_t>(n));
            c.deadline_ms = now + kWriteStallMs;  // progress: the client reads
        }
    }
    // All sent: done, close (unless the command still answers later).
    return !c.out.empty() || (c.late && !c.late->closed_);
}

void AdminSocket::drop(std::size_t i) {
    if (clients_[i].fd >= 0) ::close(clients_[i].fd);
    if (clients_[i].late) clients_[i].late->gone_ = true;
    clients_[i] = std::move(clients_.back());
    clients_.pop_back();
}

void AdminSocket::close() {
    for (Client &c : clients_) {
        if (c.fd >= 0) ::close(c.fd);
        if (c.late) c.late->gone_ = true;
    }
    clients_.clear();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
        ::unlink(path_.c_str());
    }
}

bool admin_request(const std::string &path, const std::string &line,
                   const std::function<void(std::string_view)> &out, std::string *err) {
    sockaddr_un sa;
    if (!make_addr(path, &sa, err)) return false;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) {
        // Name the usual causes: the operator's next step differs for each.
        if (errno == ENOENT)
            *err = "edgeplane is not running: no admin socket at " + path +
                   " (start the daemon, or give -s the path of its --admin-socket)";
        else if (errno == ECONNREFUSED)
            *err = "edgeplane is not running: nothing answers on " + path +
                   " (a socket file left by a daemon that is gone)";
        else
            *err = "cannot reach edgeplane at " + path + ": " + std::strerror(errno) +
                   (errno == EACCES ? " (run as root or as a member of the socket's group)" : "");
        if (fd >= 0) ::close(fd);
        return false;
    }
    std::string req = line + "\n";
    Reply(fd).write(req);
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    ::close(fd);
    return true;
}

}  // namespace ep
