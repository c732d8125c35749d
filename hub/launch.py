"""Start the class's JupyterHub (``make hub`` runs this; hub/README.md has the whole story).

    .venv/bin/python hub/launch.py                       # 127.0.0.1:8000, state in hub/state
    .venv/bin/python hub/launch.py --ip 0.0.0.0 --ssl-cert cert.pem --ssl-key key.pem   # a network

Checks what would otherwise fail deep inside JupyterHub, each with one line naming the fix: the
proxy installed in hub/proxy, MNIST prepared once for every student, the port free, TLS when
listening beyond this machine. Then prints the URL and how to add students, and runs JupyterHub
in the foreground (Ctrl-C stops the hub; students' servers keep running and are picked up again
by the next start).
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import os
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PROXY = HERE / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"


def fail(message: str) -> NoReturn:  # noqa: F821
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def port_taken(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError as err:
            if err.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def pid_alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="JupyterHub for the LeNet-5 course on this machine.")
    p.add_argument("--ip", default=os.environ.get("HUB_IP", "127.0.0.1"),
                   help="address to listen on (default 127.0.0.1; anything else needs --ssl-cert/--ssl-key)")
    p.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")))
    p.add_argument("--state", type=Path, default=Path(os.environ.get("HUB_STATE", HERE / "state")),
                   help="folder for the user DB and students' files (default hub/state; never reset)")
    p.add_argument("--admin", default=os.environ.get("HUB_ADMIN", "lecturer"), help="the lecturer's user name")
    p.add_argument("--auth", choices=["native", "shared"], default=os.environ.get("HUB_AUTH", "native"),
                   help="native: students sign up, the lecturer approves; shared: one workshop password")
    p.add_argument("--password", default=os.environ.get("HUB_PASSWORD", ""),
                   help="the workshop password (--auth shared)")
    p.add_argument("--mem", default=os.environ.get("HUB_MEM", "2G"), help="memory limit per student ('' = none)")
    p.add_argument("--cpus", default=os.environ.get("HUB_CPUS", ""), help="CPU limit per student ('' = none)")
    p.add_argument("--cull-idle", type=int, default=int(os.environ.get("HUB_CULL_IDLE", "3600")),
                   help="stop a student's server after this many idle seconds (default 3600)")
    p.add_argument("--ssl-cert", default=os.environ.get("HUB_SSL_CERT", ""))
    p.add_argument("--ssl-key", default=os.environ.get("HUB_SSL_KEY", ""))
    p.add_argument("--api-port", type=int, default=0, help="hub's internal port (default: port + 81)")
    p.add_argument("--proxy-api-port", type=int, default=0, help="proxy's API port (default: port + 1)")
    p.add_argument("--singleuser-arg", action="append", default=[],
                   help="one more option for every student's JupyterLab (repeatable; tests use it)")
    p.add_argument("--quiet", action="store_true", help="do not print the welcome text")
    return p.parse_args(argv)


def prepare(args) -> dict:
    """Validate everything and return the environment JupyterHub runs with."""
    if not PROXY.is_file():
        fail(f"configurable-http-proxy is not installed in {PROXY.parent.parent.parent}: "
             "run `make hub` (or `npm ci --prefix hub/proxy`)")
    try:
        loopback = ipaddress.ip_address(args.ip).is_loopback
    except ValueError:
        fail(f"--ip {args.ip!r} is not an IP address")
    if not loopback and not (args.ssl_cert and args.ssl_key):
        fail(f"--ip {args.ip} opens the hub to a network, which needs TLS: pass --ssl-cert and --ssl-key "
             "(hub/README.md: 'Opening it to a network')")
    for f in (args.ssl_cert, args.ssl_key):
        if f and not Path(f).is_file():
            fail(f"TLS file {f} does not exist")
    if args.auth == "shared" and len(args.password) < 8:
        fail("--auth shared needs a workshop password of 8+ characters: HUB_PASSWORD=... make hub HUB_AUTH=shared")
    try:
        from limits import parse_bytes
        parse_bytes(args.mem)
        if args.cpus:
            float(args.cpus)
    except ValueError as err:
        fail(str(err) if "LENET_HUB_MEM" in str(err) else f"--cpus {args.cpus!r} is not a number")

    state = args.state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    if args.auth == "shared":  # the lecturer's own password in workshop mode: made once, kept
        admin_pw = state / "admin_password"
        if not admin_pw.is_file():
            import secrets

            admin_pw.write_text(secrets.token_urlsafe(32))
            admin_pw.chmod(0o600)
    api_port = args.api_port or args.port + 81
    proxy_api_port = args.proxy_api_port or args.port + 1
    # Our own proxy, left running by the previous start, holds the port: that is a restart, not a clash.
    proxy_running = pid_alive(state / "jupyterhub-proxy.pid")
    ports = [("hub's internal", api_port)] + ([] if proxy_running else
                                              [("proxy", args.port), ("proxy API", proxy_api_port)])
    for what, port in ports:
        ip = args.ip if what == "proxy" else "127.0.0.1"
        if port_taken(ip, port):
            fail(f"port {port} on {ip} ({what}) is taken by another program: stop it, or pick "
                 f"another port: make hub HUB_PORT={args.port + 10}")
    if pid_alive(state / "jupyterhub.pid"):
        fail(f"a hub is already running on the state folder {state} (pid file jupyterhub.pid)")

    # MNIST once, in the shared data root every student's kernel memory-maps.
    from lenet_utils.data import MNISTUnavailable, prepare_mnist

    try:
        prepare_mnist(download=not os.environ.get("LENET_MNIST_DIR"))
    except MNISTUnavailable as err:
        fail(f"MNIST is not available for the students: {err}")
    from lenet_utils.paths import data_root

    env = dict(os.environ,
               LENET_HUB_STATE=str(state), LENET_HUB_IP=args.ip, LENET_HUB_PORT=str(args.port),
               LENET_HUB_API_PORT=str(api_port), LENET_HUB_PROXY_API_PORT=str(proxy_api_port),
               LENET_HUB_ADMIN=args.admin, LENET_HUB_AUTH=args.auth, LENET_HUB_MEM=args.mem,
               LENET_HUB_CPUS=args.cpus, LENET_HUB_CULL_IDLE=str(args.cull_idle),
               LENET_DATA_ROOT=str(data_root()),
               LENET_HUB_SSL_CERT=args.ssl_cert, LENET_HUB_SSL_KEY=args.ssl_key,
               LENET_HUB_PASSWORD=args.password,
               LENET_HUB_SINGLEUSER_ARGS=json.dumps(args.singleuser_arg),
               # The venv's bin first: jupyterhub-singleuser, and node for the proxy stays on PATH.
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return env


def welcome(args) -> str:
    scheme = "https" if args.ssl_cert else "http"
    host = args.ip if args.ip not in ("0.0.0.0", "::") else socket.getfqdn()
    url = f"{scheme}://{host}:{args.port}/"
    if args.auth == "native":
        students = (f"  1. You first: sign up as '{args.admin}' at {url}hub/signup (the lecturer is admin).\n"
                    f"  2. Students sign up at {url}hub/signup with a name and a password.\n"
                    f"  3. You approve each one at {url}hub/authorize; then they log in at {url}hub/login.")
    else:
        students = (f"  Students log in at {url}hub/login with any name and the workshop password.\n"
                    f"  You log in as '{args.admin}' with the admin password in "
                    f"{args.state.resolve() / 'admin_password'}.")
    return (f"\nLeNet-5 by hand: JupyterHub at {url}\n{students}\n"
            f"  See and stop students' servers: {url}hub/admin\n"
            f"  Students' files: {args.state.resolve() / 'students'} (kept across restarts)\n"
            f"  Limits per student: memory {args.mem or 'none'}, CPUs {args.cpus or 'none (thread policy)'}; "
            f"idle servers stop after {args.cull_idle} s.\n"
            f"  Ctrl-C stops the hub; students' servers keep running and the next start picks them up.\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(HERE))
    env = prepare(args)
    if not args.quiet:
        print(welcome(args), flush=True)
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(HERE / "jupyterhub_config.py")]
    os.chdir(args.state.resolve())
    os.execve(sys.executable, cmd, env)  # JupyterHub replaces this process: signals reach it directly


if __name__ == "__main__":
    sys.exit(main())
