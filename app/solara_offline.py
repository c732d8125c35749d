"""The Solara page's JavaScript without internet: fill the gaps solara-assets leaves, with npm.

Solara's page loads its front end (the Vuetify app, requirejs, Font Awesome) through its own
server, ``/_solara/cdn/``, which serves files from a cache folder and fetches what is missing from
a CDN at run time. The ``app`` extra (``pip install -e ".[app]"``) installs solara-assets,
which fills that folder, but its newest release (1.58.2) predates the Vue 3 front end that solara
1.64.1 uses with ipyvue 3 (``@widgetti/solara-vuetify3-app@5.2.0``). This script reads what the
installed Solara's page template asks for and ``npm pack``s whatever the folder lacks into it.

    python app/solara_offline.py            # make setup runs it after pip install -e ".[dev]"; needs npm
    python app/solara_offline.py --check    # list what is missing; exit status 1 if anything is
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+)/")


def cache_dir() -> Path:
    """The folder Solara's ``/_solara/cdn/`` serves from (``<prefix>/share/solara/cdn``)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def wanted() -> list[str]:
    """``name@version`` of every npm package the installed Solara's page template loads."""
    import solara.server
    from solara.server import settings

    template = (Path(solara.server.__file__).parent / "templates" / "solara.html.j2").read_text()
    found = {f"{name}@{version}" for name, version in PACKAGE.findall(template)}
    found.add(settings.assets.fontawesome_path.strip("/").split("/")[0])      # font-awesome@4.5.0
    return sorted(found)


def missing(cache: Path) -> list[str]:
    return [spec for spec in wanted() if not (cache / spec).is_dir()]


def problem() -> str | None:
    """What keeps the Solara page from loading offline, with the fix, in one line; None if nothing."""
    try:
        importlib.metadata.version("solara-assets")
    except importlib.metadata.PackageNotFoundError:
        return "solara-assets (the Solara page's offline JavaScript) is not installed: run `make setup`"
    lacking = missing(cache_dir())
    if lacking:
        return (f"Solara's offline JavaScript lacks {', '.join(lacking)}: run `make setup` "
                "(python app/solara_offline.py, npm pack into Solara's asset folder)")
    return None


def fetch(spec: str, cache: Path) -> None:
    """``npm pack`` one package and unpack it as ``cache/<name>@<version>/`` (whole, or not at all)."""
    if shutil.which("npm") is None:
        raise SystemExit("npm is missing: install Node.js with npm (apt-get install nodejs npm), then run this again")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        out = subprocess.run(["npm", "pack", spec, "--pack-destination", tmp, "--silent"], capture_output=True,
                             text=True, cwd=tmp)
        if out.returncode != 0:
            raise SystemExit(f"npm pack {spec} failed: {(out.stderr or out.stdout).strip().splitlines()[-1:]}")
        tarball = next(Path(tmp).glob("*.tgz"))
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")
        target = cache / spec
        target.parent.mkdir(parents=True, exist_ok=True)
        (unpacked / "package").rename(target)                                 # npm's tarballs hold package/


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only list what is missing")
    args = ap.parse_args()
    cache = cache_dir()
    lacking = missing(cache)
    if args.check or not lacking:
        print(f"{cache}: " + (f"missing {', '.join(lacking)}" if lacking else f"all {len(wanted())} packages present"))
        return 1 if lacking else 0
    cache.mkdir(parents=True, exist_ok=True)
    for spec in lacking:
        fetch(spec, cache)
        print(f"{spec} -> {cache / spec}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
