"""Safe unpacking of an uploaded snapshot archive (tar.gz or zip) into its own folder.

Only regular files and folders with relative names are accepted: absolute names, ``..``, backslashes,
links, devices and FIFOs reject the whole archive. The total unpacked size and the number of entries
are capped while reading (a gzip or zip bomb stops at the cap, never fills the disk), and every file
is created with O_EXCL | O_NOFOLLOW below a folder that holds nothing else.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Protocol, cast

from api.errors import ApiError

__all__ = ["ArchiveLimits", "extract", "snapshot_root"]

_CHUNK = 1 << 16


class ArchiveLimits:
    def __init__(self, *, max_bytes: int, max_files: int) -> None:
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.bytes = 0
        self.files = 0

    def count_entry(self) -> None:
        self.files += 1
        if self.files > self.max_files:
            raise _reject(f"more than {self.max_files} entries", limit="max_archive_files", value=self.max_files)

    def count_bytes(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.max_bytes:
            raise _reject(
                f"unpacks to more than {self.max_bytes} bytes", limit="max_uncompressed_bytes", value=self.max_bytes
            )


def _reject(message: str, *, limit: str | None = None, value: int | None = None, entry: str | None = None) -> ApiError:
    if limit is not None:
        return ApiError(413, "archive_too_large", f"archive: {message}", {"limit": limit, "value": value})
    return ApiError(422, "unsafe_archive", f"archive: {message}", {"entry": entry})


def _safe_parts(name: str) -> tuple[str, ...]:
    """The path parts of an archive member, or a rejection when it could leave the target folder."""
    if not name or "\\" in name or "\0" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise _reject("absolute or malformed entry name", entry=name)
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if any(p == ".." for p in parts):
        raise _reject('entry name contains ".."', entry=name)
    return parts


def _target(dest: Path, parts: tuple[str, ...], name: str) -> Path:
    target = dest.joinpath(*parts)
    if os.path.commonpath([os.path.realpath(target.parent), os.path.realpath(dest)]) != os.path.realpath(dest):
        raise _reject("entry leaves the archive folder", entry=name)
    return target


def _write(target: Path, src: IO[bytes], limits: ArchiveLimits, name: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise _reject("duplicate entry", entry=name) from None
    with os.fdopen(fd, "wb") as out:
        while chunk := src.read(_CHUNK):
            limits.count_bytes(len(chunk))
            out.write(chunk)


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class _Capped:
    """A read-only stream that fails once more than the cap has been decompressed (tar.gz bombs)."""

    def __init__(self, raw: _Readable, limits: ArchiveLimits) -> None:
        self.raw, self.limits, self.seen = raw, limits, 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.seen += len(data)
        # tar headers and padding add at most ~1 KiB per entry on top of the file contents
        if self.seen > self.limits.max_bytes + 1024 * (self.limits.max_files + 2):
            raise _reject("unpacks past the size limit", limit="max_uncompressed_bytes", value=self.limits.max_bytes)
        return data


def _extract_tar(path: Path, dest: Path, limits: ArchiveLimits) -> None:
    with gzip.open(path, "rb") as gz, tarfile.open(fileobj=cast(IO[bytes], _Capped(gz, limits)), mode="r|") as tar:
        for member in tar:
            limits.count_entry()
            parts = _safe_parts(member.name)
            if not parts:
                continue
            if member.isdir():
                _target(dest, parts, member.name).mkdir(parents=True, exist_ok=True)
            elif member.isreg():
                src = tar.extractfile(member)
                if src is None:
                    raise _reject("unreadable entry", entry=member.name)
                _write(_target(dest, parts, member.name), src, limits, member.name)
            else:
                raise _reject("links, devices and FIFOs are not accepted", entry=member.name)


def _extract_zip(path: Path, dest: Path, limits: ArchiveLimits) -> None:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_files:
            raise _reject(f"more than {limits.max_files} entries", limit="max_archive_files", value=limits.max_files)
        if sum(i.file_size for i in infos) > limits.max_bytes:
            raise _reject(
                f"unpacks to more than {limits.max_bytes} bytes", limit="max_uncompressed_bytes", value=limits.max_bytes
            )
        for info in infos:
            limits.count_entry()
            parts = _safe_parts(info.filename)
            kind = stat.S_IFMT(info.external_attr >> 16)  # Unix file type, when the archiver recorded one
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise _reject("links, devices and FIFOs are not accepted", entry=info.filename)
            if not parts:
                continue
            if info.is_dir():
                _target(dest, parts, info.filename).mkdir(parents=True, exist_ok=True)
                continue
            with zf.open(info) as src:
                _write(_target(dest, parts, info.filename), src, limits, info.filename)


def extract(path: Path, dest: Path, limits: ArchiveLimits) -> None:
    """Unpack ``path`` (tar.gz or zip, told by its first bytes) into the empty folder ``dest``."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    try:
        if magic[:2] == b"\x1f\x8b":
            _extract_tar(path, dest, limits)
        elif magic == b"PK\x03\x04":
            _extract_zip(path, dest, limits)
        else:
            raise ApiError(
                415, "unsupported_archive", "the body must be a tar.gz or zip archive of a snapshot directory"
            )
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise ApiError(422, "invalid_archive", f"archive: cannot be read ({exc})") from None
    except OSError as exc:  # gzip.BadGzipFile, names too long for the file system, ...
        shutil.rmtree(dest, ignore_errors=True)
        raise ApiError(422, "invalid_archive", f"archive: cannot be unpacked ({exc.strerror or exc})") from None
    except ApiError:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def snapshot_root(dest: Path) -> Path:
    """The snapshot directory inside the unpacked archive: the folder itself or its single sub-folder."""
    entries = [p for p in dest.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
    if any(p.name in ("accounts", "organization.json") for p in entries):
        return dest
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    raise ApiError(
        422,
        "invalid_snapshot",
        "archive: expected a snapshot directory (accounts/, organization.json) at the top or in one folder",
    )
