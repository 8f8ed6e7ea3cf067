"""Users, roles and rights, personal API tokens, sign-in throttling, audit log.

Plain Python on a :class:`data.store.Store`: the web app, the JSON API and the
CLI (``python -m dashapp users ...``) all call these functions, so a right is
defined once (:data:`RIGHTS`) and checked the same way everywhere.

Passwords are hashed with Werkzeug's ``generate_password_hash`` (scrypt, salted);
API tokens are random 256-bit secrets of which only the SHA-256 is stored.

Examples
--------
>>> allowed("planner", "scenario.run"), allowed("viewer", "scenario.run")
(True, False)
>>> role_at_least("analyst", "planner")
True
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from data.schema import ApiToken, AuditEvent, LoginAttempt, User
from data.store import AuditNote, Store

# Roles from least to most rights; each role has every right of the ones before.
ROLES = ("viewer", "planner", "analyst", "admin")

# right -> the least role that has it (one definition for app, API and CLI)
RIGHTS: dict[str, str] = {
    "view": "viewer",  # maps, KPIs, catalogue, saved scenarios, comparisons
    "scenario.run": "planner",  # optimisation, coverage curve
    "scenario.save": "planner",  # save, rename, duplicate; delete/restore own
    "scenario.export": "planner",  # exports of one's own scenarios
    "scenario.share": "planner",  # share links of one's own scenarios
    "sites.edit": "planner",  # candidate sites
    "roads.profile": "planner",  # speeds of the dataset's road network
    "export.any": "analyst",  # exports of every scenario, comparison workbooks
    "segmentation": "analyst",
    "forecast": "analyst",
    "scenario.manage_any": "admin",  # delete/restore/share anyone's scenario
    "import": "admin",
    "dataset.activate": "admin",
    "users.manage": "admin",
    "audit.read": "admin",
}

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
TOKEN_PREFIX = "rcs_"
# sign-in throttling: this many failures in the window lock the name (and address)
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


class UserError(ValueError):
    """A refused user operation; ``code`` names the rule for translations."""

    def __init__(self, code: str, message: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user (or the CLI's ``system``)."""

    id: int | None
    username: str
    role: str
    full_name: str = ""
    must_change_password: bool = False

    def can(self, right: str) -> bool:
        return allowed(self.role, right)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "full_name": self.full_name,
            "must_change_password": self.must_change_password,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Principal | None:
        if not isinstance(data, dict) or data.get("role") not in ROLES:
            return None
        return cls(
            data.get("id"),
            str(data.get("username", "")),
            data["role"],
            str(data.get("full_name", "")),
            bool(data.get("must_change_password")),
        )


SYSTEM = Principal(None, "system", "admin")


def role_at_least(role: str, least: str) -> bool:
    """Whether ``role`` ranks at or above ``least``."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(least)


def allowed(role: str, right: str) -> bool:
    """Whether ``role`` has ``right`` (unknown rights are refused)."""
    least = RIGHTS.get(right)
    return least is not None and role_at_least(role, least)


def may_manage(user: Principal | None, owner_id: int | None) -> bool:
    """Whether ``user`` may change, delete or share a scenario owned by ``owner_id``.

    Owners with ``scenario.save`` may; ``scenario.manage_any`` (admins) may for
    every scenario, including those saved before sign-in existed (no owner).

    Examples
    --------
    >>> may_manage(Principal(2, "awa", "planner"), 2)
    True
    >>> may_manage(Principal(2, "awa", "planner"), 3)
    False
    """
    if user is None:
        return False
    if user.can("scenario.manage_any"):
        return True
    return owner_id is not None and owner_id == user.id and user.can("scenario.save")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _check_username(username: Any) -> str:
    if not isinstance(username, str) or not USERNAME_RE.match(username.strip()):
        raise UserError(
            "bad_username",
            "a user name has 2 to 64 characters: letters, digits, '.', '_', '@', "
            f"'-', starting with a letter or digit; got {str(username)[:80]!r}",
        )
    return username.strip()


def _check_role(role: Any) -> str:
    if role not in ROLES:
        raise UserError(
            "bad_role",
            f"role should be one of {', '.join(ROLES)}, got {str(role)[:40]!r}",
        )
    return role


def check_password(password: Any) -> str:
    """A password to set: 10 to 256 characters, not only spaces."""
    if (
        not isinstance(password, str)
        or len(password) < MIN_PASSWORD
        or len(password) > MAX_PASSWORD
        or not password.strip()
    ):
        raise UserError(
            "weak_password",
            f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            min=MIN_PASSWORD,
        )
    return password


def new_password() -> str:
    """A random one-time password (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


def _principal(row) -> Principal:
    m = row._mapping
    return Principal(
        int(m["id"]),
        m["username"],
        m["role"],
        m["full_name"] or "",
        bool(m["must_change_password"]),
    )


def count_users(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(User)).scalar_one())


def create_user(
    store: Store,
    username: str,
    password: str,
    role: str,
    *,
    full_name: str = "",
    must_change_password: bool = True,
    oidc_subject: str | None = None,
) -> Principal:
    """Add a user; ``must_change_password`` makes the password one-time.

    ``oidc_subject`` links a single sign-on account to its provider's ``sub``.
    """
    username = _check_username(username)
    role = _check_role(role)
    check_password(password)
    full_name = str(full_name or "")[:120]
    try:
        with store.engine.begin() as conn:
            new_id = conn.execute(
                User.__table__.insert()
                .values(
                    username=username,
                    full_name=full_name,
                    role=role,
                    password_hash=generate_password_hash(password),
                    must_change_password=bool(must_change_password),
                    is_active=True,
                    session_epoch=0,
                    created_at=_now(),
                    oidc_subject=oidc_subject,
                )
                .returning(User.id)
            ).scalar_one()
    except IntegrityError:
        raise UserError(
            "user_exists", f"user {username!r} exists already", username=username
        ) from None
    return Principal(new_id, username, role, full_name, bool(must_change_password))


def _row(store: Store, username: str):
    with store.engine.connect() as conn:
        return conn.execute(
            select(User.__table__).where(User.username == username)
        ).first()


def get_user(store: Store, username: str) -> Principal:
    """The user named ``username`` (:class:`UserError` ``unknown_user`` if none)."""
    row = _row(store, str(username)) if isinstance(username, str) else None
    if row is None:
        raise UserError(
            "unknown_user", f"no user named {str(username)[:64]!r}", username=username
        )
    return _principal(row)


def session_user(store: Store, user_id: Any, epoch: Any) -> Principal | None:
    """The active user of a session, if the session is still valid."""
    if (
        not isinstance(user_id, int)
        or isinstance(user_id, bool)
        or not isinstance(epoch, int)
        or not 0 < user_id < 2**62
    ):
        return None
    with store.engine.connect() as conn:
        row = conn.execute(select(User.__table__).where(User.id == user_id)).first()
    if row is None or not row.is_active or row.session_epoch != epoch:
        return None
    return _principal(row)


def oidc_sign_in(store: Store, subject: str) -> Principal | None:
    """The user linked to an OpenID Connect ``subject``, signing in now.

    ``None`` when no user is linked to it; :class:`UserError` ``disabled`` when
    that user is disabled. The time of the last sign-in is updated.
    """
    with store.engine.begin() as conn:
        row = conn.execute(
            select(User.__table__).where(User.oidc_subject == subject)
        ).first()
        if row is None:
            return None
        if not row.is_active:
            raise UserError(
                "disabled", f"user {row.username!r} is disabled", username=row.username
            )
        conn.execute(update(User).where(User.id == row.id).values(last_login_at=_now()))
    return _principal(row)


def session_epoch(store: Store, user_id: int) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(User.session_epoch).where(User.id == user_id)
            ).scalar_one()
        )


def recent_failures(store: Store, username: str, address: str) -> int:
    """Failed sign-ins for this name or from this address within the window."""
    since = _now() - FAILURE_WINDOW
    with store.engine.begin() as conn:
        conn.execute(delete(LoginAttempt).where(LoginAttempt.at < since))
        by_name = conn.execute(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.username == username[:64], LoginAttempt.at >= since)
        ).scalar_one()
        by_address = conn.execute(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.address == address[:64], LoginAttempt.at >= since)
        ).scalar_one()
    # an address may try a few names (a shared office), a name few passwords
    return max(int(by_name), int(by_address) // 4)


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, made as a user's is (method and cost)."""
    return generate_password_hash(secrets.token_urlsafe(24))


def authenticate(
    store: Store, username: Any, password: Any, address: str = ""
) -> Principal:
    """Check a sign-in; raise :class:`UserError` (``bad_credentials``, ``locked``).

    Failures are counted per name and per address; after :data:`MAX_FAILURES`
    within :data:`FAILURE_WINDOW` every attempt is refused until the window passes,
    right password or not, so guessing is slow. A name that no user has costs
    the same hash check as a wrong password (against :func:`_dummy_hash`).
    """
    _dummy_hash()  # made at the first sign-in of the process, whoever signs in
    name = username if isinstance(username, str) else ""
    name = name.strip()[:64]
    if recent_failures(store, name, address) >= MAX_FAILURES:
        raise UserError(
            "locked",
            "too many failed sign-ins: try again in 15 minutes",
            minutes=int(FAILURE_WINDOW.total_seconds() // 60),
        )
    row = _row(store, name) if name else None
    usable = isinstance(password, str) and len(password) <= MAX_PASSWORD
    # one hash check whether the name exists or not: the same scrypt work, so the
    # answer's delay does not tell which user names exist
    matches = check_password_hash(
        row.password_hash if row is not None else _dummy_hash(),
        password if usable else "",
    )
    ok = row is not None and usable and matches and row.is_active
    if not ok:
        with store.engine.begin() as conn:
            conn.execute(
                LoginAttempt.__table__.insert().values(
                    username=name, address=address[:64], at=_now()
                )
            )
        raise UserError("bad_credentials", "wrong user name or password")
    with store.engine.begin() as conn:
        conn.execute(update(User).where(User.id == row.id).values(last_login_at=_now()))
        conn.execute(delete(LoginAttempt).where(LoginAttempt.username == name))
    return _principal(row)


def end_sessions(store: Store, user_id: int) -> None:
    """End every open session of a user (signing out): their epoch moves on.

    The session cookie holds the epoch it started with; copies of it, and the
    user's sessions in other browsers, are refused from now on.
    """
    with store.engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.id == user_id)
            .values(session_epoch=User.session_epoch + 1)
        )


def _change(store: Store, username: str, **values: Any) -> Principal:
    user = get_user(store, username)
    with store.engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.id == user.id)
            .values(session_epoch=User.session_epoch + 1, **values)
        )
    return get_user(store, username)


def _check_not_last_admin(store: Store, user: Principal) -> None:
    with store.engine.connect() as conn:
        admins = conn.execute(
            select(func.count())
            .select_from(User)
            .where(User.role == "admin", User.is_active.is_(True))
        ).scalar_one()
    if user.role == "admin" and admins <= 1:
        raise UserError(
            "last_admin",
            f"{user.username!r} is the last active admin: give another user the "
            "admin role first",
            username=user.username,
        )


def set_role(store: Store, username: str, role: str) -> Principal:
    """Change a user's role; their open sessions end."""
    role = _check_role(role)
    user = get_user(store, username)
    if role != "admin":
        _check_not_last_admin(store, user)
    return _change(store, username, role=role)


def set_active(store: Store, username: str, active: bool) -> Principal:
    """Disable (or enable again) a user; a disabled user's sessions and tokens end."""
    user = get_user(store, username)
    if not active:
        _check_not_last_admin(store, user)
    return _change(store, username, is_active=bool(active))


def set_password(
    store: Store, username: str, password: str, *, must_change: bool = False
) -> Principal:
    """Set a password (one-time when ``must_change``); other sessions end."""
    check_password(password)
    return _change(
        store,
        username,
        password_hash=generate_password_hash(password),
        must_change_password=bool(must_change),
    )


def list_users(store: Store) -> pd.DataFrame:
    """Every user without secrets: id, username, full_name, role, active, dates."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                User.id,
                User.username,
                User.full_name,
                User.role,
                User.is_active,
                User.must_change_password,
                User.created_at,
                User.last_login_at,
            ).order_by(User.username)
        ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "username",
            "full_name",
            "role",
            "is_active",
            "must_change_password",
            "created_at",
            "last_login_at",
        ],
    )


# -- API tokens -------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(store: Store, user: Principal, name: str) -> tuple[int, str]:
    """A new API token for ``user``: ``(id, secret)``; the secret is shown once."""
    name = str(name or "").strip()[:120] or "API"
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.engine.begin() as conn:
        token_id = conn.execute(
            ApiToken.__table__.insert()
            .values(
                user_id=user.id,
                name=name,
                prefix=secret[:10],
                token_hash=_token_hash(secret),
                created_at=_now(),
            )
            .returning(ApiToken.id)
        ).scalar_one()
    return int(token_id), secret


def token_user(store: Store, secret: Any) -> Principal | None:
    """The active user owning an unrevoked token, or ``None``."""
    if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX):
        return None
    if len(secret) > 100:
        return None
    digest = _token_hash(secret)
    with store.engine.begin() as conn:
        row = conn.execute(
            select(User.__table__, ApiToken.id.label("token_id"))
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
        ).first()
        if row is None or not row.is_active:
            return None
        conn.execute(
            update(ApiToken)
            .where(ApiToken.id == row.token_id)
            .values(last_used_at=_now())
        )
    return _principal(row)


def list_tokens(store: Store, user: Principal | None = None) -> pd.DataFrame:
    """Tokens (of one user, or all): id, user, name, prefix, dates; no secrets."""
    query = (
        select(
            ApiToken.id,
            User.username,
            ApiToken.name,
            ApiToken.prefix,
            ApiToken.created_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
        )
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.id)
    )
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "username",
            "name",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
        ],
    )


def revoke_token(store: Store, user: Principal, token_id: int) -> None:
    """Revoke one of ``user``'s tokens (any token for ``users.manage``)."""
    query = update(ApiToken).where(
        ApiToken.id == token_id, ApiToken.revoked_at.is_(None)
    )
    if not user.can("users.manage"):
        query = query.where(ApiToken.user_id == user.id)
    with store.engine.begin() as conn:
        done = conn.execute(query.values(revoked_at=_now())).rowcount
    if not done:
        raise UserError("unknown_token", f"no active token {token_id} of yours")


# -- audit log ---------------------------------------------------------------------------
def audit(
    store: Store,
    who: Principal | str,
    action: str,
    target: Any = "",
    detail: dict[str, Any] | None = None,
    address: str = "",
) -> None:
    """Record one change: who, what, on what, with details as JSON."""
    with store.engine.begin() as conn:
        conn.execute(
            AuditEvent.__table__.insert().values(
                note(who, action, detail, address).row(target)
            )
        )


def note(
    who: Principal | str,
    action: str,
    detail: dict[str, Any] | None = None,
    address: str = "",
) -> AuditNote:
    """The audit event of a change written elsewhere (``Store.add_dataset(audit=)``)."""
    username = who.username if isinstance(who, Principal) else str(who)
    return AuditNote(username, action, detail, address)


def audit_events(store: Store, limit: int = 500) -> pd.DataFrame:
    """The newest audit events first: at, username, action, target, detail, address."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                AuditEvent.at,
                AuditEvent.username,
                AuditEvent.action,
                AuditEvent.target,
                AuditEvent.detail,
                AuditEvent.address,
            )
            .order_by(AuditEvent.id.desc())
            .limit(int(limit))
        ).all()
    return pd.DataFrame(
        rows, columns=["at", "username", "action", "target", "detail", "address"]
    )
