#!/usr/bin/env python3
"""Large UDP datagrams with DF clear, checked byte for byte at the far end.

  udp_big.py recv ADDR PORT COUNT SIZE   wait (10 s at most) for COUNT intact datagrams of SIZE
                                         payload bytes; exit 0 if they came
  udp_big.py send ADDR PORT COUNT SIZE   send COUNT datagrams of SIZE payload bytes, DF clear

Each payload is its sequence number repeated, so a datagram reassembled wrongly (a fragment
lost, duplicated or out of place) does not compare equal.
"""
import socket
import sys

IP_MTU_DISCOVER = 10  # linux/in.h
IP_PMTUDISC_DONT = 0  # never set DF


def payload(seq, size):
    unit = b"%08d" % seq
    return (unit * (size // len(unit) + 1))[:size]


def main():
    mode, addr, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    size = int(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if mode == "recv":
        s.bind((addr, port))
        s.settimeout(10)
        good = 0
        try:
            while good < count:
                data, _ = s.recvfrom(65535)
                seq = int(data[:8])
                good += data == payload(seq, size)
                print("datagram %d: %d bytes" % (seq, len(data)), flush=True)
        except socket.timeout:
            pass
        print("intact: %d of %d" % (good, count))
        return 0 if good == count else 1
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
    for seq in range(count):
        s.sendto(payload(seq, size), (addr, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
