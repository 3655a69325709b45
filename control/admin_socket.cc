#include "control/admin_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace ep {

namespace {
constexpr std::size_t kMaxRequest = 4096;
constexpr int kClientTimeoutMs = 2000;

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
}  // namespace

void Reply::write(std::string_view s) {
    while (!failed_ && !s.empty()) {
        ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            failed_ = true;  // the client went away; drop the rest
            return;
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

AdminSocket::~AdminSocket() { close(); }

bool AdminSocket::open(const std::string &path, std::string *err) {
    sockaddr_un sa;
    if (!make_addr(path, &sa, err)) return false;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    // A socket file left by a crashed daemon would make bind fail; refuse only
    // if someone still answers on it.
    std::string probe_err;
    if (admin_request(path, "ping", [](std::string_view) {}, &probe_err)) {
        *err = "another edgeplane already serves " + path;
        return false;
    }
    ::unlink(path.c_str());
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
        *err = "admin socket " + path + ": " + std::strerror(errno);
        close();
        return false;
    }
    ::chmod(path.c_str(), 0660);
    path_ = path;
    add_command("ping", "check the daemon answers", [](auto &, Reply &r) { r.write("pong\n"); });
    add_command("help", "list commands", [this](auto &, Reply &r) {
        for (const auto &[name, c] : commands_) r.write(name + "\t" + c.help + "\n");
    });
    return true;
}

void AdminSocket::add_command(const std::string &name, const std::string &help, Handler h) {
    commands_[name] = Command{help, std::move(h)};
}

void AdminSocket::poll(int timeout_ms) {
    if (listen_fd_ < 0) return;
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    serve(fd);
    ::close(fd);
}

void AdminSocket::serve(int fd) {
    timeval tv{kClientTimeoutMs / 1000, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string line;
    char buf[512];
    while (line.find('\n') == std::string::npos && line.size() < kMaxRequest) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        line.append(buf, static_cast<std::size_t>(n));
    }
    Reply out(fd);
    line = line.substr(0, line.find('\n'));
    std::istringstream words(line);
    std::vector<std::string> args;
    for (std::string w; words >> w;) args.push_back(w);
    if (args.empty()) {
        out.write("error: empty request\n");
        return;
    }
    auto it = commands_.find(args[0]);
    if (it == commands_.end()) {
        out.write("error: unknown command '" + args[0] + "' (try 'help')\n");
        return;
    }
    it->second.handler(args, out);
}

void AdminSocket::close() {
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
