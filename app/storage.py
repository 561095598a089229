"""Where staged store output, archives and certificates live: one interface, two places.

- a local folder (the default, ARCHIVE_DIR): everything on one machine, no copying at all;
- an S3-compatible bucket (STORAGE_URL=s3://bucket/prefix, S3_ENDPOINT_URL for MinIO and the
  like): workers on several machines stage each store's part in their own WORK_DIR, upload it,
  and whichever worker assembles downloads the parts, builds the archive and uploads it.

Keys are "/"-separated paths: staging/<reference>/<store>/..., <reference>/<file>.

Everything here is the person's data (staged parts are plain JSON, CSV and their files), so
what the portal writes is for its own user only: folders 0700, files 0600, copies included
(``private_dir``, ``private_opener``), whatever the process umask.
"""
import abc
import contextlib
import functools
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from flask import current_app

# Written last by staging: a store folder without it is incomplete and ignored on download.
SUMMARY = "staged.json"
COPY_CHUNK = 1024 * 1024


def private_dir(folder) -> Path:
    """``folder``, created 0700 with every missing parent (an existing one is left as it is)."""
    folder = missing = Path(folder)
    absent = []
    while not missing.exists() and missing != missing.parent:
        absent.append(missing)
        missing = missing.parent
    for path in reversed(absent):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass  # another process made it meanwhile
    return folder


def private_opener(path, flags):
    """For ``open(..., opener=private_opener)``: a new file is created 0600."""
    return os.open(path, flags, 0o600)


def copy_private(source: Path, target: Path) -> None:
    """Copy one file's bytes into a new 0600 file (never its mode: the source may be 0644)."""
    private_dir(Path(target).parent)
    with open(source, "rb") as src, open(target, "wb", opener=private_opener) as out:
        shutil.copyfileobj(src, out, COPY_CHUNK)


def copy_tree_private(source: Path, target: Path) -> None:
    """Copy every file under ``source`` into ``target`` (merged), the summary files last."""
    files = sorted((p for p in Path(source).rglob("*") if p.is_file()),
                   key=lambda p: p.name == SUMMARY)
    private_dir(target)
    for path in files:
        copy_private(path, Path(target) / path.relative_to(source))


def write_atomically(path: Path, write) -> None:
    """Write ``path`` through ``write(file)`` so that it is complete or not there at all.

    A name of its own per writer, flushed to disk before it takes the final name, removed if
    the write fails (a full disk; what a kill leaves goes with its <reference>/ folder).
    """
    path = Path(path)
    fd, part = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def drop_local_copy(path: Path, key: str) -> None:
    """Remove this machine's copy (a file or a folder) of what storage now holds at ``key``,
    and its parent folder once empty; nothing when the copy is storage's own file."""
    path = Path(path)
    if storage().local_path(key) == path.resolve():
        return
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: another part of the request is there
        path.parent.rmdir()


class Storage(abc.ABC):
    """A tree of files addressed by keys."""

    @abc.abstractmethod
    def put_tree(self, local: Path, key: str) -> None:
        """Replace everything under `key` with the folder `local` (its summary file last)."""

    @abc.abstractmethod
    def get_tree(self, key: str, local: Path) -> None:
        """Copy everything under `key` into the folder `local`."""

    @abc.abstractmethod
    def put_file(self, local: Path, key: str) -> None:
        """Store one finished file (an archive, a certificate) under `key`."""

    @abc.abstractmethod
    def open(self, key: str):
        """A binary stream of the file at `key` (FileNotFoundError when it is not there)."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file or the whole tree at `key`; nothing there is fine."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a finished file is at `key` (checked before a download is counted)."""

    def download_url(self, key: str, filename: str, mimetype: str, seconds: int) -> str | None:
        """A short-lived URL the browser can fetch the file from itself, or None (serve it)."""
        return None

    def download_origin(self) -> str | None:
        """The scheme://host of `download_url`s, for the CSP of pages that lead there."""
        return None

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk, when there is one (lets Flask send it directly)."""
        return None


def _safe_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or ".." in parts:
        raise ValueError(f"not a storage key: {key!r}")
    return "/".join(parts)


class LocalStorage(Storage):
    """A folder. Work happens in it directly, so putting and getting the same path is free."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put_tree(self, local, key):
        target = self.path(key)
        if Path(local).resolve() == target:
            return
        shutil.rmtree(target, ignore_errors=True)
        copy_tree_private(local, target)

    def get_tree(self, key, local):
        source = self.path(key)
        if Path(local).resolve() == source or not source.exists():
            return
        copy_tree_private(source, local)

    def put_file(self, local, key):
        target = self.path(key)
        self._private_folders(target.parent)
        if Path(local).resolve() == target:
            return
        with open(local, "rb") as src:
            write_atomically(target, lambda out: shutil.copyfileobj(src, out, COPY_CHUNK))

    def _private_folders(self, folder: Path) -> None:
        """Make ``folder`` and the folders between it and the root 0700: they are the
        portal's own, and the file built in place (the archive) sits in one made elsewhere."""
        private_dir(folder)
        while folder != self.root and self.root in folder.parents:
            os.chmod(folder, 0o700)
            folder = folder.parent

    def open(self, key):
        return self.path(key).open("rb")

    def delete(self, key):
        target = self.path(key)
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)

    def exists(self, key):
        return self.path(key).is_file()

    def local_path(self, key):
        return self.path(key)


class S3Storage(Storage):
    """An S3-compatible bucket through boto3 (multipart uploads, streamed downloads)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None):
        import boto3  # only deployments that use a bucket need it loaded
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        # SigV4: what every region and S3-compatible server accepts for presigned URLs.
        self.client = boto3.client("s3", endpoint_url=endpoint_url,
                                   config=Config(signature_version="s3v4"))

    def _key(self, key: str) -> str:
        key = _safe_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _keys_under(self, key: str):
        prefix = self._key(key) + "/"
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"], item["Key"][len(prefix):]

    def put_tree(self, local, key):
        self.delete(key)
        files = sorted(p for p in Path(local).rglob("*") if p.is_file())
        # The summary goes last: a reader never sees a store part without all its files.
        for path in sorted(files, key=lambda p: p.name == SUMMARY):
            rel = path.relative_to(local).as_posix()
            self.client.upload_file(str(path), self.bucket, self._key(f"{key}/{rel}"))

    def get_tree(self, key, local):
        for full, rel in self._keys_under(key):
            target = Path(local) / _safe_key(rel)
            private_dir(target.parent)
            with open(target, "wb", opener=private_opener) as out:
                self.client.download_fileobj(self.bucket, full, out)

    def put_file(self, local, key):
        self.client.upload_file(str(local), self.bucket, self._key(key))

    def open(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(key) from exc

    def download_url(self, key, filename, mimetype, seconds):
        # Signed locally (no request to the bucket); the name and type ride in the URL so the
        # browser saves the file as it would from the portal.
        return self.client.generate_presigned_url("get_object", ExpiresIn=seconds, Params={
            "Bucket": self.bucket, "Key": self._key(key), "ResponseContentType": mimetype,
            "ResponseContentDisposition": f'attachment; filename="{filename}"'})

    @functools.cached_property
    def _origin(self):
        url = urlparse(self.download_url("origin-probe", "x", "application/octet-stream", 60))
        return f"{url.scheme}://{url.netloc}"

    def download_origin(self):
        # The endpoint and bucket never change for this object: sign a probe URL once.
        return self._origin

    def exists(self, key):
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key):
        doomed = [{"Key": full} for full, _ in self._keys_under(key)] + [{"Key": self._key(key)}]
        for start in range(0, len(doomed), 1000):  # the API's limit per call
            self.client.delete_objects(Bucket=self.bucket,
                                       Delete={"Objects": doomed[start:start + 1000]})


def storage(app=None):
    """The configured storage, built once per app."""
    app = app or current_app
    existing = app.extensions.get("dsr_storage")
    if existing is None:
        url = urlparse(app.config["STORAGE_URL"] or "")
        if url.scheme == "s3":
            existing = S3Storage(url.netloc, url.path, app.config["S3_ENDPOINT_URL"])
        elif url.scheme in ("", "file"):
            existing = LocalStorage(url.path or app.config["ARCHIVE_DIR"])
        else:
            raise RuntimeError(f"STORAGE_URL must be s3://bucket/prefix or a folder, not {url!r}")
        app.extensions["dsr_storage"] = existing
    return existing


def work_dir(app=None):
    """This machine's scratch folder (the storage folder itself when storage is local)."""
    app = app or current_app
    folder = Path(app.config["WORK_DIR"] or app.config["ARCHIVE_DIR"])
    private_dir(folder)
    return folder
