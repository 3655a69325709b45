"""Cluster selection shared by the integration tests that steer clients
(test_clusters.py, test_dash.py): a two-cluster geo model with this
appliance as "paris" and a plain HTTP server in the test's namespace as
"london", the client locations the geo policy reads, and waiting for that
server to answer; and the clusters-file tables the other cluster tests
(test_membership.py, test_passive_measurement.py, test_probes.py,
sixstep_world.py) build their models from."""

import json
import time

# Where the tests' clusters stand: the geo policy's distances come from these.
CITIES = {"paris": (48.86, 2.35), "london": (51.51, -0.13), "newyork": (40.71, -74.0)}


def _toml_value(v):
    # A JSON string or list of strings is a TOML basic string or array.
    return json.dumps(v) if isinstance(v, (str, list)) else str(v)


def cluster_table(name, v4, gbps=40, **keys):
    """One [[cluster]] table of a clusters file (docs/cluster_selection.md):
    `name` at its city in CITIES, `v4` its addresses, `gbps` its capacity;
    `keys` any further keys (kind, v6, http_host) in the order given."""
    lat, lon = CITIES[name]
    fields = {"name": name, "lat": lat, "lon": lon, "capacity_gbps": gbps, "v4": list(v4), **keys}
    return "[[cluster]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in fields.items())


def clusters_toml(settings, clusters, names=()):
    """A clusters file: the top-level `settings` (TOML lines, comments kept),
    then the cluster tables, then one [[name]] table per `names` entry (an
    owner, or an (owner, ttl) pair)."""
    text = settings.strip("\n") + "\n"
    for table in clusters:
        text += "\n" + table
    for n in names:
        owner, ttl = n if isinstance(n, tuple) else (n, None)
        text += f'\n[[name]]\nowner = "{owner}"\n' + (f"ttl = {ttl}\n" if ttl is not None else "")
    return text


def paris_london_model(ep, port, names=()):
    """The geo model of the steering tests: Paris is appliance `ep` (an
    Edgeplane, 40 Gbit/s), London the namespace's HTTP server at `port`
    (400 Gbit/s, its http_host that address and port); `names`: the [[name]]
    owners it steers (DNS), none by default."""
    return clusters_toml('policy = "geo"\nclients = "clients.csv"\nrecompute_s = 3600',
                         [cluster_table("paris", [ep.ip]),
                          cluster_table("london", [ep.host_ip], gbps=400,
                                        http_host=f"{ep.host_ip}:{port}")],
                         names)


def clients_csv(ep, paris_client=None):
    """clients.csv: the namespace's own address is a London client;
    `paris_client`, if given, a Paris one."""
    text = f"prefix,lat,lon\n{ep.host_ip}/32,51.50,-0.12\n"
    if paris_client:
        text += f"{paris_client}/32,48.85,2.35\n"
    return text


def wait_for_server(ep, url, tries=100):
    """Until `url` answers from inside the namespace (the London server has
    started), at most `tries` times 0.1 s apart."""
    for _ in range(tries):
        if ep.ns_run(["curl", "-sS", "-o", "/dev/null", "-m", "2", url], check=False).returncode == 0:
            return
        time.sleep(0.1)
