"""meshgate-eal: DPDK EAL profiles for meshgate (tools/meshgate-eal)."""
