"""The media folder in a backup: uploaded files (contract documents) as a tar archive beside the database
copy (``<backup file>.media``, encrypted like the database copy), with a SHA-256 and size per file in
the manifest's ``media`` entry, so a restore and a verification prove every file byte for byte.

Only regular files are taken (symbolic links and other special files are left out); a backup folder
placed inside the media folder is skipped. Restoring extracts into a new folder beside the media folder,
checks every file against the manifest, and only then puts it in the media folder's place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from kith.backups.errors import BackupError
from kith.backups.services import crypto

SUFFIX = ".media"
BLOCK = 1024 * 1024


def media_root() -> Path:
    """The folder uploaded files live in (``MEDIA_ROOT``; unset: the instance folder's ``media``)."""
    root = settings.MEDIA_ROOT or Path(getattr(settings, "INSTANCE_DIR", ".")) / "media"
    return Path(root)


def archive_path(backup_path: Path) -> Path:
    return backup_path.with_name(backup_path.name + SUFFIX)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileSum:
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"size": self.size, "sha256": self.sha256}


def _media_files(root: Path, skip: tuple[Path, ...] = ()) -> Iterator[tuple[str, Path]]:
    """(path relative to ``root`` with ``/``, absolute path) of every regular file, in a stable order."""
    if not root.is_dir():
        return
    skipped = {p.resolve() for p in skip}
    for folder, folders, files in os.walk(root, followlinks=False):
        here = Path(folder)
        folders[:] = sorted(name for name in folders if (here / name).resolve() not in skipped)
        for name in sorted(files):
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


def live_sums(root: Path | None = None, *, skip: tuple[Path, ...] = ()) -> dict[str, FileSum]:
    """Size and SHA-256 of every file in the media folder now."""
    root = root or media_root()
    return {
        name: FileSum(size=path.stat().st_size, sha256=_sha256(path))
        for name, path in _media_files(root, skip)
    }


class _Hashing:
    """A file read by tarfile that hashes what it reads: each file is read once for the archive and its sum."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def write_archive(target: Path, *, key: bytes | None, skip: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Archive the media folder into ``target`` (encrypted with ``key`` when given); the manifest entry."""
    root = media_root()
    files: dict[str, dict[str, Any]] = {}
    plain = target.with_name(target.name + ".partial")
    try:
        with tarfile.open(plain, "w", format=tarfile.PAX_FORMAT) as archive:
            for name, path in _media_files(root, skip):
                info = tarfile.TarInfo(name)
                stat = path.stat()
                info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
                with path.open("rb") as handle:
                    hashing = _Hashing(handle)
                    archive.addfile(info, hashing)  # type: ignore[arg-type]
                files[name] = {"size": info.size, "sha256": hashing.digest.hexdigest()}
        if key is not None:
            crypto.encrypt_file(plain, target, key)
        else:
            os.replace(plain, target)
        target.chmod(0o600)
    finally:
        plain.unlink(missing_ok=True)
    return {
        "file": target.name,
        "size": target.stat().st_size,
        "sha256": _sha256(target),
        "encrypted": key is not None,
        "files": files,
    }


@contextlib.contextmanager
def _plain_archive(path: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kith-media-", dir=path.parent) as folder:
        if crypto.is_encrypted(path):
            target = Path(folder) / "media.tar"
            crypto.decrypt_file(path, target, crypto.load_key())
            yield target
        else:
            yield path


def _safe_name(name: str) -> bool:
    pure = PurePosixPath(name)
    return bool(name) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in name


def check_archive_file(backup_path: Path, entry: dict[str, Any]) -> Path:
    """The media archive of a backup, present and with the SHA-256 its manifest records."""
    path = backup_path.with_name(str(entry.get("file") or archive_path(backup_path).name))
    if not path.exists():
        raise BackupError(
            _("The media archive %(path)s of this backup is missing: keep it beside the backup file.")
            % {"path": path}
        )
    if entry.get("sha256") and _sha256(path) != entry["sha256"]:
        raise BackupError(
            _("The media archive %(path)s does not match its manifest (SHA-256 differs): it is damaged.")
            % {"path": path}
        )
    return path


def read_sums(archive: Path) -> dict[str, FileSum]:
    """Size and SHA-256 of every file in a media archive (decrypted in a private temporary folder)."""
    sums: dict[str, FileSum] = {}
    with _plain_archive(archive) as plain, tarfile.open(plain, "r") as tar:
        for member in tar:
            if not member.isfile():
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(BLOCK), b""):  # noqa: B023 (read at once)
                digest.update(block)
            sums[member.name] = FileSum(size=member.size, sha256=digest.hexdigest())
    return sums


def differences(expected: dict[str, Any], actual: dict[str, FileSum]) -> list[tuple[str, str]]:
    """(file, what differs) for every file missing, added or changed against the manifest's list."""
    found = []
    for name in sorted(set(expected) | set(actual)):
        want, have = expected.get(name), actual.get(name)
        if want is None:
            found.append((name, _("file not in the backup")))
        elif have is None:
            found.append((name, _("file missing")))
        elif want.get("sha256") != have.sha256 or want.get("size") != have.size:
            found.append((name, _("content differs")))
    return found


@contextlib.contextmanager
def extracted(backup_path: Path, entry: dict[str, Any]) -> Iterator[Path]:
    """The backup's media files extracted into a new folder beside the media folder and checked against
    the manifest (size and SHA-256 of every file, no file more or less); removed afterwards unless
    ``put_in_place`` moved it."""
    archive = check_archive_file(backup_path, entry)
    root = media_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{root.name}-restore-", dir=root.parent))
    try:
        with _plain_archive(archive) as plain, tarfile.open(plain, "r") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                if not _safe_name(member.name):
                    raise BackupError(
                        _("The media archive holds a file outside the media folder: %(name)s")
                        % {"name": member.name}
                    )
                target = folder / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                with target.open("wb") as out:
                    shutil.copyfileobj(source, out, BLOCK)
                os.utime(target, (member.mtime, member.mtime))
        wrong = differences(entry.get("files", {}), live_sums(folder))
        if wrong:
            raise BackupError(
                _("The media archive does not match its manifest: %(files)s")
                % {"files": ", ".join(f"{name} ({why})" for name, why in wrong[:5])}
            )
        yield folder
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


def put_in_place(folder: Path) -> None:
    """Make ``folder`` the media folder; the files there before are removed (the database they belonged
    to has just been replaced too)."""
    root = media_root()
    previous = root.with_name(f".{root.name}-replaced-{os.getpid()}")
    if previous.exists():
        shutil.rmtree(previous)
    try:
        if root.exists():
            os.replace(root, previous)
    except OSError:
        # the media folder is a mount point (a volume): replace what is inside it instead
        for child in list(root.iterdir()):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        for child in list(folder.iterdir()):
            shutil.move(str(child), str(root / child.name))
        return
    try:
        os.replace(folder, root)
    except OSError:
        if previous.exists():
            os.replace(previous, root)
        raise
    shutil.rmtree(previous, ignore_errors=True)
