#!/usr/bin/env python3
"""An 802.1Q access port in user space, for namespaces whose kernel has no 8021q module.

    vlan_switch.py ACCESS TRUNK VID

Frames that arrive on ACCESS (untagged) leave on TRUNK tagged with VID; frames that arrive on
TRUNK tagged with VID leave on ACCESS untagged; everything else on TRUNK (untagged, other VLANs)
is dropped and counted. The kernel takes a received tag off the frame and reports it beside it
(PACKET_AUXDATA), so the tag is read from there or, when still present, from the frame.
Prints its counters on SIGTERM.
"""
import select
import signal
import socket
import struct
import sys

SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4  # sll_pkttype of our own transmissions, seen by a packet socket
TP_STATUS_VLAN_VALID = 1 << 4
ETH_P_ALL = 0x0003
TPID = 0x8100
AUX = struct.Struct("=IIIHHHH")  # tpacket_auxdata: status, len, snaplen, mac, net, tci, tpid


def open_port(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((name, 0))
    return s


def received_vlan(frame, ancillary):
    """(vid, untagged frame) of a frame read from a packet socket; vid None when untagged."""
    for level, kind, data in ancillary:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= AUX.size:
            status, _, _, _, _, tci, _ = AUX.unpack_from(data)
            if status & TP_STATUS_VLAN_VALID:
                return tci & 0x0FFF, frame
    if len(frame) >= 18 and struct.unpack_from("!H", frame, 12)[0] == TPID:
        return struct.unpack_from("!H", frame, 14)[0] & 0x0FFF, frame[:12] + frame[16:]
    return None, frame


def main():
    access_name, trunk_name, vid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    access, trunk = open_port(access_name), open_port(trunk_name)
    counts = {"tagged": 0, "untagged": 0, "dropped": 0}

    def report(*_):
        print(" ".join(f"{k}={v}" for k, v in counts.items()), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, report)
    tag = struct.pack("!HH", TPID, vid)
    while True:
        ready, _, _ = select.select([access, trunk], [], [])
        for s in ready:
            frame, ancillary, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(AUX.size))
            if addr[2] == PACKET_OUTGOING:
                continue
            if s is access:
                trunk.send(frame[:12] + tag + frame[12:])
                counts["tagged"] += 1
                continue
            got, plain = received_vlan(frame, ancillary)
            if got == vid:
                access.send(plain)
                counts["untagged"] += 1
            else:
                counts["dropped"] += 1


if __name__ == "__main__":
    main()
