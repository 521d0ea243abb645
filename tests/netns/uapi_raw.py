#!/usr/bin/env python3
"""Raw UAPI client for the netns tests: sends bytes to a UAPI socket, prints what comes back.

  uapi_raw.py SOCK get                 the `get=1` reply, with counters and handshake times
                                       removed (they move with traffic), for before/after diffs
  uapi_raw.py SOCK send TEXT           TEXT with \\n escapes, then reads until the reply's
                                       blank line or EOF; prints the reply and "closed" if the
                                       server closed the connection
  uapi_raw.py SOCK cut TEXT            sends TEXT and disconnects at once (mid-message)
  uapi_raw.py SOCK huge N              set=1 and a line of N bytes
"""
import socket
import sys
import time

VOLATILE = ("tx_bytes=", "rx_bytes=", "last_handshake_time_sec=", "last_handshake_time_nsec=")


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def read_reply(s):
    data = b""
    closed = False
    try:
        while not data.endswith(b"\n\n"):
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        closed = True
    if not closed:
        # Did the server close after replying?
        s.settimeout(0.3)
        try:
            closed = s.recv(1) == b""
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
    return data.decode(errors="replace"), closed


def main():
    path, mode = sys.argv[1], sys.argv[2]
    s = connect(path)
    if mode == "get":
        s.sendall(b"get=1\n\n")
        reply, _ = read_reply(s)
        print("".join(l + "\n" for l in reply.split("\n") if l and not l.startswith(VOLATILE)), end="")
    elif mode == "send":
        s.sendall(sys.argv[3].encode().decode("unicode_escape").encode())
        reply, closed = read_reply(s)
        print(reply.replace("\n", "\\n") + (" closed" if closed else ""))
    elif mode == "cut":
        s.sendall(sys.argv[3].encode().decode("unicode_escape").encode())
        time.sleep(0.1)
        s.close()
    elif mode == "huge":
        try:
            s.sendall(b"set=1\nprivate_key=" + b"a" * int(sys.argv[3]) + b"\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply, closed = read_reply(s)
        print(reply.replace("\n", "\\n") + (" closed" if closed else ""))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
