"""A throw-away PostgreSQL cluster for the tests: initdb in a temporary folder, a free local
port, stopped (and deleted) afterwards. The server refuses to run as root, so as root it runs
as the `postgres` user the distribution's package creates."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class Unavailable(Exception):
    """No PostgreSQL server could be started here (why is the message)."""


def _bin_dir() -> Path | None:
    # Where initdb is, when not on PATH nor in the distribution's place (a test of this
    # fixture names an empty folder).
    named = os.environ.get("BULK_TEST_PG_BINDIR")
    if named is not None:
        return Path(named) if (Path(named) / "initdb").is_file() else None
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    folder: Path
    bin_dir: Path
    port: int
    runner: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(
            [
                *self.runner,
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Cluster:
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise Unavailable("no PostgreSQL server binaries (initdb) on this machine")
    folder = Path(tempfile.mkdtemp(prefix="bulk-pg-"))
    runner: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no postgres user") from None
        os.chown(folder, user.pw_uid, user.pw_gid)
        runner = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    made = subprocess.run(
        [
            *runner,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if made.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"initdb failed: {made.stderr.strip()[-300:]}")
    for _ in range(3):  # another process may take the free port before the server does
        port = _free_port()
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        started = subprocess.run(
            [
                *runner,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        if started.returncode == 0:
            return Cluster(folder, bin_dir, port, runner)
    log = (folder / "server.log").read_text(errors="replace")[-500:]
    shutil.rmtree(folder, ignore_errors=True)
    raise Unavailable(f"the server did not start: {log}")
