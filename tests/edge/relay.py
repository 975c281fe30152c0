"""A TCP relay on loopback between an agent and central, to cut a connection at a chosen moment."""

from __future__ import annotations

import contextlib
import socket
import threading


class Relay:
    """Forwards every connection to `target_port`; `cut_next_from_central()` arms it to swallow the
    next bytes central sends and close that connection both ways (central believes them sent);
    `stall()` makes the open connections drop everything without closing (a dead NAT entry)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._armed = threading.Event()
        self.cuts = 0
        self.connections = 0
        self._closed = False
        self._stalled: set[int] = set()  # ids of the socket pairs that drop everything
        self._pairs: list[tuple[socket.socket, ...]] = []
        threading.Thread(target=self._accept, name="relay", daemon=True).start()

    def cut_next_from_central(self) -> None:
        self._armed.set()

    def stall(self) -> None:
        self._stalled.update(id(pair) for pair in self._pairs)

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                agent, _ = self._listener.accept()
            except OSError:
                return
            try:
                central = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                agent.close()
                continue
            central.settimeout(None)
            self.connections += 1
            pair = (agent, central)
            self._pairs.append(pair)
            threading.Thread(target=self._pump, args=(agent, central, pair, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(central, agent, pair, True), daemon=True).start()

    def _pump(
        self, source: socket.socket, sink: socket.socket, pair: tuple[socket.socket, ...], from_central: bool
    ) -> None:
        try:
            while data := source.recv(65536):
                if from_central and self._armed.is_set():
                    self._armed.clear()
                    self.cuts += 1
                    break  # swallowed: the agent never sees these bytes
                if id(pair) in self._stalled:
                    continue
                sink.sendall(data)
        except OSError:
            pass
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
