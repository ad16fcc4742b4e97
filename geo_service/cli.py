"""The ``geo-service`` command: set up a database, load boundaries, edit routing rules,
generate demo data and serve the API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError

from boundaries.importer import BoundaryError
from geo_service import db
from geo_service.config import get_settings
from geo_service.errors import DomainError
from geo_service.profile import load_profile


def _engine() -> Engine:
    return db.sync_engine(get_settings().sqlalchemy_url)


def cmd_init(args: argparse.Namespace) -> int:
    from geo_service.seed import init_database

    settings = get_settings()
    if db.ensure_database(settings.sqlalchemy_url):
        print("created the database")
    db.migrate(settings.sqlalchemy_url)
    print("schema is at the newest migration")
    with _engine().begin() as conn:
        init_database(conn, load_profile(settings.city_profile))
    if args.demo_reports:
        from geo_service.demo import generate_demo_reports

        with _engine().begin() as conn:
            have = conn.execute(text("SELECT count(*) FROM reports WHERE source = 'demo'")).scalar()
        if have:
            print(f"{have} demo reports already present")
        else:
            generate_demo_reports(args.demo_reports, settings=settings)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "geo_service.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=args.access_log,
        log_level="info",
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from geo_service.notify.worker import main as worker_main

    return worker_main(get_settings(), wait=not args.once)


def cmd_units_notify(args: argparse.Namespace) -> int:
    """A unit's notification addresses and digest, as the admin API sets them."""
    import asyncio

    from geo_service.db import make_async_engine
    from geo_service.notify import manage

    async def run() -> manage.UnitNotifications:
        engine = make_async_engine(get_settings())
        try:
            async with engine.begin() as conn:
                current = await manage.unit_notifications(conn, args.unit)
                if args.add or args.remove or args.digest_hours is not None or args.each:
                    kept = [a for a in current.addresses if str(a.email) not in args.remove]
                    kept += [manage.UnitAddress(email=e, lang=args.lang) for e in args.add]
                    hours = None if args.each else args.digest_hours or current.digest_hours
                    wanted = manage.UnitNotifications(addresses=kept, digest_hours=hours)
                    current = await manage.set_unit_notifications(conn, args.unit, wanted)
                return current
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    for a in result.addresses:
        print(f"{a.email}\t{a.lang}")
    hours = result.digest_hours
    print("each report" if hours is None else f"a digest every {hours} hours")
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from geo_service import routing

    with _engine().begin() as conn:
        if args.rules_cmd == "list":
            for rule in routing.list_rules(conn):
                print(rule)
        elif args.rules_cmd == "add":
            area = Path(args.area_file).read_text() if args.area_file else None
            rule_id = routing.add_rule(
                conn,
                category=args.category,
                unit=args.unit,
                ward=args.ward,
                area_geojson=area,
                priority=args.priority,
                precedence=args.precedence,
            )
            print(f"added rule {rule_id}")
        elif args.rules_cmd == "remove":
            routing.deactivate_rule(conn, args.id)
            print(f"rule {args.id} deactivated")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """The new password: from stdin (scripts, `printf %s "$PW" | ...`) or typed twice."""
    from geo_service.auth import check_password_strength

    if args.password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ValueError("the two passwords differ")
    check_password_strength(password)
    return password


def cmd_users(args: argparse.Namespace) -> int:
    from geo_service import accounts
    from geo_service.auth import hash_password

    if args.users_cmd == "list":
        with _engine().connect() as conn:
            users = accounts.list_users(conn, unit_code=args.unit)
        for u in users:
            state = "" if u.active else "  (disabled)"
            print(
                f"{u.id:5} {u.username:24} {u.role:13} {u.unit_code or '-':20} "
                f"{u.display_name}{state}"
            )
        return 0
    if args.users_cmd == "create":
        password_hash = hash_password(_read_password(args))
        with _engine().begin() as conn:
            user_id = accounts.create_user(
                conn,
                username=args.username,
                role=args.role,
                unit_code=args.unit,
                password_hash=password_hash,
                display_name=args.display_name,
            )
        print(f"created user {user_id} {args.username.strip().lower()!r} ({args.role})")
    elif args.users_cmd == "password":
        password_hash = hash_password(_read_password(args))
        with _engine().begin() as conn:
            accounts.set_password(
                conn, accounts.user_id_by_name(conn, args.username), password_hash
            )
        print(f"new password set for {args.username!r}; their sessions are ended")
    elif args.users_cmd == "disable":
        with _engine().begin() as conn:
            accounts.update_user(conn, accounts.user_id_by_name(conn, args.username), active=False)
        print(f"{args.username!r} is disabled and logged out")
    return 0


def cmd_open311_keys(args: argparse.Namespace) -> int:
    from geo_service.open311 import keys

    if args.keys_cmd == "create":
        with _engine().begin() as conn:
            key_id, key = keys.create_key(conn, args.client)
        print(f"created Open311 key {key_id} for {args.client.strip()!r}; it is shown only once:")
        print(key)
    elif args.keys_cmd == "list":
        with _engine().connect() as conn:
            for k in keys.list_keys(conn):
                state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
                used = f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never"
                print(f"{k.id:5} {k.prefix}…  {k.client:30} {state:24} last used {used}")
    elif args.keys_cmd == "revoke":
        with _engine().begin() as conn:
            keys.revoke_key(conn, args.id)
        print(f"Open311 key {args.id} revoked")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from geo_service.demo import generate_demo_reports

    generate_demo_reports(args.reports, seed=args.seed, settings=get_settings())
    return 0


def _add_notify_parsers(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("worker", help="deliver mails and webhooks (the outbox's worker)")
    s.add_argument("--once", action="store_true", help="stop when no job is left")
    s.set_defaults(func=cmd_worker)

    n = sub.add_parser("units", help="units").add_subparsers(dest="units_cmd", required=True)
    s = n.add_parser("notify", help="show or set where a unit's mail goes")
    s.add_argument("unit", help="the unit's code")
    s.add_argument("--add", action="append", default=[], metavar="EMAIL")
    s.add_argument("--remove", action="append", default=[], metavar="EMAIL")
    s.add_argument("--lang", choices=("vi", "en"), default="vi", help="of the added addresses")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--digest-hours", type=int, metavar="N", help="one digest every N hours")
    mode.add_argument("--each", action="store_true", help="a mail for each report")
    s.set_defaults(func=cmd_units_notify)


def _add_setup(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("init", help="create the database, PostGIS, schema and seed data")
    s.add_argument("--demo-reports", type=int, default=0, metavar="N")
    s.set_defaults(func=cmd_init)
    s = sub.add_parser("serve", help="serve the HTTP API and web pages")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--access-log", action="store_true")
    s.set_defaults(func=cmd_serve)
    s = sub.add_parser("demo-data", help="generate realistic demo reports")
    s.add_argument("--reports", type=int, required=True, metavar="N")
    s.add_argument("--seed", type=int, default=2025)
    s.set_defaults(func=cmd_demo)


def _add_rules(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("rules", help="routing rules").add_subparsers(
        dest="rules_cmd", required=True
    )
    r.add_parser("list", help="list active routing rules (suspended ones say why)")
    s = r.add_parser("add", help="route a category (in an area, of a priority) to a unit")
    s.add_argument("--category", required=True, help="category code")
    s.add_argument("--unit", required=True, help="unit code")
    area = s.add_mutually_exclusive_group()
    area.add_argument("--ward", help="limit the rule to this ward (its code, in any ward set)")
    area.add_argument("--area-file", help="limit the rule to a GeoJSON (Multi)Polygon")
    s.add_argument("--priority", choices=["low", "normal", "high", "urgent"])
    s.add_argument("--precedence", type=int, default=10)
    s = r.add_parser("remove", help="deactivate a rule")
    s.add_argument("id", type=int)
    for s in r.choices.values():
        s.set_defaults(func=cmd_rules)


def _add_users(sub: argparse._SubParsersAction) -> None:
    u = sub.add_parser("users", help="user accounts").add_subparsers(
        dest="users_cmd", required=True
    )
    s = u.add_parser("create", help="create an account")
    s.add_argument("--username", required=True)
    s.add_argument(
        "--role", required=True, help="citizen, unit_staff, unit_manager, planner, admin"
    )
    s.add_argument("--unit", help="unit code (required for unit_staff and unit_manager)")
    s.add_argument("--display-name", default="")
    s.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    s = u.add_parser("list", help="list accounts")
    s.add_argument("--unit", help="only this unit's accounts")
    s = u.add_parser("password", help="set a new password (ends the user's sessions)")
    s.add_argument("username")
    s.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    s = u.add_parser("disable", help="disable an account and end its sessions")
    s.add_argument("username")
    for s in u.choices.values():
        s.set_defaults(func=cmd_users)


def _add_open311(sub: argparse._SubParsersAction) -> None:
    o = sub.add_parser("open311", help="the Open311 GeoReport v2 endpoint").add_subparsers(
        dest="open311_cmd", required=True
    )
    k = o.add_parser("keys", help="API keys of the clients that POST requests").add_subparsers(
        dest="keys_cmd", required=True
    )
    s = k.add_parser("create", help="create a key for a client (printed once)")
    s.add_argument("--client", required=True, help="who the key is for")
    k.add_parser("list", help="list keys (never the keys themselves)")
    s = k.add_parser("revoke", help="revoke a key: its client can no longer POST")
    s.add_argument("id", type=int)
    for s in k.choices.values():
        s.set_defaults(func=cmd_open311_keys)


def build_parser() -> argparse.ArgumentParser:
    from boundaries.cli import add_parser as add_boundaries_parser
    from maps.cli import add_parser as add_map_parser

    p = argparse.ArgumentParser(prog="geo-service", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    _add_setup(sub)
    add_boundaries_parser(sub)
    _add_rules(sub)
    _add_users(sub)
    _add_open311(sub)
    add_map_parser(sub)
    _add_notify_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (BoundaryError, LookupError, ValueError) as exc:
        print(f"geo-service: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"geo-service: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        url = make_url(get_settings().sqlalchemy_url).render_as_string(hide_password=True)
        reason = str(exc.orig or exc).strip().splitlines()[0]
        print(f"geo-service: cannot use the database {url}: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
