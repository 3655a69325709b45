"""Cluster selection shared by the integration tests that steer clients
(test_clusters.py, test_dash.py): a two-cluster geo model with this
appliance as "paris" and a plain HTTP server in the test's namespace as
"london", the client locations the geo policy reads, and waiting for that
server to answer."""

import time

# Paris (this appliance, 40 Gbit/s) and London (the namespace's server,
# 400 Gbit/s; its http_host is that server's address and port). `names`:
# [[name]] owners the model steers (DNS), none by default.
_MODEL = """
policy = "geo"
clients = "clients.csv"
recompute_s = 3600

[[cluster]]
name = "paris"
lat = 48.86
lon = 2.35
capacity_gbps = 40
v4 = ["{ep_ip}"]

[[cluster]]
name = "london"
lat = 51.51
lon = -0.13
capacity_gbps = 400
v4 = ["{host_ip}"]
http_host = "{host_ip}:{port}"
"""


def paris_london_model(ep, port, names=()):
    """The model's TOML for appliance `ep` (an Edgeplane) and a London
    server on the namespace's address at `port`."""
    text = _MODEL.format(ep_ip=ep.ip, host_ip=ep.host_ip, port=port)
    for owner in names:
        text += f'\n[[name]]\nowner = "{owner}"\n'
    return text


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
