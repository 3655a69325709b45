// The daemon's settings: command-line flags and the same keys in a TOML
// config file (--config), parsed with CLI11. Everything after a lone "--" is
// passed to DPDK's EAL untouched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/port.h"

namespace ep {

struct Config {
    std::vector<std::string> ports;     // vdev strings or PCI addresses
    std::vector<std::string> ips;       // "A.B.C.D/LEN", one per port
    std::vector<std::string> gateways;  // optional, one per port
    std::vector<unsigned> data_lcores{1};
    unsigned control_lcore = 0;
    std::string admin_socket = "/run/edgeplane/edgeplane.sock";
    std::string metrics_listen;  // "A.B.C.D:PORT" of /metrics (a kernel socket); empty: off
    std::string file_prefix = "edgeplane";
    bool no_huge = false;
    bool allow_pci = false;
    unsigned memory_mb = 512;  // with --no-huge
    unsigned mbufs = 16383;
    // Tests only: mbufs the control thread takes out of the pool at start
    // and holds until exit (--test-reserve-mbufs, see its help).
    unsigned test_reserve_mbufs = 0;
    unsigned rx_desc = 1024;  // RX ring descriptors per queue (the driver may adjust)
    unsigned tx_desc = 1024;
    bool tso = true;  // TCP segmentation offload where the port offers it (docs/tcp.md "TSO")
    std::string log_level = "info";
    std::string log_format = "kv";  // the daemon's own lines on stderr: kv (key=value) | json
    std::string store_path;        // chunk store file or block device; empty = RAM only
    unsigned ram_mb = 256;         // RAM tier (hugepage memory)
    unsigned disk_mb = 1024;       // disk tier size when the store file is created
    unsigned max_objects = 65536;
    unsigned http_port = 80;        // 0: no HTTP
    unsigned http_max_conns = 4096; // per data lcore and port
    unsigned tcp_max_conns = 16384; // per data lcore and port
    unsigned tcp_rcvbuf_kb = 64;    // per connection, power of two
    std::string tcp_cc = "cubic";   // cubic | newreno
    unsigned tcp_rto_min_ms = 200;
    unsigned tcp_tick_us = 20;     // timer wheel tick: RACK/TLP timers are a few RTTs
    unsigned http_header_timeout_ms = 10000;  // slowloris bound
    unsigned http_idle_timeout_ms = 60000;
    unsigned http_send_timeout_s = 60;  // abort a response nothing acknowledges this long; 0: off
    unsigned http_pin_conn_kb = 1024;   // chunk bytes one connection may queue ahead of its ACK
    unsigned http_pin_ram_pct = 50;     // share of the RAM tier all send queues may pin
    // Pull on miss (docs/origin.md): "PREFIX=ADDR[:PORT][,ADDR[:PORT]...]", first = primary.
    std::vector<std::string> origins;
    unsigned origin_timeout_ms = 3000;  // one attempt: connect and the whole 256 KiB chunk
    unsigned origin_fetches = 8;        // origin connections at once per data lcore and port
    unsigned origin_readahead = 2;      // chunks fetched from the one a reader needs on
    unsigned origin_fail_hold_ms = 500;  // a failed fill answers its waiters 502/504 this long
    unsigned origin_stale_if_error_s = 0;  // serve an expired copy this long past expiry if the origin fails
    unsigned origin_keepalive = 8;         // idle origin connections kept per lcore for reuse; 0: off
    unsigned origin_negative_ttl_s = 0;    // remember an origin 404/410 this long; 0: only the fail hold
    // Origin health (docs/origin.md "Health"): a HEAD to every server this
    // often (0: no checks, every server is always tried), the path (empty:
    // the route's prefix), haproxy's rise/fall; names looked up this often.
    unsigned origin_health_interval_ms = 0;
    std::string origin_health_path;
    unsigned origin_health_rise = 2;
    unsigned origin_health_fall = 3;
    unsigned origin_resolve_s = 30;
    // Off-peak push (docs/origin.md "Off-peak push", control/origin_push.h):
    // the popularity list's request path on an origin route (empty: off),
    // the local-time window, the bandwidth cap and the share of the store.
    std::string push_list;
    std::string push_window = "02:00-06:00";
    double push_mbps = 100;          // Mbit/s of chunk fetches the push starts (token bucket)
    unsigned push_share_pct = 50;    // of the store's RAM tier (where filled chunks live)
    long long push_clock_offset_s = 0;  // tests only: seconds added to the clock the window reads
    std::vector<std::string> purge_allow;  // IPv4 networks (A.B.C.D/LEN) HTTP PURGE is accepted from
    unsigned discard_port = 0;      // RFC 863 sink with receipts (edgectl sink); 0: off
    unsigned udp_echo_port = 0;     // RFC 862 echo over UDP; 0: off
    unsigned drain_deadline_s = 5;  // SIGTERM: connections open get this long; 0: stop at once
    unsigned tracker_port = 6969;     // BEP 15 UDP tracker; 0: off
    bool tracker_open = false;        // track any info hash, not only our own torrents
    unsigned tracker_interval_s = 1800;  // announce interval told to clients
    unsigned tracker_min_interval_s = 300;  // HTTP "min interval" (BEP 15 has no field)
    bool tracker_http = true;         // /announce and /scrape on the HTTP port (BEP 3/48)
    unsigned tracker_swarms = 4096;   // swarms per data lcore's shard (power of two)
    unsigned tracker_peers = 128;     // peer slots per swarm per shard
    bool torrents = true;             // make a .torrent for every ingested object
    bool test_ingest_hold = false;    // tests only: hold each ingest mid-title (ingest_worker.h)
    unsigned swarm_port = 6881;       // BitTorrent peer wire (TCP); 0: off
    unsigned swarm_max_conns = 256;   // peer connections per data lcore queue
    unsigned swarm_fetch_ban_after = 2;  // fill mode: bad pieces before a peer is banned
    unsigned swarm_unchoke_slots = 4;  // regular unchokes per data lcore (plus 1 optimistic)
    unsigned swarm_rechoke_s = 10;     // choker rounds (seeding and fill mode)
    unsigned swarm_optimistic_s = 30;  // optimistic unchoke rotation (a multiple of the round)
    std::string swarm_seed_choker = "round-robin";  // seeding choker: round-robin | fastest
    unsigned swarm_upload_mbps = 0;    // upload capacity (Mbit/s); 0: --swarm-unchoke-slots
    unsigned swarm_slot_kbps = 10000;  // with --swarm-upload-mbps: the rate one slot gets
    unsigned dns_port = 0;          // authoritative DNS, UDP and TCP; 0: off
    std::vector<std::string> dns_zones;  // master-format zone files, one zone each
    unsigned dns_max_udp = 1232;    // our EDNS UDP payload size (RFC 6891 6.2.5)
    std::vector<std::string> dns_steer;  // "NAME PREFIX ADDR[,ADDR] [TTL]" (control/dns_zones.h)
    unsigned dns_rrl_rate = 0;      // answers/s per source prefix, class and name; 0: RRL off
    unsigned dns_rrl_slip = 2;      // every Nth limited answer sent truncated; 0: none
    unsigned dns_rrl_v4_prefix = 24;
    unsigned dns_rrl_v6_prefix = 56;
    unsigned dns_rrl_buckets = 16384;  // per data lcore queue, a power of two
    std::string clusters;        // cluster selection's model file (TOML); empty: off
    std::string cluster_policy;  // overrides the file's policy when set
    // HTTP steering by cluster selection (docs/cluster_selection.md "How
    // clients are steered"): on when --clusters and --cluster-self are given.
    std::string cluster_self;             // the model's cluster this appliance is part of
    bool http_redirect = true;            // 302 manifests to the client's better cluster
    double http_redirect_margin_ms = 10;  // ... when it scores this much better than ours
    bool dash_steering = true;            // GET /steer: the DASH content steering manifest
    unsigned dash_steer_ttl_s = 10;       // its TTL
    unsigned dash_steer_min_kbps = 0;     // a player below this on its pathway: demoted; 0 off
    // Active probes of cluster selection (docs/cluster_selection.md "Active
    // probes"): auto = on with --cluster-self and the measured policy.
    std::string probes = "auto";            // auto | on | off
    double probe_rate = 10;                 // probes per second, at most, from this appliance
    double probe_interval_s = 60;           // each target probed again after this
    double probe_retry_s = 600;             // a target that answered nothing: again after this
    unsigned probe_timeout_ms = 1000;       // a probe unanswered this long is lost
    std::string probe_ldns_ports = "53";    // TCP SYN ports for LDNS targets when ICMP is not answered
    std::string probe_client_ports = "80,443";  // ... for client networks' representatives
    // Membership in etcd (control/membership.h); empty etcd: off.
    std::string etcd;                // "HOST:PORT[,HOST:PORT...]" of etcd's client port
    std::string etcd_prefix = "/edgeplane/appliances/";
    unsigned etcd_lease_ttl_s = 5;   // an appliance that stops renewing goes after this
    unsigned etcd_poll_ms = 500;     // how often the member list is read
    std::string appliance_name;      // this appliance's name (default: the host name)
    std::string appliance_cluster;   // the cluster it belongs to (a [[cluster]] of --clusters)
    unsigned dns_tcp_conns = 256;   // DNS over TCP connections per data lcore; 0: UDP only
    unsigned icmp_error_rate = 100;  // ICMP errors (port unreachable) per second per data lcore
    double arp_reachable_s = 60;     // neighbour entries used without a poll this long (RFC 1122 2.3.2.1)
    unsigned tcp_syn_backlog = 1024;
    std::string cache_policy = "default";
    unsigned cache_high_pct = 90;
    unsigned cache_low_pct = 80;
    unsigned access_ring_size = 16384;  // per data lcore, power of two
    std::string access_log;                  // file of one line per response; empty: off
    std::string access_log_format = "combined";  // combined | json
    unsigned access_log_sample = 1;          // log one response in N (per data lcore)
    unsigned access_log_ring = 4096;         // records buffered per data lcore, power of two
    unsigned access_log_dns_interval_s = 10;  // one DNS summary record per lcore this often
    std::vector<std::string> titles;  // "NAME=DIR" or "DIR": ingested at start, new ones on reload
    std::string fault;  // fault injection spec, see dataplane/fault_stage.h
    // Idle back-off of data lcores (dataplane/idle_backoff.h).
    bool idle_backoff = true;
    unsigned idle_sleep_after = 1024;  // empty loop turns in a row before sleeping
    unsigned idle_sleep_max_us = 500;  // the longest sleep
    std::vector<std::string> eal_extra;  // after "--"

    std::vector<PortOptions> port_options;  // derived by parse_config
    std::string check_config;  // --check-config FILE: validate FILE and exit (no EAL)
    std::vector<std::string> argv;  // the command line parse_config read (a reload reads it again)
};

// Parses argv into cfg. Returns -1 to continue, or an exit code (0 after
// --help, non-zero after an error, with the message already printed; 2 for
// every error with --check-config FILE, which reads FILE as --config does).
int parse_config(int argc, char **argv, Config *cfg);

// parse_config on a saved command line (a reload: the --config file is read
// again) with any message in *err instead of on stderr. Returns what
// parse_config returns.
int parse_config_quiet(const std::vector<std::string> &args, Config *cfg, std::string *err);

// A --title value: "NAME=DIR" (objects NAME/...) or "DIR" (no prefix).
void split_title(const std::string &spec, std::string *name, std::string *dir);

// The EAL argument vector for cfg (argv[0] included).
std::vector<std::string> eal_arguments(const Config &cfg);

// Helpers shared with tests.
bool parse_ipv4_prefix(const std::string &s, uint32_t *ip_be, uint32_t *mask_be);
// --purge-allow entries at most (OriginConfig::kMaxPurgeNets).
inline constexpr std::size_t kMaxPurgeNets = 16;
bool parse_ipv4(const std::string &s, uint32_t *ip_be);
bool is_pci_address(const std::string &dev);
std::string ethdev_name(const std::string &device);  // "net_tap0,iface=x" -> "net_tap0"
unsigned free_hugepages();

// Why cfg's RAM tier cannot fit the memory EAL will get (free 2 MiB
// hugepages, or --memory with --no-huge), or "" when it fits.
std::string memory_error(const Config &cfg, unsigned free_hugepages);

}  // namespace ep
