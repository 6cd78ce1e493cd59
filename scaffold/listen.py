"""Where the server listens. The kubelet's probes and the Service connect to the pod IP, never
to the container's loopback: a server told to bind 127.0.0.1 (or localhost, ::1) starts, and its
pod is never Ready and takes no traffic. Found where a command line or the environment says it:
the usual flags (--host, --bind, --listen, --address, --addr, with `=` or as the next argument)
and variables (HOST, BIND, BIND_ADDRESS, LISTEN_ADDRESS, FASTMCP_HOST, MCP_HOST,
UVICORN_HOST, SERVER_HOST); a value is judged by its address part (`127.0.0.1:8080`).

A leaf module: it imports nothing from the package but errors."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence

from .errors import Problem, ProblemCode

FLAGS = frozenset({"--host", "--bind", "--listen", "--address", "--addr", "--bind-address",
                   "--listen-address", "--hostname"})
VARIABLES = frozenset({"HOST", "BIND", "BIND_ADDRESS", "LISTEN_ADDRESS", "FASTMCP_HOST",
                       "MCP_HOST", "UVICORN_HOST", "SERVER_HOST", "LISTEN_HOST"})
_FIX = ("binds only the container's loopback: the kubelet's probes and the Service reach the"
        " pod IP, so the pod would never be Ready; set it to 0.0.0.0 (or :: for IPv6)")


def is_loopback(value: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1, bare or with a port (`[::1]:80`, `h:80`)."""
    text = value.strip().lower()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    text = text.removeprefix("http://").removeprefix("https://")
    if text in ("localhost", "localhost.", "ip6-localhost", "ip6-loopback"):
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _in_args(args: Sequence[str], key: str) -> Iterator[Problem]:
    for i, arg in enumerate(args):
        flag, sep, value = arg.partition("=")
        if flag in FLAGS and sep and is_loopback(value):
            yield Problem(f"{key}[{i}]", f"{arg} {_FIX}", ProblemCode.CONFLICT)
        elif arg in FLAGS and i + 1 < len(args) and is_loopback(args[i + 1]):
            yield Problem(f"{key}[{i + 1}]", f"{arg} {args[i + 1]} {_FIX}", ProblemCode.CONFLICT)


def problems(args: Sequence[str], env: Mapping[str, str],
             bridge_args: Sequence[str] = ()) -> list[Problem]:
    """The places that bind the server (or its bridge) to loopback, each at its key."""
    out = list(_in_args(args, "args"))
    out += _in_args(bridge_args, "bridge.args")
    out += [Problem(f"env.{name}", f"{name}={value} {_FIX}", ProblemCode.CONFLICT)
            for name, value in env.items() if name in VARIABLES and is_loopback(value)]
    return out
