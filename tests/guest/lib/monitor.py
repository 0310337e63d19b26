#!/usr/bin/env python3
"""A tiny client for tandem's monitor on a Unix socket (the guest tests'
stand-in for socat). Usage:
  monitor.py SOCKET LOGFILE TEXT COMMAND...
waits (up to 60 s) until LOGFILE contains TEXT, connects to SOCKET, sends
each COMMAND and prints every reply as "> COMMAND" followed by the reply
text up to the next prompt. Exits 1 on a timeout or a lost connection
before the last command."""
import socket
import sys
import time

PROMPT = b"(tandem) "


def main():
    sock_path, log, text = sys.argv[1:4]
    deadline = time.time() + 60
    while True:
        try:
            with open(log, errors="replace") as f:
                if text in f.read():
                    break
        except OSError:
            pass
        if time.time() > deadline:
            sys.exit("monitor.py: '%s' never appeared in %s" % (text, log))
        time.sleep(0.02)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(sock_path)
    cmds = sys.argv[4:]
    for i, cmd in enumerate(cmds):
        s.sendall(cmd.encode() + b"\n")
        reply = b""
        while not reply.endswith(PROMPT):
            data = s.recv(65536)
            if not data:
                break
            reply += data
        print("> " + cmd)
        print(reply[:-len(PROMPT)].decode(errors="replace")
              if reply.endswith(PROMPT) else reply.decode(errors="replace"))
        if not reply.endswith(PROMPT) and i != len(cmds) - 1:
            sys.exit("monitor.py: connection lost after '%s'" % cmd)
    s.close()


main()
