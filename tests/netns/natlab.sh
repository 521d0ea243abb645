#!/usr/bin/env bash
# NAT laboratory for the `nat` suite: a sourceable library (it sources lib.sh for TAP, bg,
# wait_for, gen_keys). Topology, all in namespaces named "$NL*" (NL=mgnat<pid>- by default):
#
#   host (10.I.0.2) -- lan | router (profile) | wan 198.51.100.(16I+2)/28 --+
#                                                                          |  inet (router)
#   coturn ns: 203.0.113.1 + 203.0.113.2 /24 ---- 203.0.113.254 ------------+
#
# Site I (1..15) gets the /28 198.51.100.16I/28 between the internet and its outermost router.
# A `public` site's LAN is 192.0.2.16I/28 (routed, no NAT); NAT sites use 10.I.0.0/24; a
# `cgnat_*` site has a home router (WAN 100.64.I.2/24) behind a carrier router (LAN
# 100.64.I.1/24) that owns the public address. Every router drops unsolicited input on its WAN
# (ct state established,related accepted): see docs/nat-traversal.md, "Emulating NATs in
# namespaces". Nothing is connected to the machine's real interfaces.
#
# Functions (SITE is a short name, [a-z0-9]{1,8}):
#   natlab_internet                      create the internet namespace
#   natlab_coturn [EXTRA_ARGS...]         coturn on 203.0.113.1 and .2 (RFC 5780 on), user/password
#   natlab_site SITE INDEX PROFILE        router(s) + host; PROFILE: public fullcone addr_restricted
#                                         port_restricted symmetric cgnat_double cgnat_symmetric
#   natlab_set_profile SITE PROFILE [flush]   switch a site's NAT at run time (flush: conntrack -F)
#   natlab_block SITE_A SITE_B / natlab_unblock SITE_A SITE_B   DROP in the internet between
#                                         the two sites' public addresses (both directions)
#   natlab_block_count SITE_A SITE_B      packets dropped by that rule so far
#   natlab_ct_timeouts SITE UNREPLIED STREAM   conntrack UDP timeouts (s) in the site's routers
#   natlab_ct_flush SITE [conntrack -D filters...]   forget NAT mappings (rebinding)
#   natlab_count_rule SITE NAME NFT_MATCH...   add a counting rule to the site router's forward path
#   natlab_counter SITE NAME               packets counted by rule NAME in the site router; built in:
#                                         lan-out wan-in to-turn from-turn wan-input-drop adf-drop
#   natlab_turn_allocations / natlab_turn_usage / natlab_turn_relayed_packets   coturn's log:
#                                         allocations made; counters of ended sessions
#   natlab_natdiscovery SITE               turnutils_natdiscovery -m -f from the site host
#   natlab_stun_mapping SITE [LOCAL_PORT]  reflexive address "ip:port" seen by coturn
#   natlab_turn_allocate SITE              Allocate 401 -> 200 from the site host
#   natlab_wggo SITE NAME TUN_ADDR PORT    start wireguard-go in the site host (interface name
#                                         in $WG_IF_<NAME>), key pair $WORK/NAME.{key,pub}
#   mg_site NAME INDEX PROFILE             a site whose host namespace will run meshgate (wan0, lan0)
#   mg_site_conf NAME FILE [MORE]          that gateway's config (STUN server, metrics; MORE lines)
#   natlab_destroy                         kill our processes, delete our namespaces (EXIT trap)
# Accessors: natlab_host_ns natlab_router_ns natlab_host_ip natlab_public_ip (argument SITE).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NL=${NL_PREFIX:-mgnat$$-}
NL_INET=${NL}inet
NL_TURN=${NL}turn
NL_SUPPORT=$MG_ROOT/tests/netns/support
TURN_IP1=203.0.113.1
TURN_IP2=203.0.113.2
TURN_NET=203.0.113.0/24
TURN_USER=user
TURN_PASS=password
TURN_REALM=natlab.test
NL_NAMESPACES=()
declare -A NL_IDX NL_PROFILE NL_ROUTER NL_CARRIER NL_HOST NL_HOSTIP NL_PUBIP NL_WANIP

nl_ns_add() {
  ip netns add "$1" || return 1
  NL_NAMESPACES+=("$1")
  in_ns "$1" ip link set lo up
}

natlab_destroy() {
  stop_started  # before the namespaces go: the processes run in them
  local ns
  for ns in "${NL_NAMESPACES[@]:-}"; do [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null; done
  # Anything left with our unique prefix (a function that failed half-way).
  for ns in $(ip netns list | awk '{print $1}' | grep "^$NL"); do ip netns del "$ns" 2>/dev/null; done
  topo_destroy  # lib.sh: removes $WORK (or keeps it with MG_KEEP_LOGS=1)
}

natlab_host_ns() { echo "${NL_HOST[$1]}"; }
natlab_router_ns() { echo "${NL_ROUTER[$1]}"; }
natlab_host_ip() { echo "${NL_HOSTIP[$1]}"; }
natlab_public_ip() { echo "${NL_PUBIP[$1]}"; }

natlab_internet() {
  nl_ns_add "$NL_INET" || return 1
  in_ns "$NL_INET" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$NL_INET" nft -f - <<EOF || return 1
table ip natlab {
  chain forward { type filter hook forward priority filter; policy accept; }
}
EOF
}

# natlab_coturn [EXTRA_ARGS...]: coturn in its own namespace with two addresses, so that RFC 5780
# (OTHER-ADDRESS, CHANGE-REQUEST) works; Debian's /etc/turnserver.conf is not read (-n).
natlab_coturn() {
  nl_ns_add "$NL_TURN" || return 1
  veth "$NL_INET" turn0 "$NL_TURN" eth0
  in_ns "$NL_INET" ip addr add 203.0.113.254/24 dev turn0
  in_ns "$NL_TURN" ip addr add $TURN_IP1/24 dev eth0
  in_ns "$NL_TURN" ip addr add $TURN_IP2/24 dev eth0
  in_ns "$NL_TURN" ip route add default via 203.0.113.254
  bg "$NL_TURN" turnserver-stdout turnserver -n --no-cli --no-tls --no-dtls \
    --listening-ip=$TURN_IP1 --listening-ip=$TURN_IP2 --relay-ip=$TURN_IP1 --relay-ip=$TURN_IP2 \
    --listening-port=3478 --min-port=49152 --max-port=65535 \
    --lt-cred-mech --user=$TURN_USER:$TURN_PASS --realm=$TURN_REALM \
    --userdb="$WORK/turndb" --pidfile="$WORK/turnserver.pid" \
    --log-file="$WORK/turnserver.log" --simple-log --no-stdout-log --verbose "$@"
  NL_TURN_PID=$(cat "$WORK/turnserver-stdout.pid")
  # Listening on both addresses, main and alternative port.
  wait_for 10 sh -c "ip netns exec $NL_TURN ss -lnu | grep -q '$TURN_IP2:3479'"
}

# nl_router NS WAN_IP/LEN WAN_GW LAN_IP/LEN: a router namespace with interfaces wan and lan, its
# nftables table (input-drop firewall, counters, empty NAT chains) and forwarding.
nl_router() {
  local ns=$1 wan=$2 gw=$3 lan=$4
  in_ns "$ns" ip addr add "$wan" dev wan
  in_ns "$ns" ip addr add "$lan" dev lan
  in_ns "$ns" ip route add default via "$gw"
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$ns" nft -f - <<EOF
table ip natlab {
  set contacted { type ipv4_addr . inet_service . ipv4_addr; flags dynamic,timeout; timeout 120s; }
  chain input { type filter hook input priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" counter drop comment "wan-input-drop"
  }
  chain forward { type filter hook forward priority filter; policy accept;
    iifname "lan" counter comment "lan-out"
    iifname "wan" counter comment "wan-in"
    iifname "lan" ip daddr $TURN_NET counter comment "to-turn"
    iifname "wan" ip saddr $TURN_NET counter comment "from-turn"
    jump count
    jump profile
  }
  chain count { }
  chain profile { }
  chain prerouting { type nat hook prerouting priority dstnat; }
  chain postrouting { type nat hook postrouting priority srcnat; }
}
EOF
}

# nl_apply NS PROFILE WAN_ADDR HOST_ADDR: (re)write the NAT and filter chains of a router.
nl_apply() {
  local ns=$1 profile=$2 wanip=$3 host=$4 rules
  rules="flush chain ip natlab profile
flush chain ip natlab prerouting
flush chain ip natlab postrouting
flush set ip natlab contacted
"
  case $profile in
    public) ;;
    fullcone)  # EIM + EIF: one LAN host, every inbound UDP port goes to it
      rules+="add rule ip natlab postrouting oifname \"wan\" snat to $wanip
add rule ip natlab prerouting iifname \"wan\" meta l4proto udp dnat to $host
" ;;
    addr_restricted)  # EIM + ADF: inbound allowed from a remote IP this mapping has sent to
      rules+="add rule ip natlab postrouting oifname \"wan\" snat to $wanip
add rule ip natlab prerouting iifname \"wan\" meta l4proto udp dnat to $host
add rule ip natlab profile iifname \"lan\" meta l4proto udp update @contacted { ip saddr . udp sport . ip daddr }
add rule ip natlab profile iifname \"wan\" meta l4proto udp ct state new ip daddr . udp dport . ip saddr != @contacted counter drop comment \"adf-drop\"
" ;;
    port_restricted)  # EIM + APDF: Linux MASQUERADE (ports preserved when free)
      rules+="add rule ip natlab postrouting oifname \"wan\" masquerade
" ;;
    symmetric)  # APDM + APDF: random source port per new flow
      rules+="add rule ip natlab postrouting oifname \"wan\" masquerade fully-random
" ;;
    *) echo "natlab: unknown profile $profile" >&2; return 1 ;;
  esac
  printf '%s' "$rules" | in_ns "$ns" nft -f -
}

# natlab_site SITE INDEX PROFILE
natlab_site() {
  local site=$1 i=$2 profile=$3
  local r=${NL}r-$site h=${NL}h-$site pub=198.51.100.$((16 * i + 2)) inetip=198.51.100.$((16 * i + 1))
  NL_IDX[$site]=$i NL_PROFILE[$site]=$profile NL_ROUTER[$site]=$r NL_HOST[$site]=$h NL_PUBIP[$site]=$pub
  nl_ns_add "$r" && nl_ns_add "$h" || return 1
  local outer=$r
  case $profile in
    cgnat_*) outer=${NL}c-$site; NL_CARRIER[$site]=$outer; nl_ns_add "$outer" || return 1
             veth "$outer" lan "$r" wan ;;
  esac
  veth "$NL_INET" "s$site" "$outer" wan
  in_ns "$NL_INET" ip addr add "$inetip/28" dev "s$site"
  veth "$r" lan "$h" eth0
  local lanpfx hostip
  case $profile in
    public)
      lanpfx=192.0.2.$((16 * i)) hostip=192.0.2.$((16 * i + 2))
      nl_router "$r" "$pub/28" "$inetip" "192.0.2.$((16 * i + 1))/28" || return 1
      in_ns "$NL_INET" ip route add "$lanpfx/28" via "$pub"
      in_ns "$h" ip addr add "$hostip/28" dev eth0
      in_ns "$h" ip route add default via "192.0.2.$((16 * i + 1))"
      NL_WANIP[$site]=$pub ;;
    cgnat_double | cgnat_symmetric)
      local c=${NL_CARRIER[$site]}
      nl_router "$c" "$pub/28" "$inetip" "100.64.$i.1/24" || return 1
      nl_router "$r" "100.64.$i.2/24" "100.64.$i.1" "10.$i.0.1/24" || return 1
      hostip=10.$i.0.2
      in_ns "$h" ip addr add "$hostip/24" dev eth0
      in_ns "$h" ip route add default via "10.$i.0.1"
      NL_WANIP[$site]=100.64.$i.2 ;;
    *)
      hostip=10.$i.0.2
      nl_router "$r" "$pub/28" "$inetip" "10.$i.0.1/24" || return 1
      in_ns "$h" ip addr add "$hostip/24" dev eth0
      in_ns "$h" ip route add default via "10.$i.0.1"
      NL_WANIP[$site]=$pub ;;
  esac
  NL_HOSTIP[$site]=$hostip
  natlab_set_profile "$site" "$profile"
}

# natlab_set_profile SITE PROFILE [flush]: a cgnat_* site switches between cgnat_double and
# cgnat_symmetric (the carrier's NAT); the others between the five single-router profiles.
# Existing conntrack entries keep their old translation unless "flush" is given.
natlab_set_profile() {
  local site=$1 profile=$2 flush=${3:-}
  case $profile in
    cgnat_double | cgnat_symmetric)
      [ -n "${NL_CARRIER[$site]:-}" ] || { echo "natlab: $site has no carrier router" >&2; return 1; }
      nl_apply "${NL_ROUTER[$site]}" port_restricted "${NL_WANIP[$site]}" "${NL_HOSTIP[$site]}" || return 1
      local carrier=port_restricted
      [ "$profile" = cgnat_symmetric ] && carrier=symmetric
      nl_apply "${NL_CARRIER[$site]}" $carrier "${NL_PUBIP[$site]}" "" || return 1 ;;
    *)
      [ -z "${NL_CARRIER[$site]:-}" ] || { echo "natlab: $site is a cgnat site" >&2; return 1; }
      nl_apply "${NL_ROUTER[$site]}" "$profile" "${NL_WANIP[$site]}" "${NL_HOSTIP[$site]}" || return 1 ;;
  esac
  NL_PROFILE[$site]=$profile
  [ "$flush" = flush ] && natlab_ct_flush "$site"
  return 0
}

nl_site_routers() { echo "${NL_ROUTER[$1]}" ${NL_CARRIER[$1]:-}; }

natlab_ct_flush() {
  local site=$1 ns; shift
  for ns in $(nl_site_routers "$site"); do
    if [ $# -gt 0 ]; then in_ns "$ns" conntrack -D "$@" >/dev/null 2>&1
    else in_ns "$ns" conntrack -F >/dev/null 2>&1; fi
  done
  return 0
}

natlab_ct_timeouts() {
  local site=$1 unreplied=$2 stream=$3 ns
  for ns in $(nl_site_routers "$site"); do
    in_ns "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$unreplied" \
      net.netfilter.nf_conntrack_udp_timeout_stream="$stream" || return 1
  done
}

natlab_block() {
  local a=${NL_PUBIP[$1]} b=${NL_PUBIP[$2]}
  in_ns "$NL_INET" nft add rule ip natlab forward ip saddr "$a" ip daddr "$b" counter drop comment "\"block-$1-$2\"" &&
    in_ns "$NL_INET" nft add rule ip natlab forward ip saddr "$b" ip daddr "$a" counter drop comment "\"block-$1-$2\""
}

natlab_unblock() {
  local h
  for h in $(in_ns "$NL_INET" nft -a list chain ip natlab forward | sed -n "s/.*comment \"block-$1-$2\" # handle \([0-9]*\)/\1/p"); do
    in_ns "$NL_INET" nft delete rule ip natlab forward handle "$h"
  done
}

# nl_rule_packets NS NAME: sum of the packet counters of the rules commented NAME in table natlab.
nl_rule_packets() {
  in_ns "$1" nft list table ip natlab |
    awk -v c="comment \"$2\"" 'index($0, c) { for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}

natlab_block_count() { nl_rule_packets "$NL_INET" "block-$1-$2"; }

natlab_count_rule() {
  local site=$1 name=$2; shift 2
  in_ns "${NL_ROUTER[$site]}" nft add rule ip natlab count "$@" counter comment "\"$name\""
}

natlab_counter() { nl_rule_packets "${NL_ROUTER[$1]}" "$2"; }

# coturn's log (--verbose): one "ALLOCATE processed, success" line per allocation; when a
# session ends (Refresh with LIFETIME 0, or expiry), one "usage: ... rp=N, rb=N, sp=N, sb=N"
# line with its packet and byte counters. Live allocations are not reported.
natlab_turn_allocations() { awk '/ALLOCATE processed, success/ { n++ } END { print n + 0 }' "$WORK/turnserver.log" 2>/dev/null; }
# natlab_turn_usage: one line per ended session and side, "client|peer rp=.. rb=.. sp=.. sb=..":
# "client" counts the client <-> server leg, "peer" the relay <-> peers leg.
natlab_turn_usage() {
  sed -n 's/.*: \(peer \)\{0,1\}usage: .*rp=\([0-9]*\), rb=\([0-9]*\), sp=\([0-9]*\), sb=\([0-9]*\).*/\1rp=\2 rb=\3 sp=\4 sb=\5/p' \
    "$WORK/turnserver.log" 2>/dev/null | sed 's/^rp/client rp/'
}
# natlab_turn_relayed_packets: packets the relays exchanged with peers, over the ended sessions.
natlab_turn_relayed_packets() {
  natlab_turn_usage | awk '$1 == "peer" { split($2, r, "="); split($4, t, "="); s += r[2] + t[2] } END { print s + 0 }'
}

# mg_site NAME INDEX PROFILE: a natlab site whose host namespace is a meshgate gateway: its link
# to the router becomes the outer port (wan0, no kernel address: meshgate answers ARP itself) and
# a veth to a LAN namespace the inner port (lan0).
mg_site() {
  local name=$1 i=$2 profile=$3 h lan
  natlab_site "$name" "$i" "$profile" || return 1
  h=$(natlab_host_ns "$name") lan=${NL}l-$name
  nl_ns_add "$lan" || return 1
  in_ns "$h" ip addr flush dev eth0
  in_ns "$h" ip link set eth0 down
  in_ns "$h" ip link set eth0 name wan0
  in_ns "$h" ip link set wan0 up
  veth "$h" lan0 "$lan" eth0
}

# mg_site_conf NAME FILE [MORE]: the gateway's config: no peers, coturn's first address as its
# STUN server, metrics on loopback; MORE (lines) is appended to [Gateway].
mg_site_conf() {
  local name=$1 file=$2 more=${3:-} i=${NL_IDX[$1]} hostip router prefix
  hostip=$(natlab_host_ip "$name")
  if [ "${NL_PROFILE[$name]}" = public ]; then
    router=192.0.2.$((16 * i + 1)) prefix=28
  else
    router=10.$i.0.1 prefix=24
  fi
  gen_keys "$name"
  cat >"$file" <<CONF
[Interface]
PrivateKey = $(cat "$WORK/$name.key")
ListenPort = 51820
[Gateway]
InnerAddress = 10.200.$i.1/24
OuterAddress = $hostip/$prefix
OuterGateway = $router
IdleBackoff = on
Profile = $MG_ROOT/dpdk-configs/veth-af-packet.profile
StunServer = $TURN_IP1:3478
MetricsListen = 127.0.0.1:9586
CONF
  [ -z "$more" ] || printf '%s\n' "$more" >>"$file"
}

# natlab_natdiscovery SITE: the oracle's text (mapping and filtering tests).
natlab_natdiscovery() {
  in_ns "${NL_HOST[$1]}" timeout 60 turnutils_natdiscovery -m -f -L "${NL_HOSTIP[$1]}" $TURN_IP1 2>&1
}

natlab_stun_mapping() {
  local bind=()
  [ -n "${2:-}" ] && bind=(--bind "0.0.0.0:$2")
  in_ns "${NL_HOST[$1]}" python3 "$NL_SUPPORT/turn_client.py" binding $TURN_IP1 "${bind[@]}"
}

natlab_turn_allocate() {
  in_ns "${NL_HOST[$1]}" python3 "$NL_SUPPORT/turn_client.py" allocate $TURN_IP1 \
    --user $TURN_USER --password $TURN_PASS
}

# natlab_wggo SITE NAME TUN_ADDR/LEN PORT: wireguard-go in the site host with a fresh key pair
# ($WORK/NAME.key, $WORK/NAME.pub), listening on PORT, tunnel address TUN_ADDR. The interface
# name (unique to this run: UAPI sockets in /var/run/wireguard are shared) is in WG_IF_NAME.
NL_WG_N=0
natlab_wggo() {
  local site=$1 name=$2 addr=$3 port=$4 ns=${NL_HOST[$1]} ifn
  NL_WG_N=$((NL_WG_N + 1))
  ifn=mgnw$$x$NL_WG_N
  printf -v "WG_IF_$name" '%s' "$ifn"
  gen_keys "$name"
  bg "$ns" "wggo-$name" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f "$ifn"
  wait_for 10 in_ns "$ns" ip link show "$ifn" || return 1
  in_ns "$ns" wg set "$ifn" private-key "$WORK/$name.key" listen-port "$port" || return 1
  in_ns "$ns" ip addr add "$addr" dev "$ifn"
  in_ns "$ns" ip link set "$ifn" mtu 1420 up
}
