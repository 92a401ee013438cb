"""Capability `files`: files members give the app, and files it keeps.

A file info has `id`, `name`, `content_type` (read by the host from the
bytes), `size`, `sha256`, `uploaded_by` (None for the app's own) and
`created_at`. Files the app creates exist only if the invocation returns
normally.
"""

from . import _host
from ._wit import capability as _cap
from .errors import Invalid

_cap("files")  # the bindings, imported while the component is built

__all__ = ["stat", "read", "read_all", "create", "delete", "FileWriter", "is_image",
           "MAX_CHUNK", "MAX_READ_ALL", "IMAGE_TYPES"]

MAX_CHUNK = 1 << 20
MAX_READ_ALL = 16 << 20
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def stat(id: str):
    """A file given to the app in this invocation, or one of its own."""
    return _host.call("files", "stat", id)


def read(id: str, offset: int = 0, length: int = MAX_CHUNK) -> bytes:
    """Up to `length` (at most 1 MiB) bytes from `offset`."""
    return _host.call("files", "read", id, offset, length)


def read_all(id: str) -> bytes:
    """The whole file, 1 MiB at a time (at most 16 MiB)."""
    info = stat(id)
    if info.size > MAX_READ_ALL:
        raise Invalid(f"`{id}` is {info.size} bytes; read_all reads at most {MAX_READ_ALL}: use read")
    out = bytearray()
    while True:
        chunk = read(id, len(out), MAX_CHUNK)
        if not chunk:
            return bytes(out)
        out.extend(chunk)


class FileWriter:
    """Write a new file piece by piece: `w = FileWriter(name)`, `w.write(b)`,
    `info = w.finish()`. Unfinished writers leave nothing."""

    def __init__(self, name: str):
        self._upload = _host.call("files", "create", name)
        self._buf = bytearray()

    def write(self, data) -> int:
        self._buf.extend(data.encode("utf-8") if isinstance(data, str) else data)
        while len(self._buf) >= MAX_CHUNK:
            _host.call("files", "append", self._upload, bytes(self._buf[:MAX_CHUNK]))
            del self._buf[:MAX_CHUNK]
        return len(data)

    def finish(self):
        if self._buf:
            _host.call("files", "append", self._upload, bytes(self._buf))
            self._buf.clear()
        return _host.call("files", "finish", self._upload)


def create(name: str, data) -> object:
    """Write a whole new file; its info."""
    w = FileWriter(name)
    w.write(data)
    return w.finish()


def delete(id: str) -> bool:
    """Let go of one of the installation's files; True if it held it."""
    return _host.call("files", "delete", id)


def is_image(info) -> bool:
    return info.content_type in IMAGE_TYPES
