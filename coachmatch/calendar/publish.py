"""Publishing a run's calendars to a CalDAV server (``coachmatch publish``).

Each person's calendar of a run folder (``calendars/people/<id>.ics``) becomes a
calendar collection ``<URL>/<id>/`` on the server, created when missing. Events are
matched by UID: a meeting new to the server is created, one whose content changed (a new
time, place or status — its SEQUENCE is higher) is updated in place, and one that is the
same is left alone; a cancelled meeting is an update to ``STATUS:CANCELLED``, never a
deletion, so every meeting keeps exactly one event on the server. Publishing the same
run twice writes nothing the second time. Events on the server that coachmatch did not
write are never touched.

Credentials come from ``COACHMATCH_CALDAV_USERNAME`` and ``COACHMATCH_CALDAV_PASSWORD``,
else from the user's netrc file for the server's host, else none (a server may ask for
none); never from the command line, where other users of the machine could read them.
Plain ``http://`` is accepted only for the local machine; anything else needs
``https://``. The client is the maintained ``caldav`` package
(``pip install "coachmatch[caldav]"``); no DNS discovery is made: the URL is used as
given.
"""

from __future__ import annotations

import importlib
import ipaddress
import netrc
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import icalendar

from coachmatch.calendar.export import PEOPLE
from coachmatch.io.output import is_run_folder
from coachmatch.io.reading import read_file

__all__ = ["PublishError", "Published", "publish"]

#: calendars published at once (each its own connection; a server serializes per calendar)
_THREADS = 4
#: what makes two versions of an event the same meeting, as a calendar shows it
_COMPARED = ("SEQUENCE", "DTSTART", "DTEND", "STATUS", "SUMMARY", "LOCATION", "DESCRIPTION")


class PublishError(RuntimeError):
    """The calendar server could not be reached, refused the credentials or a request."""


@dataclass
class Published:
    """What a publish wrote: calendars touched, events created, updated and unchanged."""

    calendars: int = 0
    created_calendars: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        """One line: ``245 calendars (3 new): 12 events created, 30 updated, 1310 unchanged``."""
        return (
            f"{self.calendars} calendars ({self.created_calendars} new): {self.created} events "
            f"created, {self.updated} updated, {self.unchanged} unchanged"
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _credentials(host: str) -> tuple[str | None, str | None]:
    user = os.environ.get("COACHMATCH_CALDAV_USERNAME")
    password = os.environ.get("COACHMATCH_CALDAV_PASSWORD")
    if user:
        return user, password
    try:
        found = netrc.netrc().authenticators(host)
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        found = None
    if found:
        return found[0], found[2]
    return None, None


def _events(data: bytes) -> dict[str, Any]:
    calendar = icalendar.Calendar.from_ical(data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def _value(event: Any, key: str) -> bytes:
    prop = event.get(key)
    return b"" if prop is None else bytes(prop.to_ical()).strip()


def _same(one: Any, other: Any) -> bool:
    """The same meeting as a calendar shows it (serialized values; DTSTAMP aside)."""
    return all(_value(one, key) == _value(other, key) for key in _COMPARED)


def _wrapped(event: Any) -> str:
    """One event as a calendar object resource of its own (RFC 4791 §4.1)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//coachmatch//publish//EN")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    text: str = calendar.to_ical().decode("utf-8")
    return text


def publish(
    run_dir: str | os.PathLike[str],
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Published:
    """Put every person's meetings of a run folder on a CalDAV server (see the module).

    Parameters
    ----------
    run_dir : path
        A run folder written by :func:`coachmatch.run`.
    url : str
        The collection under which each person's calendar lives (a CalDAV user's
        home, e.g. ``https://calendar.example.org/coaching/``).
    username, password : str, optional
        For programs calling from Python; the command line takes them only from the
        environment or netrc.
    progress : callable, optional
        Receives a line per calendar published.

    Returns
    -------
    Published

    Raises
    ------
    ValueError
        ``run_dir`` is not a coachmatch run folder, or ``url`` is not ``https://``
        (or ``http://`` to this machine).
    PublishError
        The server cannot be reached or refuses a request.
    """
    try:
        caldav: Any = importlib.import_module("caldav")  # typed loosely: it loads lazily
        caldav_error: Any = importlib.import_module("caldav.lib.error")
    except ImportError as missing:  # pragma: no cover - the extra is installed in tests
        raise PublishError(
            'publishing needs the caldav package: pip install "coachmatch[caldav]"'
        ) from missing
    root = Path(run_dir)
    if not root.is_dir() or not is_run_folder(root):
        raise ValueError(f"{root} is not a coachmatch run folder (no run.json of a run)")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or (parts.scheme == "http" and not _loopback(host)):
        raise ValueError(
            f"the CalDAV URL must be https:// (plain http:// only to this machine), got {url!r}"
        )
    if username is None:
        username, password = _credentials(host)
    base = url if url.endswith("/") else url + "/"
    people = root / "calendars" / PEOPLE
    files = sorted(people.glob("*.ics")) if people.is_dir() else []

    def client() -> Any:
        return caldav.DAVClient(
            base,
            username=username,
            password=password,
            enable_rfc6764=False,
            require_tls=parts.scheme == "https",
            timeout=60,
        )

    def one(path: Path) -> Published:
        """One person's calendar: created when missing, then event by event by UID."""
        data, problem = read_file(path, root, f"calendars/{PEOPLE}/{path.name}")
        if problem is not None or data is None:
            raise ValueError(str(problem))
        dav = client()
        where = base + quote(path.stem, safe="") + "/"
        collection = caldav.Calendar(client=dav, url=where)
        done = Published(calendars=1)
        try:
            existing = {str(e.icalendar_component["UID"]): e for e in collection.events()}
        except caldav_error.NotFoundError:
            made = dav.mkcalendar(where, "")
            if made.status == 409:  # no home collection yet: make it, then the calendar
                dav.mkcol(base, "")
                made = dav.mkcalendar(where, "")
            if made.status not in (200, 201):
                message = f"the server did not create {where}: {made.status}"
                raise PublishError(message) from None
            done.created_calendars = 1
            existing = {}
        for uid, event in _events(data).items():
            theirs = existing.get(uid)
            # increase_seqno=False: the client would otherwise bump SEQUENCE on every save,
            # and a meeting's SEQUENCE is coachmatch's to keep (RFC 5545 §3.8.7.4)
            if theirs is None:
                collection.save_event(_wrapped(event), increase_seqno=False)
                done.created += 1
            elif _same(theirs.icalendar_component, event):
                done.unchanged += 1
            else:
                theirs.data = _wrapped(event)
                theirs.save(increase_seqno=False)
                done.updated += 1
        return done

    total = Published()
    try:
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            for path, done in zip(files, pool.map(one, files), strict=True):
                total.calendars += done.calendars
                total.created_calendars += done.created_calendars
                total.created += done.created
                total.updated += done.updated
                total.unchanged += done.unchanged
                if progress is not None:
                    progress(f"published {path.stem}")
    except caldav_error.AuthorizationError as refused:
        raise PublishError(f"the server refused the credentials or access: {refused}") from None
    except caldav_error.DAVError as failed:
        raise PublishError(f"the CalDAV server refused a request: {failed}") from None
    except OSError as unreachable:
        raise PublishError(f"the CalDAV server cannot be reached: {unreachable}") from None
    except Exception as other:  # niquests raises its own connection errors
        if type(other).__module__.startswith(("niquests", "urllib3")):
            raise PublishError(f"the CalDAV server cannot be reached: {other}") from None
        raise
    return total
