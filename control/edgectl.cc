// edgectl: talks to a running edgeplane over its admin socket.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "control/admin_socket.h"
#include "control/top.h"

namespace {
// package.sh sits in libexec when installed, in the source tree otherwise.
std::string package_script() {
    const auto self = std::filesystem::canonical("/proc/self/exe").parent_path();
    for (const auto &p :
         {self / "../libexec/edgeplane/package.sh", std::filesystem::path(EP_PACKAGE_SH)})
        if (std::filesystem::exists(p)) return p.lexically_normal().string();
    return EP_PACKAGE_SH;
}
}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"edgectl: control a running edgeplane"};
    std::string socket = "/run/edgeplane/edgeplane.sock";
    app.add_option("-s,--socket", socket, "The daemon's admin socket");
    app.require_subcommand(1);

    std::string request;
    auto *stats = app.add_subcommand(
        "stats", "Per-lcore counters: traffic, cycles and busy %, drops by reason; then sections");
    bool json = false, help = false;
    std::string section;
    stats->add_flag("--json", json, "Machine-readable output");
    stats->add_flag("--help-text", help, "What each counter counts (its # HELP text)")
        ->excludes("--json");
    stats->add_option("section", section, "Show only this: lcores, tcp, http, cache or chunkstore");
    stats->callback([&] {
        request = help ? "stats help" : json ? "stats json" : "stats";
        if (!section.empty()) request += " " + section;
    });
    app.add_subcommand("ports", "Ports, addresses and queues")->callback([&] {
        request = "ports";
    });
    app.add_subcommand("reload",
                       "Read the config again and apply what needs no restart (SIGHUP does the "
                       "same); exit 1 when it is rejected")
        ->callback([&] { request = "reload"; });
    auto *top = app.add_subcommand(
        "top", "Live view, redrawn every second: lcores, services, cache, titles (Ctrl-C quits)");
    double top_interval = 1.0;
    unsigned top_frames = 0;
    top->add_option("-i,--interval", top_interval, "Seconds between frames")
        ->check(CLI::Range(0.1, 3600.0));
    top->add_option("-n,--frames", top_frames, "Stop after this many frames (0: never)");
    top->callback([&] { request = "top"; });
    app.add_subcommand("ping", "Check the daemon answers")->callback([&] { request = "ping"; });
    auto *ingest = app.add_subcommand(
        "ingest", "Store a file or directory tree (e.g. a DASH package) as objects");
    std::string path, prefix, offline_store;
    ingest->add_option("path", path, "File or directory")->required()->check(CLI::ExistingPath);
    ingest->add_option("--name", prefix, "Prefix for the object names");
    ingest->add_option("--store", offline_store,
                       "No daemon running: ingest into this store file directly (through epstore)");
    ingest->callback([&] {
        path = std::filesystem::absolute(path).lexically_normal().string();
        request = "ingest " + path + (prefix.empty() ? "" : " " + prefix);
    });
    app.add_subcommand("sink", "Receipts of the discard service: bytes and XXH3-64 per connection")
        ->callback([&] { request = "sink"; });
    std::string zones_action;
    auto *zones = app.add_subcommand(
        "zones",
        "Zones the DNS service answers for: apex, SOA serial, records; 'zones reload' "
        "re-reads the zone files (a broken one is rejected, the loaded zones keep serving)");
    zones->add_option("action", zones_action, "reload")->check(CLI::IsMember({"reload"}));
    zones->callback([&] { request = zones_action.empty() ? "zones" : "zones " + zones_action; });
    app.add_subcommand("clusters",
                       "Cluster selection: policy, clusters with load and health, last recompute")
        ->callback([&] { request = "clusters"; });
    app.add_subcommand("probes",
                       "Active probes: targets, method that answered, last RTT, answered and "
                       "unanswered counts")
        ->callback([&] { request = "probes"; });
    std::string why_address;
    auto *why = app.add_subcommand(
        "why", "Which cluster serves ADDRESS and why: the candidates, their scores, what decided");
    why->add_option("address", why_address, "A client address (IPv4 or IPv6)")->required();
    why->callback([&] { request = "why " + why_address; });
    std::vector<std::string> words;
    auto *raw = app.add_subcommand("call", "Send any admin command, e.g. 'edgectl call help'");
    raw->add_option("words", words)->required();
    raw->callback([&] {
        for (const auto &w : words) request += (request.empty() ? "" : " ") + w;
    });
    app.add_subcommand("objects", "List stored objects: size, chunks, name")->callback([&] {
        request = "objects";
    });
    app.add_subcommand("store",
                       "The tiers' use against capacity, disk eviction of filled content, and "
                       "per object its chunks on disk and in RAM")
        ->callback([&] { request = "store"; });
    unsigned drain_deadline = 30;
    auto *drain = app.add_subcommand(
        "drain", "Stop accepting connections; the daemon exits (0) when the open ones finish");
    drain->add_option("--deadline", drain_deadline, "Seconds the open connections get at most")
        ->check(CLI::Range(0, 86400));
    drain->callback([&] { request = "drain " + std::to_string(drain_deadline); });
    std::string remove_name;
    auto *remove = app.add_subcommand("remove", "Remove an object from both tiers");
    remove->add_option("name", remove_name)->required();
    remove->callback([&] { request = "remove " + remove_name; });
    std::string purge_what;
    auto *purge = app.add_subcommand(
        "purge", "Drop an object (PATH) or every object under a prefix (PREFIX/ or PREFIX*), "
                 "so the next request pulls it from its origin again");
    purge->add_option("path", purge_what)->required();
    purge->callback([&] { request = "purge " + purge_what; });
    app.add_subcommand("origins",
                       "Origin servers: route, name/address, state (up/down/unresolved), last "
                       "health check and when, consecutive passes/fails, fill attempts, fills")
        ->callback([&] { request = "origins"; });
    std::vector<std::string> fill_words;
    auto *fill = app.add_subcommand(
        "fill", "Off-peak push: window, clock, cap and measured rate, every listed title pushed "
                "or skipped and why; 'now HH:MM[:SS]' sets the window's clock (tests), 'again' "
                "reads the list anew");
    fill->add_option("words", fill_words, "now HH:MM[:SS] | again");
    fill->callback([&] {
        request = "fill";
        for (const auto &w : fill_words) request += " " + w;
    });
    std::string torrent_name;
    auto *torrent = app.add_subcommand(
        "torrent", "Info hash, magnet link and .torrent URL of an object's or title's torrent");
    torrent->add_option("name", torrent_name, "Object or title (demo, demo/manifest.mpd, x.torrent)")
        ->required();
    torrent->callback([&] { request = "torrent " + torrent_name; });
    // Fill mode (docs/swarm.md): `swarm` shows the fetches, `swarm fetch`
    // starts one; the daemon reads the .torrent, so its path is made absolute.
    auto *swarm = app.add_subcommand(
        "swarm", "Fill mode: progress of every fetch (pieces, peers, bytes down, bans)");
    auto *swarm_fetch = swarm->add_subcommand(
        "fetch", "Download a torrent into the store from its peers (the appliance as a leecher)");
    std::string fetch_torrent, fetch_name;
    std::vector<std::string> fetch_peers;
    swarm_fetch
        ->add_option("torrent", fetch_torrent,
                     "The .torrent file, or a magnet link (BEP 9: the metadata comes from a peer)")
        ->required()
        ->check([](const std::string &s) -> std::string {
            if (s.rfind("magnet:", 0) == 0) return "";
            return CLI::ExistingFile(s);
        });
    swarm_fetch->add_option("--peer", fetch_peers,
                            "A peer to fetch from, IPv4ADDR:PORT (repeatable; without it the "
                            "torrent's trackers name the peers)");
    swarm_fetch->add_option("--name", fetch_name, "Object name (default: the torrent's name)");
    swarm->callback([&] {
        if (!swarm_fetch->parsed()) {
            request = "swarm";
            return;
        }
        request = "swarm fetch " +
                  (fetch_torrent.rfind("magnet:", 0) == 0
                       ? fetch_torrent
                       : std::filesystem::absolute(fetch_torrent).lexically_normal().string());
        for (const std::string &p : fetch_peers) request += " --peer " + p;
        if (!fetch_name.empty()) request += " --name " + fetch_name;
    });
    app.add_subcommand("torrents", "List the stored torrents: info hash, pieces, object")
        ->callback([&] { request = "torrents"; });
    auto *package = app.add_subcommand(
        "package", "Package a title as multi-bitrate DASH with ffmpeg, then ingest it");
    std::string pkg_source, pkg_ladder, pkg_title = "demo", pkg_out, pkg_preset;
    double pkg_duration = 0;
    package->add_option("source", pkg_source, "Input media; none: a generated test pattern");
    package->add_option("--ladder", pkg_ladder, "WIDTHxHEIGHT:BITRATE,... highest first");
    package->add_option("--duration", pkg_duration, "Seconds to package");
    package->add_option("--preset", pkg_preset, "x264 preset (ultrafast..veryslow)");
    package->add_option("--title", pkg_title,
                        "Object name prefix: the manifest is TITLE/manifest.mpd");
    package->add_option("--out", pkg_out,
                        "Keep the packaged files here (default: a temporary folder)");
    package->add_option("--store", offline_store, "No daemon running: ingest into this store file");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        // CLI11 says only "A subcommand is required" for `edgectl statz`: name
        // the word it did not know and the commands it could have been.
        if (app.get_subcommands().empty() && !app.remaining().empty() &&
            app.remaining()[0].rfind('-', 0) != 0) {
            std::string names;
            for (const CLI::App *sub : app.get_subcommands({}))
                names += (names.empty() ? "" : ", ") + sub->get_name();
            std::fprintf(stderr, "edgectl: unknown command '%s' (commands: %s)\n",
                         app.remaining()[0].c_str(), names.c_str());
            return 2;
        }
        return app.exit(e);
    }

    if (package->parsed()) {
        const std::string out =
            pkg_out.empty() ? "/tmp/edgectl-package-" + std::to_string(getpid()) : pkg_out;
        std::string cmd = "'" + package_script() + "' --out '" + out + "'";
        if (!pkg_source.empty()) cmd += " --source '" + pkg_source + "'";
        if (!pkg_ladder.empty()) cmd += " --ladder '" + pkg_ladder + "'";
        if (!pkg_preset.empty()) cmd += " --preset '" + pkg_preset + "'";
        if (pkg_duration > 0) cmd += " --duration " + std::to_string(pkg_duration);
        std::fprintf(stderr, "edgectl: packaging with ffmpeg into %s\n", out.c_str());
        if (std::system(cmd.c_str()) != 0) {
            std::fprintf(stderr, "edgectl: packaging failed\n");
            return 1;
        }
        path = std::filesystem::absolute(out).string();
        prefix = pkg_title;
        request = "ingest " + path + " " + prefix;
    }

    if (!offline_store.empty()) {
        // Offline ingest is epstore's job; run the one that sits beside us.
        const auto self = std::filesystem::canonical("/proc/self/exe");
        auto epstore = self.parent_path() / "epstore";  // installed side by side
        if (!std::filesystem::exists(epstore))
            epstore = self.parent_path().parent_path() / "chunkstore" / "epstore";  // build tree
        std::vector<std::string> args{epstore.string(), "ingest", "--store", offline_store, path};
        if (!prefix.empty()) args.insert(args.end(), {"--name", prefix});
        std::vector<char *> argv2;
        for (auto &a : args) argv2.push_back(a.data());
        argv2.push_back(nullptr);
        execv(argv2[0], argv2.data());
        std::fprintf(stderr, "edgectl: cannot run %s: %s\n", argv2[0], std::strerror(errno));
        return 2;
    }

    if (top->parsed()) return ep::run_top(socket, top_interval, top_frames);

    std::string err;
    bool error_reply = false;
    bool first = true;
    const bool ok = ep::admin_request(
        socket, request,
        [&](std::string_view chunk) {
            // The daemon starts any line that reports a failure with "error:".
            if ((first && chunk.rfind("error:", 0) == 0) ||
                chunk.find("\nerror:") != std::string_view::npos)
                error_reply = true;
            first = false;
            std::fwrite(chunk.data(), 1, chunk.size(), stdout);
            std::fflush(stdout);
        },
        &err);
    if (!ok) {
        std::fprintf(stderr, "edgectl: %s\n", err.c_str());
        return 2;
    }
    return error_reply ? 1 : 0;
}
