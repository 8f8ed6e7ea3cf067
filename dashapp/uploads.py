"""Where the import screen keeps uploaded files, under ids the server made and signed.

The browser holds only a signed token naming an upload folder that the server
created for one user; the server checks the signature and the user, and resolves
every path inside ``<shared folder>/uploads`` before any read, write or delete.
File names from the browser are reduced to safe base names and must name files the
server saved.

The shared folder (``DASHAPP_SHARED_DIR``, the data folder by default) is the one
every web server and worker sees: an upload received by one web server is checked
and imported by a worker that may run on another machine.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature

from dashapp.auth import secret_key, upload_serializer
from dashapp.config import Config
from dashapp.parsing import BadInputError, upload_name
from dashapp.services.importing import ROLES

_ID = re.compile(r"^[0-9a-f]{32}$")


def uploads_root(config: Config) -> Path:
    return (Path(config.shared_root) / "uploads").resolve()


def new_token(config: Config, user_id: int | None) -> str:
    """A fresh upload folder id for ``user_id``, signed for the browser."""
    return upload_serializer(secret_key(config)).dumps(
        {"u": user_id, "id": uuid.uuid4().hex}
    )


def folder_of(config: Config, token: Any, user_id: int | None) -> Path:
    """The upload folder a signed token names, checked to be this user's and inside.

    Raises
    ------
    BadInputError
        Forged, altered or someone else's token.
    """
    if not isinstance(token, str) or len(token) > 300:
        raise BadInputError("the upload reference is not valid", "upload_ref")
    try:
        data = upload_serializer(secret_key(config)).loads(token)
    except BadSignature:
        raise BadInputError("the upload reference is not valid", "upload_ref") from None
    if (
        not isinstance(data, dict)
        or data.get("u") != user_id
        or not isinstance(data.get("id"), str)
        or not _ID.match(data["id"])
    ):
        raise BadInputError("the upload reference is not valid", "upload_ref")
    root = uploads_root(config)
    folder = (root / data["id"]).resolve()
    if folder.parent != root:
        raise BadInputError("the upload reference is not valid", "upload_ref")
    return folder


def file_in(folder: Path, name: Any) -> Path:
    """The saved file ``name`` inside ``folder`` (a safe base name that exists)."""
    safe = upload_name(name)
    path = (folder / safe).resolve()
    if path.parent != folder or not path.is_file():
        raise BadInputError(
            f"no uploaded file named {safe!r}", "upload_missing", value=safe
        )
    return path


def checked_files(folder: Path, files: Any) -> list[dict]:
    """The browser's list of uploaded files, kept only where it names saved files.

    Each entry keeps a safe name, a known role and a mapping dict; anything else
    raises :class:`BadInputError`.
    """
    if not isinstance(files, list) or len(files) > 50:
        raise BadInputError("the list of uploaded files is not valid", "upload_ref")
    kept = []
    for f in files:
        if not isinstance(f, dict):
            raise BadInputError("the list of uploaded files is not valid", "upload_ref")
        path = file_in(folder, f.get("name"))
        role = f.get("role")
        if role not in ROLES:
            raise BadInputError(f"unknown file role {str(role)[:40]!r}", "upload_ref")
        mapping = f.get("mapping") or {}
        if not isinstance(mapping, dict):
            raise BadInputError("the column mapping is not valid", "upload_ref")
        kept.append(dict(f, name=path.name, role=role, mapping=mapping))
    return kept


def remove(config: Config, token: Any, user_id: int | None) -> None:
    """Delete an upload folder (only one the token proves is this user's)."""
    try:
        folder = folder_of(config, token, user_id)
    except BadInputError:
        return
    shutil.rmtree(folder, ignore_errors=True)
