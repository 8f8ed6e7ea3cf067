"""``python -m dashapp users ...``: user accounts and API tokens from a terminal.

The store is made ready as the web app does on start (schema, demo data on an
empty store, the first admin). Every change is written to the audit log with
``cli`` as who. A refused operation prints one line on stderr and exits with 2.

Examples
--------
``python -m dashapp users add awa.diop --role planner --full-name "Awa Diop"``
prints a one-time password once; ``... users list`` prints every user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from dashapp.config import Config

WHO = "cli"


def add_parser(
    subparsers, common: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.ArgumentParser:
    """Declare ``users`` and its actions; ``common`` adds the shared store options."""
    from data.users import ROLES

    parser = subparsers.add_parser(
        "users", help="user accounts and API tokens: list, add, set-role, ..."
    )
    actions = parser.add_subparsers(dest="users_action", required=True)

    def action(name: str, text: str, username: bool = True):
        sub = actions.add_parser(name, help=text, description=text)
        if common is not None:
            common(sub)
        if username:
            sub.add_argument("username")
        return sub

    def password_stdin(sub) -> None:
        sub.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin instead of "
            "generating one (it is still one-time: changed at first sign-in)",
        )

    add = action("add", "add a user; prints a one-time password once")
    add.add_argument("--role", choices=ROLES, default="viewer", help="(viewer)")
    add.add_argument("--full-name", default="", help="name shown in the app")
    password_stdin(add)
    listing = action("list", "print every user (or every API token)", False)
    listing.add_argument(
        "--tokens", action="store_true", help="list API tokens instead (no secrets)"
    )
    action("set-role", "change a user's role; their sessions end").add_argument(
        "role", choices=ROLES
    )
    action("disable", "disable a user; their sessions and API tokens stop working")
    action("enable", "enable a disabled user again")
    password_stdin(
        action(
            "reset-password",
            "give a user a new one-time password (printed once); sessions end",
        )
    )
    action(
        "token-create", "create an API token for a user; prints its secret once"
    ).add_argument("--name", default="API", help="what the token is for (API)")
    action("token-revoke", "revoke one of a user's API tokens").add_argument(
        "token_id", type=int, help="the token's number (see list --tokens)"
    )
    return parser


def _password(args) -> tuple[str, bool]:
    """The password to set and whether it was generated (and so must be shown)."""
    from data import users

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return users.new_password(), True


def _show_password(username: str, password: str) -> None:
    print(f"one-time password of {username}: {password}")
    print("(shown only once; a new password is asked for at first sign-in)")


def _when(value) -> str:
    import pandas as pd

    return "-" if value is None or pd.isna(value) else f"{value:%Y-%m-%d %H:%M}"


def _add(store, args, config) -> int:
    from data import users

    password, generated = _password(args)
    user = users.create_user(
        store,
        args.username,
        password,
        args.role,
        full_name=args.full_name,
        must_change_password=True,
    )
    users.audit(store, WHO, "user.create", user.username, {"role": user.role})
    print(f"user {user.username} created with the role {user.role}")
    if generated:
        _show_password(user.username, password)
    return 0


def _list(store, args, config) -> int:
    from data import users

    if args.tokens:
        frame = users.list_tokens(store)
        columns = {
            "id": "id",
            "username": "user",
            "name": "name",
            "prefix": "prefix",
            "created_at": "created (UTC)",
            "last_used_at": "last used (UTC)",
            "revoked_at": "revoked (UTC)",
        }
    else:
        frame = users.list_users(store).drop(columns="id")
        columns = {
            "username": "user",
            "full_name": "full name",
            "role": "role",
            "is_active": "active",
            "must_change_password": "must change password",
            "created_at": "created (UTC)",
            "last_login_at": "last sign-in (UTC)",
        }
    if frame.empty:
        print("(none)")
        return 0
    for column in frame.columns:
        if column.endswith("_at"):
            frame[column] = frame[column].map(_when)
        elif frame[column].dtype == bool:
            frame[column] = frame[column].map({True: "yes", False: "no"})
    print(frame.rename(columns=columns).to_string(index=False))
    return 0


def _set_role(store, args, config) -> int:
    from data import users

    before = users.get_user(store, args.username).role
    user = users.set_role(store, args.username, args.role)
    users.audit(
        store, WHO, "user.role", user.username, {"role": user.role, "before": before}
    )
    print(f"{user.username} now has the role {user.role}; their sessions ended")
    return 0


def _set_active(store, args, config) -> int:
    from data import users

    active = args.users_action == "enable"
    user = users.set_active(store, args.username, active)
    users.audit(store, WHO, f"user.{args.users_action}", user.username)
    print(f"{user.username} {'enabled' if active else 'disabled'}")
    return 0


def _reset_password(store, args, config) -> int:
    from data import users

    password, generated = _password(args)
    user = users.set_password(store, args.username, password, must_change=True)
    users.audit(store, WHO, "user.reset_password", user.username)
    print(f"password of {user.username} reset; their sessions ended")
    if generated:
        _show_password(user.username, password)
    return 0


def _token_create(store, args, config) -> int:
    from dashapp.api import PREFIX
    from data import users

    user = users.get_user(store, args.username)
    token_id, secret = users.create_token(store, user, args.name)
    tokens = users.list_tokens(store, user)
    name = tokens.loc[tokens["id"] == token_id, "name"].iloc[0]
    users.audit(
        store, WHO, "token.create", user.username, {"token_id": token_id, "name": name}
    )
    print(f"token {token_id} '{name}' of {user.username} (shown only once):")
    print(secret)
    print(
        f'use: curl -H "Authorization: Bearer {secret}" '
        f"http://{config.host}:{config.port}{PREFIX}/datasets"
    )
    return 0


def _token_revoke(store, args, config) -> int:
    from data import users

    user = users.get_user(store, args.username)
    # the token must be this user's, even when the user is an admin
    if args.token_id not in set(users.list_tokens(store, user)["id"]):
        raise users.UserError(
            "unknown_token",
            f"{user.username} has no token {args.token_id}",
        )
    users.revoke_token(store, user, args.token_id)
    users.audit(store, WHO, "token.revoke", user.username, {"token_id": args.token_id})
    print(f"token {args.token_id} of {user.username} revoked")
    return 0


HANDLERS = {
    "add": _add,
    "list": _list,
    "set-role": _set_role,
    "disable": _set_active,
    "enable": _set_active,
    "reset-password": _reset_password,
    "token-create": _token_create,
    "token-revoke": _token_revoke,
}


def run(args: argparse.Namespace, config: Config) -> int:
    """Run ``users <action>``; exit code 0, or 2 when refused."""
    from dashapp import auth, services
    from dashapp.bootstrap import ensure_store
    from data.users import UserError

    store = services.get_store(config.database_url)
    ensure_store(store, config.demo_seed, config.demo_communes)
    auth.ensure_admin(store, config)
    try:
        return HANDLERS[args.users_action](store, args, config)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
