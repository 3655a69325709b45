#include "control/port_stats.h"

#include <rte_ethdev.h>
#include <rte_mempool.h>

namespace ep {

void visit_port_counters(const Port &p, const CounterVisitor &fn) {
    rte_eth_stats st{};
    if (rte_eth_stats_get(p.id, &st) != 0) st = rte_eth_stats{};
    fn({"rx_packets", "frames the driver received", st.ipackets});
    fn({"tx_packets", "frames the driver sent", st.opackets});
    fn({"rx_missed", "frames the driver dropped: the RX ring was full", st.imissed});
    fn({"rx_errors", "frames the driver received with errors", st.ierrors});
    fn({"tx_errors", "frames the driver failed to send", st.oerrors});
    fn({"rx_nombuf", "RX ring refills that found the mbuf pool empty", st.rx_nombuf});
    // What the driver offers and what is used (the start log names the bits).
    fn({"tx_offload_capa", "RTE_ETH_TX_OFFLOAD_* bits the driver offers", p.tx_offload_capa, true});
    fn({"tx_offload_on", "RTE_ETH_TX_OFFLOAD_* bits enabled on the port", p.tx_offload, true});
    fn({"rx_offload_capa", "RTE_ETH_RX_OFFLOAD_* bits the driver offers", p.rx_offload_capa, true});
    fn({"rx_offload_on", "RTE_ETH_RX_OFFLOAD_* bits enabled on the port", p.rx_offload, true});
    fn({"tso_on", "1 when TCP segmentation offload is used on the port",
        (p.tx_offload & RTE_ETH_TX_OFFLOAD_TCP_TSO) ? 1u : 0u, true});
}

void visit_pool_gauges(const rte_mempool *pool, uint32_t size, const CounterVisitor &fn) {
    fn({"mbufs", "mbufs in the pool (--mbufs)", size, true});
    fn({"mbufs_in_use", "mbufs out of the pool: rings, lcore caches, packets in flight",
        pool ? rte_mempool_in_use_count(pool) : 0, true});
}

}  // namespace ep
