#!/usr/bin/env bash
# `meshgate --check-config`: a good config passes, a bad one names file, line and problem and
# exits non-zero; no EAL, no root.
set -u
MG_BIN=${MG_BIN:?}
MG_ROOT=${MG_ROOT:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

key=$(head -c 32 /dev/urandom | base64)
pub=$(head -c 32 /dev/urandom | base64)
cat >"$T/site.conf" <<C
[Interface]
PrivateKey = $key
ListenPort = 51820
[Peer]
PublicKey = $pub
AllowedIPs = 10.2.0.0/24
Endpoint = 203.0.113.2:51820
[Gateway]
InnerAddress = 10.1.0.1/24
OuterAddress = 198.51.100.2/24
Profile = $MG_ROOT/dpdk-configs/veth-af-packet.profile
C
out=$("$MG_BIN" --check-config "$T/site.conf" 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -q "ok (1 peers, 1 workers"; then ok "a valid config passes: $out"; else bad "a valid config passes: $out"; fi

sed 's/^AllowedIPs = 10.2.0.0\/24/AllowedIPs = 10.2.0.0\/33/' "$T/site.conf" >"$T/bad.conf"
out=$("$MG_BIN" --check-config "$T/bad.conf" 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "bad.conf:6:.*10.2.0.0/33"; then ok "a bad prefix names file and line: $out"; else bad "a bad prefix names file and line (rc $rc): $out"; fi

printf '[Interface]\nPrivateKey = %s\nBogus = 1\n' "$key" >"$T/unknown.conf"
out=$("$MG_BIN" --check-config "$T/unknown.conf" 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "unknown.conf:3:.*Bogus"; then ok "an unknown key names file and line: $out"; else bad "an unknown key names file and line (rc $rc): $out"; fi

out=$("$MG_BIN" --check-config "$T/missing.conf" 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "missing.conf"; then ok "a missing file is named: $out"; else bad "a missing file is named (rc $rc): $out"; fi

out=$("$MG_BIN" --strip "$T/site.conf" 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -qF "PrivateKey = $key" && echo "$out" | grep -q "^Endpoint = 203.0.113.2:51820" \
   && ! echo "$out" | grep -qi "gateway\|InnerAddress"; then
  ok "--strip prints the wg part only"; else bad "--strip prints the wg part only: $out"; fi

out=$("$MG_BIN" 2>&1)
if [ $? -eq 2 ] && echo "$out" | grep -q usage; then ok "no arguments prints usage and exits 2"; else bad "no arguments prints usage"; fi
echo "1..$n"
[ $failed -eq 0 ]
