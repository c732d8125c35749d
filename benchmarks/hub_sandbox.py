"""What a student's own /tmp and size-limited home cost and hold (hub/sandbox.py), as root.

    .venv/bin/python benchmarks/hub_sandbox.py            # prints, writes results/hub_sandbox.json
    .venv/bin/python benchmarks/hub_sandbox.py --out -    # prints only

* the home: seconds to make and mount a 512 MiB image (a student's first start), what the image takes on
  the machine's disk then and after 100 MiB written, and how much the student can write before ENOSPC;
* /tmp: a process in a memory cgroup of its own (cgroup v1) enters a private tmpfs of 256 MiB, as a
  student's server does, and writes 128 MiB there: how much the group's memory grew, and how much
  was left after its last process exited (the tmpfs goes with it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "hub_sandbox.json"
MiB = 1 << 20
IMAGE_MIB = 512  # a 2G home costs the same to make; 512 MiB keeps the fill short on a shared disk


def _sandbox(images: Path):
    os.environ["LENET_HUB_DISK"] = f"{IMAGE_MIB}M"
    os.environ["LENET_HUB_IMAGES"] = str(images)
    from hub_load import hub_module  # hub/ is not a package: hub/sandbox.py, loaded by path

    return hub_module("sandbox")


def home(sandbox, folder: Path) -> dict:
    mount = folder / "home"
    mount.mkdir()
    t0 = time.perf_counter()
    sandbox.mount_home("bench-student", mount, 65534, 65534)
    made_s = time.perf_counter() - t0
    image = sandbox.home_image("bench-student")
    try:
        after_mkfs = image.stat().st_blocks * 512
        with open(mount / "work", "wb") as f:
            for _ in range(100):
                f.write(os.urandom(MiB))
            os.fsync(f.fileno())
        after_100 = image.stat().st_blocks * 512
        written = 100 * MiB
        try:
            with open(mount / "fill", "wb") as f:
                chunk = b"\0" * (4 * MiB)
                while True:
                    written += f.write(chunk)
        except OSError as err:
            stopped = os.strerror(err.errno)
        return {"image_mib": IMAGE_MIB, "make_and_mount_s": round(made_s, 3),
                "disk_after_mkfs_mib": round(after_mkfs / MiB, 1),
                "disk_after_100_mib_written_mib": round(after_100 / MiB, 1),
                "writable_before_enospc_mib": round(written / MiB), "stopped_by": stopped}
    finally:
        sandbox.remove_home("bench-student", mount)


def tmp_charge(sandbox) -> dict:
    parent = next(Path("/sys/fs/cgroup/memory" + line.split(":", 2)[2])
                  for line in Path("/proc/self/cgroup").read_text().splitlines() if ":memory:" in line)
    group = parent / f"lenet-bench-sandbox-{os.getpid()}"
    group.mkdir()
    try:
        r, w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                (group / "cgroup.procs").write_text(str(os.getpid()))
                before = int((group / "memory.usage_in_bytes").read_text())
                sandbox.PrivateTmp(256 * MiB).enter_in_child()
                with open("/tmp/fill", "wb") as f:
                    for _ in range(128):
                        f.write(b"x" * MiB)
                after = int((group / "memory.usage_in_bytes").read_text())
                os.write(w, f"{before} {after}".encode())
                os.read(go_r, 1)  # the parent has read the figures: exit, and the tmpfs with us
                code = 0
            finally:
                os._exit(code)
        before, after = map(int, os.read(r, 100).split())
        os.write(go_w, b"x")
        os.waitpid(pid, 0)
        time.sleep(0.5)
        left = int((group / "memory.usage_in_bytes").read_text())
        return {"tmpfs_mib": 256, "written_mib": 128, "group_grew_mib": round((after - before) / MiB, 1),
                "group_after_exit_mib": round(left / MiB, 1)}
    finally:
        for _ in range(20):
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.2)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(OUT), help="result file ('-': print only)")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("error: needs root (mount namespaces, loop devices, cgroups), as the class hub", file=sys.stderr)
        return 2
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="lenet-sandbox-") as tmp:
        sandbox = _sandbox(Path(tmp) / "images")
        problem = sandbox.available()
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        h = home(sandbox, Path(tmp))
        t = tmp_charge(sandbox)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit,
              "load_start": round(load_start[0], 2), "load_end": round(os.getloadavg()[0], 2), "home": h, "tmp": t}
    print(f"home ({IMAGE_MIB} MiB image): made and mounted in {h['make_and_mount_s']:.2f} s; on the machine's disk "
          f"{h['disk_after_mkfs_mib']} MiB after mkfs, {h['disk_after_100_mib_written_mib']} MiB after 100 MiB "
          f"written; {h['writable_before_enospc_mib']} MiB writable, then: {h['stopped_by']}")
    print(f"/tmp (256 MiB tmpfs): 128 MiB written grew the writer's memory group by {t['group_grew_mib']} MiB; "
          f"{t['group_after_exit_mib']} MiB left in the group after its last process exited")
    print(f"load average {result['load_start']} at the start, {result['load_end']} at the end")
    if args.out != "-":
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
