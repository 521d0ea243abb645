#!/usr/bin/env bash
# A profile that meshgate-eal generates inside each gateway's namespace (where /sys/class/net
# shows that namespace's veth ends lan0 and wan0) passes `meshgate-eal check` there, loads in
# meshgate, starts both gateways and carries pings between the two sites.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
EAL="$MG_ROOT/tools/meshgate-eal"

# gen_profile NS FILE: generate for the namespace's host view, then check it there.
gen_profile() {
  local ns=$1 file=$2
  in_ns "$ns" "$EAL" --root / generate --inner lan0 --outer wan0 -o "$file" || return 1
  sed 's/^/#   /' "$file" | grep -v '^#   #'
}

# has_lines FILE LINE...: every LINE is a line of FILE.
has_lines() { local f=$1 l; shift; for l in "$@"; do grep -qxF -- "$l" "$f" || { echo "missing: $l"; return 1; }; done; }

topo_create
gen_keys a; gen_keys b
check "meshgate-eal generates a profile in site A's namespace" gen_profile $NS_GA "$WORK/a.profile"
check "meshgate-eal generates a profile in site B's namespace" gen_profile $NS_GB "$WORK/b.profile"
check "the profile uses AF_PACKET on lan0 (inner) and wan0 (outer), workers + 1 queue pairs" \
  has_lines "$WORK/a.profile" "no-huge = true" "no-pci = true" "iova-mode = va" \
  "vdev = net_af_packet0,iface=lan0,qpairs=2" "vdev = net_af_packet1,iface=wan0,qpairs=2" \
  "inner = net_af_packet0" "outer = net_af_packet1" "workers = 1" "idle-backoff = true"
check "every setting has its comment" awk '!/^#/ && /=/ && prev !~ /^#/ {bad=1; print} {prev=$0} END {exit bad}' "$WORK/a.profile"
check "meshgate-eal check finds no problem in site A's namespace" in_ns $NS_GA "$EAL" check "$WORK/a.profile"

# Tunnels named after this run: EAL runtime directories and UAPI sockets are shared by all
# namespaces, and other gateways on this machine may be called a and b.
CONF_A="$WORK/ea$S.conf" CONF_B="$WORK/eb$S.conf"
MG_PROFILE="$WORK/a.profile" mg_conf "$CONF_A" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
MG_PROFILE="$WORK/b.profile" mg_conf "$CONF_B" b a "$SITE_A_LAN" "" "$SITE_B_INNER" "$SITE_B_OUTER" "$SITE_B_GW"
check "meshgate --check-config accepts the generated profile" "$MG_BIN" --check-config "$CONF_A"
check "meshgate starts at site A on the generated profile" start_meshgate $NS_GA mga "$CONF_A"
check "meshgate starts at site B on the generated profile" start_meshgate $NS_GB mgb "$CONF_B"
check "ping IPv4 A->B through the tunnel" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 10.2.0.2
check "ping IPv4 B->A through the tunnel" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 10.1.0.2
check "ping IPv6 A->B through the tunnel" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 fd02::2
check "meshgate A stops cleanly on SIGTERM" stop_meshgate mga
check "meshgate B stops cleanly on SIGTERM" stop_meshgate mgb
# EAL leaves its runtime directory behind; these two are named after this run's tunnels.
rm -rf "/var/run/dpdk/meshgate-ea$S" "/var/run/dpdk/meshgate-eb$S"
tap_end
