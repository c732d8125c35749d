"""Start the class's JupyterHub (``make hub`` runs this; hub/README.md has the whole story).

    .venv/bin/python hub/launch.py                       # 127.0.0.1:8000, state in hub/state
    .venv/bin/python hub/launch.py --ip 0.0.0.0 --ssl-cert cert.pem --ssl-key key.pem   # a network
    .venv/bin/python hub/launch.py release-assignment 03 --due 2026-12-14T23:59+01:00   # the term (hub/term.py)
    .venv/bin/python hub/launch.py submissions 03 | grade 03 | return-feedback 03
    .venv/bin/python hub/launch.py release-solutions 03  # lesson 03's solutions to every student, read-only

Checks what would otherwise fail deep inside JupyterHub, each with one line naming the fix: the
proxy installed in hub/proxy, the students' runtime built (as root: hub/runtime.py), MNIST prepared,
the port free, TLS when listening beyond this machine. Makes the hub's secrets (files of mode 0600
in the state folder, mode 0700; never environment variables), the lecturer's account at the first
start and the roster's accounts (``--students``), printing each generated password once. Then
prints the URL and how to add students, and runs JupyterHub in the foreground (Ctrl-C stops the
hub; students' servers keep running and are picked up again by the next start).

As root, every student is a system account of their own (hub/accounts.py). Without root, every
student runs as the lecturer's own account: the launcher says so, and refuses a network address
unless ``--shared-account-ok`` says the lecturer trusts every student with every other's files.
"""

from __future__ import annotations

import argparse
import csv
import errno
import ipaddress
import json
import os
import secrets
import socket
import sys
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PROXY = HERE / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
sys.path.insert(0, str(HERE))  # accounts.py, limits.py, runtime.py


def fail(message: str, *more: str) -> NoReturn:
    print(f"error: {message}", *more, sep="\n", file=sys.stderr)
    raise SystemExit(2)


SHARED_WARNING = ("warning: this hub does not run as root, so every student's server runs as YOUR account "
                  "({user}): students can read and change each other's files and yours, share /tmp and can fill the "
                  "disk (no private /tmp, no disk limit). Fine for a trusted "
                  "group on this machine; for a class, start it as root (one account per student).")
TLS_HELP = (
    "  A certificate for this machine's name, either:",
    "   - from your university's IT (they give you cert.pem and key.pem), or",
    "   - from Let's Encrypt (the machine must be reachable on port 80 under its DNS name):",
    "       sudo apt-get install certbot",
    "       sudo certbot certonly --standalone -d hub.example.edu",
    "       make hub HUB_ARGS=\"--ip 0.0.0.0 --port 443 --ssl-cert /etc/letsencrypt/live/hub.example.edu/fullchain.pem"
    " --ssl-key /etc/letsencrypt/live/hub.example.edu/privkey.pem\"",
    "  Or, for a small group, no network address at all: keep the hub on 127.0.0.1 and let each student open",
    "  an SSH tunnel:  ssh -N -L 8000:127.0.0.1:8000 student@this-machine   then browse http://127.0.0.1:8000/",
)


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
                   help="the workshop password (--auth shared); better in $HUB_PASSWORD than on a command line")
    p.add_argument("--students", type=Path, default=None,
                   help="roster.csv (name[,display name[,password]] per line): accounts made and approved at "
                        "start; generated passwords printed once")
    p.add_argument("--terminals", action="store_true",
                   help="give students terminals (off by default; the lecturer always has them)")
    p.add_argument("--shared-account-ok", action="store_true",
                   help="without root: allow a network address although every student runs as your account")
    p.add_argument("--runtime", type=Path, default=Path(os.environ.get("LENET_HUB_RUNTIME", "/opt/lenet-hub")),
                   help="the students' runtime (as root; built by `make hub-runtime`)")
    p.add_argument("--account-prefix", default=os.environ.get("HUB_ACCOUNT_PREFIX", "jupyter-"),
                   help="students' system accounts are PREFIX<name> (default jupyter-)")
    p.add_argument("--mem", default=os.environ.get("HUB_MEM", "2G"), help="memory limit per student ('' = none)")
    p.add_argument("--cpus", default=os.environ.get("HUB_CPUS", ""), help="CPU limit per student ('' = none)")
    p.add_argument("--tmp", default=os.environ.get("HUB_TMP", "512M"),
                   help="each student's own /tmp, a tmpfs counted in their memory ('' = the shared /tmp; as root)")
    p.add_argument("--disk", default=os.environ.get("HUB_DISK", "2G"),
                   help="size of each new student's home, a file system of its own ('' = no limit; as root)")
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


def mode() -> str:
    """"accounts" as root (one system account per student), else "shared-account"."""
    return "accounts" if os.geteuid() == 0 else "shared-account"


def read_roster(path: Path) -> list[dict]:
    """The roster's rows: name (checked by the hub's name rule), display name, password or ''."""
    from accounts import UnsafeName, check_name

    if not path.is_file():
        fail(f"--students {path}: no such file")
    rows, seen = [], set()
    with open(path, newline="", encoding="utf-8") as f:
        for number, row in enumerate(csv.reader(f), 1):
            if not row or not row[0].strip() or row[0].strip().startswith("#"):
                continue
            if number == 1 and row[0].strip().lower() == "name":
                continue  # a header line
            name = row[0].strip().lower()
            try:
                check_name(name)
            except UnsafeName as err:
                fail(f"--students {path}, line {number}: {err}")
            if name in seen:
                fail(f"--students {path}, line {number}: {name!r} is listed twice")
            seen.add(name)
            password = row[2].strip() if len(row) > 2 else ""
            if password and len(password) < 8:
                fail(f"--students {path}, line {number}: {name}'s password is shorter than 8 characters")
            rows.append({"name": name, "display": row[1].strip() if len(row) > 1 else "", "password": password})
    return rows


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def lock_state(state: Path) -> None:
    """The state folder is the hub's alone: 0700, and every file directly in it 0600."""
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    for f in state.iterdir():
        if f.is_file() and not f.is_symlink():
            f.chmod(0o600)


def pending_accounts(args, state: Path, roster: list[dict]) -> list[str]:
    """Accounts the hub makes approved at start (the lecturer at the first start, the roster);
    returns the lines to print once (generated passwords)."""
    import bcrypt

    lines, pending = [], []
    first_start = not (state / "jupyterhub.sqlite").exists()
    wanted = []
    if first_start:
        given = os.environ.get("HUB_ADMIN_PASSWORD", "")
        if given and len(given) < 12:
            fail("HUB_ADMIN_PASSWORD must have 12 or more characters")
        wanted.append({"name": args.admin, "display": "lecturer (admin)", "password": given})
    wanted += [r for r in roster if r["name"] != args.admin]
    for row in wanted:
        password = row["password"] or secrets.token_urlsafe(12)
        if not row["password"]:
            lines.append(f"  {row['name']:<24} {password}   {row['display']}")
        pending.append({"name": row["name"], "bcrypt": bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()})
    if pending:
        _write_secret(state / "pending_accounts.json", json.dumps(pending))
    return lines


def protect_solutions(repo: Path = REPO) -> list[Path]:
    """Students' accounts must not read the solutions before they are released: the repository's
    folders that hold them lose every permission for other accounts (the runtime keeps its own copy
    in a folder only root can enter). Those are notebooks/, assignments/, git's objects (which hold
    every version), and any other folder with a solutions notebook in it: `make test` leaves executed
    copies in build/. Returns what was changed."""
    import subprocess

    folders = [repo / "notebooks", repo / "assignments"]
    r = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=repo, capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.strip():
        folders.append((repo / r.stdout.strip()).resolve())
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".venv", "node_modules", "__pycache__")]
        if any(f.endswith(".solutions.ipynb") for f in filenames):
            folders.append(Path(dirpath))
    changed = []
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mode & 0o007:
            folder.chmod(folder.stat().st_mode & ~0o007)
            changed.append(folder)
            print(f"hub: {folder} holds solutions; other accounts can no longer read it (chmod o-rwx)", flush=True)
    return changed


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
             "(hub/README.md: 'Opening it to a network')", *TLS_HELP)
    if not loopback and mode() == "shared-account" and not args.shared_account_ok:
        fail(f"--ip {args.ip}: without root every student runs as your account and can read the others' files; "
             "start the hub as root, or pass --shared-account-ok if you trust every student")
    for f in (args.ssl_cert, args.ssl_key):
        if f and not Path(f).is_file():
            fail(f"TLS file {f} does not exist")
    if args.ssl_key:
        st = Path(args.ssl_key).stat()
        if st.st_mode & 0o077 or st.st_uid != os.geteuid():
            fail(f"TLS key {args.ssl_key} can be read by others (mode {st.st_mode & 0o777:o}, owner uid "
                 f"{st.st_uid}): make it the hub's alone: "
                 f"chown {os.geteuid()} {args.ssl_key}; chmod 600 {args.ssl_key}")
    if args.auth == "shared" and len(args.password) < 8:
        fail("--auth shared needs a workshop password of 8+ characters: "
             "HUB_PASSWORD=... make hub HUB_ARGS='--auth shared'")
    try:
        from limits import parse_bytes
        parse_bytes(args.mem)
        for option, size in (("--tmp", args.tmp), ("--disk", args.disk)):
            try:
                parse_bytes(size)
            except ValueError:
                fail(f"{option} {size!r} is not a size; use e.g. 512M or 2G ('' = none)")
        if args.cpus:
            float(args.cpus)
    except ValueError as err:
        fail(str(err) if "LENET_HUB_MEM" in str(err) else f"--cpus {args.cpus!r} is not a number")
    from accounts import UnsafeName, check_name

    try:
        check_name(args.admin)
    except UnsafeName as err:
        fail(f"--admin: {err}")
    if not args.account_prefix or not all(ch.isalnum() or ch in "-_" for ch in args.account_prefix) \
            or not args.account_prefix[0].isalpha() or len(args.account_prefix) > 8:
        fail(f"--account-prefix {args.account_prefix!r}: a letter, then letters, digits, '-' or '_', 8 at most")
    roster = read_roster(args.students) if args.students else []
    if mode() == "accounts":
        import runtime

        problem = runtime.check(args.runtime)
        if problem:
            fail(problem)
        protect_solutions()

    state = args.state.resolve()
    os.umask(0o077)  # everything the hub writes into its state is its own
    lock_state(state)
    if not (state / "proxy_auth_token").is_file():
        _write_secret(state / "proxy_auth_token", secrets.token_hex(32))
    printed = []
    if args.auth == "shared":  # the workshop password: a file, never the hub's environment
        _write_secret(state / "workshop_password", args.password)
        admin_pw = state / "admin_password"
        if not admin_pw.is_file():  # the lecturer's own password in workshop mode: made once, kept
            given = os.environ.get("HUB_ADMIN_PASSWORD", "")
            if given and len(given) < 32:
                fail("HUB_ADMIN_PASSWORD must have 32 or more characters in workshop mode (--auth shared)")
            _write_secret(admin_pw, given or secrets.token_urlsafe(32))
            if not given:
                printed.append(f"  {args.admin:<24} {admin_pw.read_text()}   lecturer (admin)")
    else:
        printed += pending_accounts(args, state, roster)
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

    if mode() == "shared-account":  # MNIST once, in the shared data root every student's kernel memory-maps
        from lenet_utils.data import MNISTUnavailable, prepare_mnist

        try:
            prepare_mnist(download=not os.environ.get("LENET_MNIST_DIR"))
        except MNISTUnavailable as err:
            fail(f"MNIST is not available for the students: {err}")
    import term

    from lenet_utils.paths import data_root

    # What the term's subcommands (release-solutions, grade, ...) need to find this hub's students and
    # exchange (mode 0600, the hub's alone).
    _write_secret(state / "hub.json", json.dumps({"mode": mode(), "runtime": str(args.runtime),
                                                 "account_prefix": args.account_prefix,
                                                 "exchange": str(term.EXCHANGE)}))
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_PASSWORD", "HUB_ADMIN_PASSWORD")}
    env.update(LENET_HUB_STATE=str(state), LENET_HUB_MODE=mode(), LENET_HUB_RUNTIME=str(args.runtime),
               LENET_HUB_ACCOUNT_PREFIX=args.account_prefix,
               LENET_HUB_IP=args.ip, LENET_HUB_PORT=str(args.port),
               LENET_HUB_API_PORT=str(api_port), LENET_HUB_PROXY_API_PORT=str(proxy_api_port),
               LENET_HUB_ADMIN=args.admin, LENET_HUB_AUTH=args.auth, LENET_HUB_MEM=args.mem,
               LENET_HUB_TMP=args.tmp, LENET_HUB_DISK=args.disk,
               LENET_HUB_CPUS=args.cpus, LENET_HUB_CULL_IDLE=str(args.cull_idle),
               LENET_HUB_TERMINALS="1" if args.terminals else "",
               LENET_DATA_ROOT=str(data_root()),
               LENET_HUB_SSL_CERT=args.ssl_cert, LENET_HUB_SSL_KEY=args.ssl_key,
               LENET_HUB_SINGLEUSER_ARGS=json.dumps(args.singleuser_arg),
               # The venv's bin first: jupyterhub-singleuser, and node for the proxy stays on PATH.
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("LENET_HUB_PASSWORD", None)
    if printed:
        print("Passwords made now, shown this once (give each to its owner; they can change it at "
              "/hub/change-password):\n" + "\n".join(printed), flush=True)
    if mode() == "shared-account":
        import getpass

        print(SHARED_WARNING.format(user=getpass.getuser()), file=sys.stderr, flush=True)
    return env


def welcome(args) -> str:
    scheme = "https" if args.ssl_cert else "http"
    host = args.ip if args.ip not in ("0.0.0.0", "::") else socket.getfqdn()
    url = f"{scheme}://{host}:{args.port}/"
    if args.auth == "native":
        students = (f"  You log in as '{args.admin}' at {url}hub/login "
                    "(your password was printed at the first start).\n"
                    f"  Students sign up at {url}hub/signup; you approve each at {url}hub/authorize\n"
                    f"  (or list them in a roster: make hub HUB_ARGS='--students roster.csv').")
    else:
        students = (f"  Students log in at {url}hub/login with any name and the workshop password.\n"
                    f"  You log in as '{args.admin}' with the admin password printed at the first start.")
    homes = ("/home/" + args.account_prefix + "<name> (one system account each)" if mode() == "accounts"
             else str(args.state.resolve() / "students") + " (all as your own account)")
    return (f"\nLeNet-5 by hand: JupyterHub at {url}\n{students}\n"
            f"  See and stop students' servers: {url}hub/admin\n"
            f"  Students' files: {homes}, kept across restarts\n"
            f"  Limits per student: memory {args.mem or 'none'}, CPUs {args.cpus or 'none (thread policy)'}, "
            f"own /tmp {args.tmp or 'none (shared)'}, home {args.disk or 'unlimited'}"
            f"{'' if mode() == 'accounts' else ' (the /tmp and home limits need root)'}; "
            f"idle servers stop after {args.cull_idle} s; terminals {'on' if args.terminals else 'off'}.\n"
            f"  Ctrl-C stops the hub; students' servers keep running and the next start picks them up.\n")


# ---- the term: release a lesson's solutions ------------------------------------------------------
def _state_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", type=Path, default=Path(os.environ.get("HUB_STATE", HERE / "state")),
                   help="the hub's state folder (default hub/state)")


def hub_of(state: Path) -> tuple[Path, dict]:
    """The state folder (resolved) and what the hub recorded there at its last start (hub.json)."""
    state = state.resolve()
    try:
        hub = json.loads((state / "hub.json").read_text())
    except (OSError, ValueError):
        fail(f"{state} is not the state folder of a hub that has been started (no hub.json): "
             "start it once with `make hub`, or pass --state")
    if hub["mode"] == "accounts" and os.geteuid() != 0:
        fail("the hub runs as root (one account per student): run the term's commands as root too")
    return state, hub


def term_command(command: str, argv) -> int:
    """``release-assignment``, ``submissions``, ``grade``, ``return-feedback`` (hub/term.py)."""
    import term

    p = argparse.ArgumentParser(prog=f"launch.py {command}", description=TERM_COMMANDS[command])
    p.add_argument("lesson", help="the lesson's number, e.g. 03")
    if command == "release-assignment":
        p.add_argument("--due", default=None, help="due date and time, e.g. 2026-12-14T23:59+01:00 "
                                                   "(later submissions are kept and marked late)")
    if command == "grade":
        p.add_argument("--out", type=Path, default=None, help="the gradebook CSV (default: in the hub's state)")
    _state_arg(p)
    args = p.parse_args(argv)
    state, hub = hub_of(args.state)
    if hub["mode"] != "accounts":
        fail("the term's assignments need a hub run as root (nbgrader's exchange, a sandboxed grader)")
    exchange = Path(hub.get("exchange") or term.EXCHANGE)
    try:
        if command == "release-assignment":
            name = term.release_assignment(state, args.lesson, due_text=args.due, exchange=exchange)
            when = term.due(state, name)
            print(f"released {name} to every student (JupyterLab: Assignments, Fetch); "
                  f"due {when.isoformat() if when else 'not set (nothing is late)'}")
        elif command == "submissions":
            for line in term.submissions_table(state, args.lesson, exchange=exchange):
                print(line)
        elif command == "grade":
            path, rows = term.grade(state, args.lesson, exchange=exchange, out=args.out)
            print(f"graded {len({r.student for r in rows})} student(s); gradebook: {path}")
        elif command == "return-feedback":
            done = term.return_feedback(state, args.lesson, prefix=hub["account_prefix"])
            print(f"feedback returned to {len(done)} student(s), in notebooks/feedback/ of each: "
                  f"{', '.join(done) or 'nobody (run grade first)'}")
    except term.TermError as err:
        fail(str(err))
    return 0


TERM_COMMANDS = {
    "release-assignment": "Release a lesson's assignment (student version) to every student through nbgrader.",
    "submissions": "List a lesson's submissions: who, when, late or not (every submission is kept).",
    "grade": "Autograde every student's latest submission in the sandbox; write the gradebook CSV.",
    "return-feedback": "Put each student's graded feedback into their notebooks/feedback/ folder.",
}


def release_solutions(argv) -> int:
    """``launch.py release-solutions 03 [--state DIR]``: record the release in the hub's state
    (``released.json``, which every later start of a student's server reads) and copy the lesson's
    solutions into every student's folder now, read-only (hub/handout.py: install_solutions)."""
    import re
    import sqlite3

    import handout

    p = argparse.ArgumentParser(prog="launch.py release-solutions",
                                description="Release a lesson's solutions to every student (read-only).")
    p.add_argument("lesson", nargs="?", help="the lesson's number, e.g. 03 (none: list what is released)")
    _state_arg(p)
    args = p.parse_args(argv)
    state, hub = hub_of(args.state)
    accounts_mode = hub["mode"] == "accounts"
    solutions = Path(hub["runtime"]) / "solutions" if accounts_mode else REPO / "notebooks"
    have = sorted({f.name.split("_")[0] for f in solutions.glob("*" + handout.SOLUTIONS_SUFFIX)})
    done = handout.released(state)
    if not args.lesson:
        later = [x for x in have if x not in done]
        print(f"released: {', '.join(done) or 'none'}; not yet: {', '.join(later) or 'none'}")
        return 0
    lesson = args.lesson.strip()
    if not re.fullmatch(r"\d\d[a-z]?", lesson) or lesson not in have:
        fail(f"no solutions for lesson {args.lesson!r}: the lessons with solutions are {', '.join(have)}")
    files = handout.solution_files(solutions, [lesson])
    if lesson not in done:
        _write_secret(state / "released.json.tmp", json.dumps({"lessons": sorted({*done, lesson})}))
        os.replace(state / "released.json.tmp", state / "released.json")
    names = []
    if (state / "jupyterhub.sqlite").is_file():
        with sqlite3.connect(f"file:{state / 'jupyterhub.sqlite'}?mode=ro", uri=True) as db:
            names = [row[0] for row in db.execute("SELECT name FROM users ORDER BY name")]
    copied = 0
    for name in names:
        if accounts_mode:
            import pwd

            try:
                home = Path(pwd.getpwnam(hub["account_prefix"] + name).pw_dir)
            except KeyError:
                continue  # never started: gets them with the course at the first start
        else:
            home = state / "students" / name
        if (home / handout.MANIFEST).is_file() and handout.install_solutions(home / "notebooks", files):
            copied += 1
    print(f"released lesson {lesson}'s solutions ({', '.join(f.name for f in files)}): copied into {copied} "
          f"student folder(s) now, read-only, in notebooks/solutions/; everyone else gets them at their next start")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["release-solutions"]:
        return release_solutions(argv[1:])
    if argv[:1] and argv[0] in TERM_COMMANDS:
        return term_command(argv[0], argv[1:])
    args = parse_args(argv)
    env = prepare(args)
    if not args.quiet:
        print(welcome(args), flush=True)
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(HERE / "jupyterhub_config.py")]
    os.chdir(args.state.resolve())
    os.execve(sys.executable, cmd, env)  # JupyterHub replaces this process: signals reach it directly


if __name__ == "__main__":
    sys.exit(main())
