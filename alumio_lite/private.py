"""Local state (ALUMIO_VAR_DIR: the SQLite database, the broker's messages, the generated
SECRET_KEY) is private to the user running the application: folders 0700, files 0600.

The database holds encrypted secrets next to the key material that decrypts them, so a
world-readable file would hand both to every local account. Files are created private (never
created open and narrowed afterwards), and older installations are narrowed when they start.
"""
from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _narrow(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty and private if missing; narrow it (and SQLite's -wal/-shm) if open to others."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        _narrow(each, FILE_MODE)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a new file that nobody else can read at any moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _narrow(path: Path, mode: int) -> None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return
    if stat.st_uid == os.getuid() and stat.st_mode & 0o077:
        path.chmod(mode)
