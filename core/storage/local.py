"""Object store in a local folder: the embedded default when no S3 bucket is configured."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.storage.errors import StorageError, StorageNotFound
from core.storage.keys import validate_key

__all__ = ["LocalObjectStore"]


class LocalObjectStore:
    """Each key is a file below ``root``; writes go to a temp file then ``os.replace`` (atomic).

    The content type is not kept: local readers know what they stored.
    """

    def __init__(self, root: Path) -> None:
        self._root = Path(root).resolve()

    @property
    def location(self) -> str:
        return str(self._root)

    def _path(self, key: str) -> Path:
        return self._root / validate_key(key)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write {key!r} under {self._root}: {exc.strerror or exc}") from exc

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StorageNotFound(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read {key!r} under {self._root}: {exc.strerror or exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise StorageNotFound(key)
        return path.stat().st_size

    def list_keys(self, prefix: str = "") -> list[str]:
        if not self._root.is_dir():
            return []
        keys = []
        for dirpath, _dirs, files in os.walk(self._root):
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                key = (Path(dirpath) / name).relative_to(self._root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except IsADirectoryError:
            return
        except OSError as exc:
            raise StorageError(f"cannot delete {key!r} under {self._root}: {exc.strerror or exc}") from exc
