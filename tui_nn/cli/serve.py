"""`tui-nn serve`: the lab in a browser, each tab its own lab process, behind a token.

Binds 127.0.0.1 unless --host says otherwise and prints the address with its token;
every lab option given (--config, --scenario, --open, the experiment options) goes to
each tab's lab.

    from tui_nn.cli.serve import add_parser
    add_parser(commands)   # commands = parser.add_subparsers(...)
"""

from __future__ import annotations

import argparse
import errno
import re
import socket
import sys
from typing import Any

from engine import ConfigError, ExperimentConfig
from tui_nn.cli.options import add_config_options, count

INSTALL = 'tui-nn serve needs the web extra: pip install "tui-nn[web]"'
TOKEN = re.compile(r"[A-Za-z0-9_~.-]{8,}")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `serve` on an argparse subparsers object."""
    parser = commands.add_parser(
        "serve",
        help="serve the lab in a browser (one lab process a tab), behind a token",
        description="Serve the lab through textual-serve: each browser tab runs its own "
        "lab with the lab options given here. Only the printed address (with its token) "
        "opens it; websockets from other sites are refused. Needs the web extra: "
        'pip install "tui-nn[web]".',
    )
    web = parser.add_argument_group("the server")
    web.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine)"
    )
    web.add_argument("--port", type=port, default=8000, help="port to listen on (8000)")
    web.add_argument(
        "--token", help="the token the address needs (default: a new random one each start)"
    )
    web.add_argument(
        "--max-sessions",
        type=positive,
        default=8,
        metavar="N",
        help="lab processes at once: one a tab, and one started ahead for the next tab (8)",
    )
    web.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, behind a proxy or tunnel (https://lab.example.org): "
        "the page's links and the allowed websocket origin follow it",
    )
    # SUPPRESS: `tui-nn --scenario xor serve` keeps its value; these only add to it.
    lab = parser.add_argument_group("the lab in each tab (as for tui-nn)")
    lab.add_argument("--scenario", metavar="NAME", default=argparse.SUPPRESS, help="as tui-nn")
    lab.add_argument("--open", metavar="DIR", default=argparse.SUPPRESS, help="as tui-nn")
    lab.add_argument("--fps", type=float, default=argparse.SUPPRESS, help="as tui-nn")
    lab.add_argument("--no-mouse", action="store_true", default=argparse.SUPPRESS, help="as tui-nn")
    add_config_options(parser)
    parser.set_defaults(run=run_serve)
    return parser


def port(text: str) -> int:
    value = count(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {text!r}")
    return value


def positive(text: str) -> int:
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def check_lab_options(args: argparse.Namespace) -> None:
    """The lab's own refusals (tui_nn/cli/lab.py's lab_setup), told once here rather than
    in every tab."""
    from tui_nn.cli.lab import lab_setup

    lab_setup(args)


def check_public_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(
            "--public-url",
            f"expected an address like https://lab.example.org or http://host:8000, got {url!r}",
        )
    return url.rstrip("/")


def check_token(token: str) -> str:
    if not TOKEN.fullmatch(token):
        raise ConfigError(
            "--token",
            "expected at least 8 characters of letters, digits and _ ~ . - "
            "(it goes in the address as it is)",
        )
    return token


def shown_url(args: argparse.Namespace, token: str) -> str:
    """The address to open, with the token: --public-url's, else the bound one (this
    machine's name when listening on every address)."""
    if args.public_url is not None:
        base = args.public_url
    else:
        host = socket.gethostname() if args.host in WILDCARD_HOSTS else args.host
        base = f"http://{f'[{host}]' if ':' in host else host}:{args.port}"
    return f"{base}/?token={token}"


def run_serve(args: argparse.Namespace, config: ExperimentConfig | None = None) -> int:
    """`config` is unused: each tab's lab reads the options itself (checked here first)."""
    try:
        from tui_nn.web.guard import Guard, new_token
        from tui_nn.web.server import LabServer
    except ImportError:
        sys.stderr.write(f"tui-nn: error: {INSTALL}\n")
        return 2
    from tui_nn.web.command import lab_argv, lab_command

    check_lab_options(args)
    token = check_token(args.token) if args.token is not None else new_token()
    public_url = check_public_url(args.public_url) if args.public_url is not None else None
    args.public_url = public_url
    guard = Guard(token=token, cookie=f"tui-nn-token-{args.port}", public_url=public_url)
    command = lab_command(lab_argv(args))
    server = LabServer(
        command, args.host, args.port, guard, args.max_sessions, shown_url(args, token)
    )
    if args.host in WILDCARD_HOSTS:
        print("tui-nn serve: listening on every address: anyone who has the token can open the lab")
    try:
        server.serve()
    except OSError as error:  # the port is taken, or the host is not this machine's
        option = "--port" if error.errno == errno.EADDRINUSE else "--host"
        raise ConfigError(
            option, f"cannot listen on {args.host}:{args.port}: {error.strerror or error}"
        ) from None
    return 0
