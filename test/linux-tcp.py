#!/usr/bin/env python3
"""The real-kernel side of linux-tcp.test.ts (the pod model against Linux's TCP).

  linux-tcp.py server ADDR PORT NAME [keepalive]   (run inside the namespace) an agnhost-like HTTP server:
      accepts, reads a request, answers GET /clientip, /hostname and anything else as the pod model does
      (Connection: close), then closes; with `keepalive`, as Go's net/http does for HTTP/1.1: no Connection
      header, the next request served on the same connection, closed when the client closes. TCP_CORK is set before the answer, so that close() puts the FIN on the answer's segment,
      as the model sends it (without it Linux sends the answer, then a FIN of its own).
  linux-tcp.py wire IFACE SRC_IP       (run outside) reads lines `<frame hex> <wait ms>` on stdin, sends each frame
      on IFACE (AF_PACKET) and prints a JSON list of the IPv4 TCP frames from SRC_IP seen within the wait.
"""
import json
import re
import select
import socket
import sys
import threading
import time

GET = re.compile(rb'^GET (\S+) HTTP/1\.[01]\r\n')


def serve(addr, port, name, keepalive):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(64)
    print('ready', flush=True)

    def conn(c, peer):
        buf = b''
        try:
            while True:
                while b'\r\n\r\n' not in buf:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                m = GET.match(buf)
                if not m:
                    break
                buf = buf[buf.index(b'\r\n\r\n') + 4:]
                target = m.group(1)
                body = (f'{peer[0]}:{peer[1]}'.encode() if target == b'/clientip'
                        else name.encode() if target == b'/hostname' else b'NOW: simulated')
                if not keepalive:
                    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                    c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' % len(body) + body)
                    break
                # Go's net/http to an HTTP/1.1 request without `Connection: close`: no such header, the
                # connection kept for the next request until the client closes.
                c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
        except OSError:
            pass
        c.close()

    while True:
        c, peer = ls.accept()
        threading.Thread(target=conn, args=(c, peer), daemon=True).start()


def wire(iface, src_ip):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    src = socket.inet_aton(src_ip)
    print('ready', flush=True)

    def answers(until):
        out = []
        while True:
            # Past the deadline, what is already queued still counts (this process may have been descheduled).
            left = max(0, until - time.monotonic())
            r, _, _ = select.select([s], [], [], left)
            if not r and left == 0:
                return out
            if not r:
                continue
            f, meta = s.recvfrom(65535)
            # meta[2]: the packet type; 4 is PACKET_OUTGOING (our own frames, seen again).
            if meta[2] != 4 and len(f) >= 34 and f[12:14] == b'\x08\x00' and f[23] == 6 and f[26:30] == src:
                out.append(f.hex())

    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == 'wait':
            print(json.dumps(answers(time.monotonic() + int(parts[1]) / 1000)), flush=True)
            continue
        s.send(bytes.fromhex(parts[0]))
        print(json.dumps(answers(time.monotonic() + int(parts[1]) / 1000)), flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], len(sys.argv) > 5 and sys.argv[5] == 'keepalive')
    else:
        wire(sys.argv[2], sys.argv[3])
