#!/usr/bin/env python3
"""Test-only STUN/TURN client for the NAT laboratory (tests/netns/natlab.sh). Standard library only.

Not meshgate code and not a model for it: just enough RFC 8489 / RFC 8656 over UDP to prove the
lab works (long-term credentials, MESSAGE-INTEGRITY with HMAC-SHA1, no FINGERPRINT).

  binding  SERVER [--bind IP:PORT]          print the reflexive address "ip:port"
  allocate SERVER --user U --password P     Allocate: expect 401, then 200; print both steps
  relay    SERVER --user U --password P --peer-ip IP --listen PORT --wg IP:PORT --relayed-file F
      Allocate, CreatePermission(peer IP), write the relayed address "ip:port" to F, then
      forward: Data indications / ChannelData from the relay go to the local WireGuard (WG) from
      127.0.0.1:PORT; what WG sends to 127.0.0.1:PORT goes to the peer (Send indications until
      ChannelBind 0x4000 succeeds, ChannelData after). The peer's port is learnt from its first
      Data indication (the permission is by IP only, so a symmetric NAT's random port is fine).
SERVER is IP or IP:PORT (default port 3478).
"""
import argparse
import hashlib
import hmac
import os
import select
import signal
import socket
import struct
import sys

MAGIC = 0x2112A442
BINDING, ALLOCATE, REFRESH, CREATE_PERM, CHANNEL_BIND = 0x0001, 0x0003, 0x0004, 0x0008, 0x0009
SEND_IND, DATA_IND = 0x0016, 0x0017
A_USERNAME, A_MI, A_ERROR, A_CHANNEL, A_LIFETIME = 0x0006, 0x0008, 0x0009, 0x000C, 0x000D
A_PEER, A_DATA, A_REALM, A_NONCE, A_RELAYED = 0x0012, 0x0013, 0x0014, 0x0015, 0x0016
A_TRANSPORT, A_XOR_MAPPED, A_MAPPED = 0x0019, 0x0020, 0x0001
CHANNEL = 0x4000


def log(*a):
    print("turn_client:", *a, file=sys.stderr, flush=True)


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)


def message(mtype, tid, attrs, key=None):
    body = b"".join(attrs)
    if key is not None:  # the length field covers MESSAGE-INTEGRITY (24 bytes) when it is computed
        head = struct.pack("!HHI", mtype, len(body) + 24, MAGIC) + tid
        body += attr(A_MI, hmac.new(key, head + body, hashlib.sha1).digest())
    return struct.pack("!HHI", mtype, len(body), MAGIC) + tid + body


def parse(data):
    if len(data) < 20:
        return None
    mtype, length, cookie = struct.unpack("!HHI", data[:8])
    if cookie != MAGIC or mtype & 0xC000 or 20 + length > len(data):
        return None
    attrs, off = {}, 20
    while off + 4 <= 20 + length:
        t, n = struct.unpack("!HH", data[off:off + 4])
        attrs.setdefault(t, data[off + 4:off + 4 + n])
        off += 4 + n + (4 - n % 4) % 4
    return mtype, data[8:20], attrs


def xor_addr(ip, port):
    x = bytes(a ^ b for a, b in zip(socket.inet_aton(ip), struct.pack("!I", MAGIC)))
    return struct.pack("!BBH", 0, 1, port ^ 0x2112) + x


def peer_attr(ip, port):
    return attr(A_PEER, xor_addr(ip, port))


def get_addr(attrs, xor_type, plain_type=None):
    v = attrs.get(xor_type)
    if v is not None and len(v) >= 8 and v[1] == 1:
        ip = bytes(a ^ b for a, b in zip(v[4:8], struct.pack("!I", MAGIC)))
        return socket.inet_ntoa(ip), struct.unpack("!H", v[2:4])[0] ^ 0x2112
    v = attrs.get(plain_type) if plain_type else None
    if v is not None and len(v) >= 8 and v[1] == 1:
        return socket.inet_ntoa(v[4:8]), struct.unpack("!H", v[2:4])[0]
    return None


def error_code(attrs):
    v = attrs.get(A_ERROR)
    return (v[2] & 7) * 100 + v[3] if v and len(v) >= 4 else None


def transact(sock, server, mtype, attrs, key=None, tries=6):
    """One request, retransmitted from 0.5 s, doubling. Returns (type, attrs)."""
    tid = os.urandom(12)
    pkt = message(mtype, tid, attrs, key)
    rto = 0.5
    for _ in range(tries):
        sock.sendto(pkt, server)
        while True:
            r, _, _ = select.select([sock], [], [], rto)
            if not r:
                break
            data, src = sock.recvfrom(65535)
            m = parse(data)
            if src == server and m and m[1] == tid:
                return m[0], m[2]
        rto *= 2
    raise TimeoutError("no answer from %s:%d to 0x%04x" % (server + (mtype,)))


def server_addr(s):
    host, _, port = s.partition(":")
    return host, int(port or 3478)


class Session:
    """A TURN allocation with long-term credentials."""

    def __init__(self, sock, server, user, password):
        self.sock, self.server, self.user = sock, server, user.encode()
        self.password = password.encode()
        self.realm = self.nonce = self.key = None

    def auth(self):
        return [attr(A_USERNAME, self.user), attr(A_REALM, self.realm), attr(A_NONCE, self.nonce)]

    def request(self, mtype, attrs):
        for _ in range(3):  # 438 Stale Nonce: retry with the new nonce
            t, a = transact(self.sock, self.server, mtype, attrs + self.auth(), self.key)
            if t & 0x0110 == 0x0110 and error_code(a) == 438 and A_NONCE in a:
                self.nonce = a[A_NONCE]
                continue
            return t, a
        return t, a

    def allocate(self):
        transport = attr(A_TRANSPORT, b"\x11\0\0\0")
        t, a = transact(self.sock, self.server, ALLOCATE, [transport])
        if t != 0x0113 or error_code(a) != 401:
            raise RuntimeError("Allocate without credentials: expected 401, got 0x%04x %s" % (t, error_code(a)))
        self.realm, self.nonce = a[A_REALM], a[A_NONCE]
        self.key = hashlib.md5(self.user + b":" + self.realm + b":" + self.password).digest()
        log("Allocate#1 -> 401 realm=%s" % self.realm.decode())
        t, a = self.request(ALLOCATE, [transport])
        if t != 0x0103:
            raise RuntimeError("authenticated Allocate: 0x%04x error %s" % (t, error_code(a)))
        relayed = get_addr(a, A_RELAYED)
        mapped = get_addr(a, A_XOR_MAPPED)
        life = struct.unpack("!I", a[A_LIFETIME])[0] if A_LIFETIME in a else 0
        log("Allocate#2 -> 200 relayed=%s:%d mapped=%s:%d lifetime=%d" % (relayed + mapped + (life,)))
        return relayed, mapped


def cmd_binding(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if args.bind:
        ip, _, port = args.bind.partition(":")
        sock.bind((ip, int(port or 0)))
    t, a = transact(sock, server_addr(args.server), BINDING, [])
    addr = get_addr(a, A_XOR_MAPPED, A_MAPPED)
    if t != 0x0101 or not addr:
        raise RuntimeError("Binding: 0x%04x" % t)
    print("%s:%d" % addr)


def cmd_allocate(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    relayed, mapped = Session(sock, server_addr(args.server), args.user, args.password).allocate()
    print("relayed=%s:%d mapped=%s:%d" % (relayed + mapped))


def cmd_relay(args):
    server = server_addr(args.server)
    ts = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s = Session(ts, server, args.user, args.password)
    relayed, _ = s.allocate()
    t, _ = s.request(CREATE_PERM, [peer_attr(args.peer_ip, 0)])
    if t != 0x0108:
        raise RuntimeError("CreatePermission: 0x%04x" % t)
    log("CreatePermission(%s) -> 200" % args.peer_ip)
    ls = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ls.bind(("127.0.0.1", args.listen))
    wg_ip, _, wg_port = args.wg.partition(":")
    wg = (wg_ip, int(wg_port))
    tmp = args.relayed_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%s:%d\n" % relayed)
    os.rename(tmp, args.relayed_file)
    peer, bound, bind_tid = None, False, None
    stats = {"data_ind": 0, "chandata_in": 0, "send_ind": 0, "chandata_out": 0}

    def stop(*_):
        log("stats " + " ".join("%s=%d" % kv for kv in stats.items()))
        # Refresh LIFETIME=0 deletes the allocation; coturn then logs the session's usage.
        try:
            t, _ = s.request(REFRESH, [attr(A_LIFETIME, struct.pack("!I", 0))])
            log("Refresh lifetime 0 -> 0x%04x" % t)
        except (TimeoutError, OSError) as e:
            log("Refresh lifetime 0:", e)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        r, _, _ = select.select([ts, ls], [], [])
        if ts in r:
            data, src = ts.recvfrom(65535)
            if src != server or not data:
                continue
            if 0x40 <= data[0] <= 0x4F and len(data) >= 4:  # ChannelData
                ch, n = struct.unpack("!HH", data[:4])
                if ch == CHANNEL:
                    ls.sendto(data[4:4 + n], wg)
                    stats["chandata_in"] += 1
                continue
            m = parse(data)
            if not m:
                continue
            mtype, tid, a = m
            if mtype == DATA_IND:
                p = get_addr(a, A_PEER)
                if p and A_DATA in a:
                    ls.sendto(a[A_DATA], wg)
                    stats["data_ind"] += 1
                    if p != peer and not bound:
                        peer = p
                        log("Data indication from %s:%d -> ChannelBind 0x%04x" % (p + (CHANNEL,)))
                        bind_tid = os.urandom(12)
                        attrs = [attr(A_CHANNEL, struct.pack("!HH", CHANNEL, 0)), peer_attr(*peer)] + s.auth()
                        ts.sendto(message(CHANNEL_BIND, bind_tid, attrs, s.key), server)
            elif tid == bind_tid:
                if mtype == 0x0109:
                    bound = True
                    log("ChannelBind -> 200; ChannelData from now on")
                else:
                    log("ChannelBind -> 0x%04x error %s; staying on Send indications" % (mtype, error_code(a)))
        if ls in r:
            data, src = ls.recvfrom(65535)
            if peer is None:
                continue  # the peer's port is not known yet: it must send first
            if bound:
                ts.sendto(struct.pack("!HH", CHANNEL, len(data)) + data, server)
                stats["chandata_out"] += 1
            else:
                ts.sendto(message(SEND_IND, os.urandom(12), [peer_attr(*peer), attr(A_DATA, data)]), server)
                stats["send_ind"] += 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("binding")
    b.add_argument("server")
    b.add_argument("--bind")
    for name in ("allocate", "relay"):
        q = sub.add_parser(name)
        q.add_argument("server")
        q.add_argument("--user", required=True)
        q.add_argument("--password", required=True)
        if name == "relay":
            q.add_argument("--peer-ip", required=True)
            q.add_argument("--listen", type=int, required=True)
            q.add_argument("--wg", required=True)
            q.add_argument("--relayed-file", required=True)
    args = p.parse_args()
    try:
        {"binding": cmd_binding, "allocate": cmd_allocate, "relay": cmd_relay}[args.cmd](args)
    except (RuntimeError, TimeoutError, OSError) as e:
        log("error:", e)
        sys.exit(1)


if __name__ == "__main__":
    main()
