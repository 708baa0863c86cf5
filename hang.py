import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 8789)); s.listen(50)
conns = []
end = time.time() + 900
while time.time() < end:
    s.settimeout(5)
    try: c, _ = s.accept(); conns.append(c)
    except socket.timeout: pass
