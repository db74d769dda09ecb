"""Which addresses Salen offers for ICE, and which STUN/TURN servers clients are told about.

aioice gathers host candidates from `aioice.ice.get_host_addresses()`, which leaves out
127.0.0.1, so on loopback (tests, a local demo) nothing connects. Rather than patching
that module-level function for the whole process, each peer Salen creates is given
`bind_addresses()` through `stream.aiortc_fence.limit_host_candidates`, so it binds exactly
the configured addresses and nothing else changes.

`Settings.ice_addresses` is a comma-separated list; each entry is

- `IP` -- bind a UDP socket on IP and offer it (e.g. `127.0.0.1`, `10.0.0.5`);
- `IP=PUBLIC` -- bind on IP but announce PUBLIC (a server behind 1:1 NAT);
- `auto` -- every non-loopback address of the host (aioice's own discovery).

`Settings.ice_servers` lists STUN/TURN URLs handed to clients in `Link` headers (RFC 9725
section 4.6). TURN credentials may be given as `turn:USER:PASSWORD@host:port`. The
server's own peers use no STUN server (aiortc would otherwise default to Google's).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from urllib.parse import quote

from aioice.ice import get_host_addresses
from aiortc import RTCConfiguration


@dataclasses.dataclass(frozen=True, slots=True)
class HostAddress:
    """An address to bind, and the address to announce in SDP (the same unless NATed)."""

    bind: str
    announce: str


@dataclasses.dataclass(frozen=True, slots=True)
class IceServer:
    """A STUN or TURN server as clients need it."""

    url: str
    username: str | None = None
    credential: str | None = None

    def link(self) -> str:
        """This server as an RFC 9725 `Link` header value."""
        value = f'<{self.url}>; rel="ice-server"'
        if self.username is not None:
            value += f'; username="{_quoted(self.username)}"'
            value += f'; credential="{_quoted(self.credential or "")}"'
            value += '; credential-type="password"'
        return value


@dataclasses.dataclass(frozen=True, slots=True)
class IceConfig:
    """Parsed ICE settings."""

    addresses: tuple[HostAddress, ...]
    auto: bool = False
    servers: tuple[IceServer, ...] = ()

    @classmethod
    def parse(cls, addresses: str, servers: str = "") -> IceConfig:
        """Parse `Settings.ice_addresses` and `Settings.ice_servers`; ValueError if invalid."""
        hosts: list[HostAddress] = []
        auto = False
        for entry in _split(addresses):
            if entry == "auto":
                auto = True
                continue
            bind, _, announce = entry.partition("=")
            ipaddress.ip_address(bind)
            if announce:
                ipaddress.ip_address(announce)
            hosts.append(HostAddress(bind, announce or bind))
        if not hosts and not auto:
            raise ValueError("ice_addresses names no address")
        return cls(tuple(hosts), auto, tuple(_parse_server(s) for s in _split(servers)))

    def bind_addresses(self) -> list[str]:
        """The addresses to bind UDP sockets on."""
        found = [h.bind for h in self.addresses]
        if self.auto:
            found += [
                a for a in get_host_addresses(use_ipv4=True, use_ipv6=False) if a not in found
            ]
        return found

    def rtc_configuration(self) -> RTCConfiguration:
        """Configuration for the server's peers: no STUN/TURN of their own."""
        return RTCConfiguration(iceServers=[])

    def link_headers(self) -> list[str]:
        """`Link` header values announcing the ICE servers to a client."""
        return [server.link() for server in self.servers]

    def announce(self, sdp: str) -> str:
        """Rewrite bound addresses to announced ones in an SDP we send out."""
        for host in self.addresses:
            if host.announce != host.bind:
                sdp = re.sub(
                    rf"(?m)^(a=candidate:\S+ \d+ \S+ \d+ ){re.escape(host.bind)} ",
                    rf"\g<1>{host.announce} ",
                    sdp,
                )
                sdp = sdp.replace(f"c=IN IP4 {host.bind}\r\n", f"c=IN IP4 {host.announce}\r\n")
        return sdp


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _parse_server(value: str) -> IceServer:
    match = re.fullmatch(r"(stuns?|turns?):(?:([^:@]+):([^@]*)@)?(.+)", value)
    if match is None:
        raise ValueError(f"ice server {value!r} is not a stun:, stuns:, turn: or turns: URL")
    scheme, user, password, rest = match.groups()
    return IceServer(f"{scheme}:{rest}", user, password if user else None)


def _quoted(value: str) -> str:
    return quote(value, safe="!#$%&'()*+,-./:;<=>?@[]^_`{|}~ ")
