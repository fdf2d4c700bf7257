"""CronJob schedules in a time zone (`kubeprop.model.api.cron_zone`, `cron_schedule.next_time`):
Go's LoadLocation over the tzdata package, and robfig/cron v3.0.1's `SpecSchedule.Next` on the
days daylight saving time begins and ends.

The expected activations are derived from `spec.go` (v3.0.1) by hand, line numbers given; the
model's `next_time` is written apart from this derivation (it runs the loops), and the brute force
below is a third way: the first whole minute after `t` whose wall clock in the zone matches."""

from __future__ import annotations

import datetime as dt
from importlib import resources

from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.cron_schedule import CronSchedule, next_time, parse, to_rfc3339
from kubeprop.model.api.cron_zone import NAMES_AFTER_GO, UTC, Zone, load_location, zone_names

BERLIN, NEW_YORK = Zone("Europe/Berlin"), Zone("America/New_York")


def _at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp())


def _activations(spec: str, zone: Zone, after: str, count: int) -> list[str]:
    """The next `count` activations after `after`, as the Job annotation writes them."""
    found, t = [], _at(after)
    for _ in range(count):
        nxt = next_time(parse(spec), t, zone)
        assert nxt is not None
        found.append(to_rfc3339(nxt, zone))
        t = nxt
    return found


def test_spring_forward_skips_the_missing_hour() -> None:
    """Europe/Berlin 2026-03-29: 02:00 CET is 03:00 CEST (01:00 UTC); America/New_York 2026-03-08:
    02:00 EST is 03:00 EDT (07:00 UTC). From the previous day's 02:30 the hour loop (spec.go 138-148)
    adds hours to the instant: ... 00:00, 01:00, then 03:00 — no instant of that day reads hour 2,
    so on to 02:30 of the next day; not 03:30 and not 01:30."""
    assert _activations("30 2 * * *", BERLIN, "2026-03-27T12:00:00+00:00", 2) == [
        "2026-03-28T02:30:00+01:00", "2026-03-30T02:30:00+02:00"]
    assert _activations("30 2 * * *", NEW_YORK, "2026-03-06T12:00:00+00:00", 2) == [
        "2026-03-07T02:30:00-05:00", "2026-03-09T02:30:00-04:00"]
    assert _activations("0 * * * *", BERLIN, "2026-03-28T22:30:00+00:00", 3) == [  # hourly: one hour fewer
        "2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00"]


def test_fall_back_fires_twice_in_the_repeated_hour() -> None:
    """America/New_York 2026-11-01: 02:00 EDT is 01:00 EST (06:00 UTC). After 01:30 EDT the seconds
    loop reaches 01:31 and wraps (162-172); the minute loop adds minutes to the instant until the
    minute is 0 (150-160): 05:59 UTC + 1 min is 01:00 EST, so WRAP, hour 1 matches (138), the minute
    loop goes on to 30: 01:30 EST, an hour after the first. Europe/Berlin 2026-10-25 likewise at
    02:30 (03:00 CEST is 02:00 CET, 01:00 UTC)."""
    assert _activations("30 1 * * *", NEW_YORK, "2026-10-30T12:00:00+00:00", 4) == [
        "2026-10-31T01:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00",
        "2026-11-02T01:30:00-05:00"]
    assert _activations("30 2 * * *", BERLIN, "2026-10-23T12:00:00+00:00", 4) == [
        "2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00",
        "2026-10-26T02:30:00+01:00"]
    assert _activations("0 * * * *", BERLIN, "2026-10-24T23:30:00+00:00", 4) == [  # hourly: one hour more
        "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00",
        "2026-10-25T04:00:00+01:00"]


def test_a_half_hour_shift_steps_over_an_existing_minute() -> None:
    """Australia/Lord_Howe 2026-10-04: 02:00 +10:30 is 02:30 +11. From 01:00 the hour loop adds an
    hour (143): 02:30, then 03:30; hour 3 matches, minute 30 does not, the minute loop goes to
    04:00 (157) and the day is lost, though 03:00 +11 exists. Upstream's behaviour, kept."""
    assert _activations("0 3 * * *", Zone("Australia/Lord_Howe"), "2026-10-02T12:00:00+00:00", 2) == [
        "2026-10-03T03:00:00+10:30", "2026-10-05T03:00:00+11:00"]


def test_the_day_and_month_are_the_zones() -> None:
    """Model time 60 is 1969-12-31T19:01 in New York: `1 19 31 12 *` fires there, a year early for UTC."""
    assert next_time(parse("1 19 31 12 *"), 0, NEW_YORK) == 60
    assert next_time(parse("1 19 31 12 *"), 0, UTC) == _at("1970-12-31T19:01:00+00:00")


def test_load_location() -> None:
    assert load_location("") == UTC and load_location("UTC") == UTC
    assert load_location("Europe/Berlin") == BERLIN
    assert load_location("Europe/../etc") == "time: invalid location name"
    assert load_location("europe/berlin") == "unknown time zone europe/berlin"
    assert load_location("America/Coyhaique") == "unknown time zone America/Coyhaique"


def test_the_names_are_the_tzdata_packages_less_later_ones() -> None:
    """Read from the tzdata package (not the host's /usr/share/zoneinfo): its `zones` list, which for
    IANA 2025a is Go 1.24's 597 names; names of later releases are not Go 1.24's."""
    listed = set(resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())
    assert zone_names() == listed - NAMES_AFTER_GO
    assert len(zone_names()) >= 597 and {"Europe/Berlin", "US/Eastern", "Factory", "Etc/GMT+12"} <= zone_names()


def _brute_next(s: CronSchedule, t: int, zone: Zone) -> int | None:
    """The first whole minute after `t` whose wall clock in `zone` matches the schedule, searched
    minute by minute over the instants (an oracle written apart from `next_time`: no day, hour or
    minute loops, no resets)."""
    at = t - t % 60 + 60
    for _ in range(3 * 366 * 1440):
        w = zone.wall(at)
        dom, dow = w.day in s.dom, (w.weekday() + 1) % 7 in s.dow
        days = (dom and dow) if (s.dom_star or s.dow_star) else (dom or dow)
        if w.month in s.months and days and w.hour in s.hours and w.minute in s.minutes:
            return at
        at += 60
    return None


_DST_DAYS = [_at(d) for d in ("2026-03-29T01:00:00+00:00", "2026-10-25T01:00:00+00:00", "2026-03-08T07:00:00+00:00",
                              "2026-11-01T06:00:00+00:00", "2027-03-28T01:00:00+00:00", "2027-11-07T06:00:00+00:00")]


@st.composite
def _dense_specs(draw: st.DrawFn) -> str:
    """Schedules that fire at least every day (any day of month and week, every month), so the
    brute force finds the answer within a day or two."""
    minutes = draw(st.sets(st.integers(0, 59), min_size=1, max_size=4))
    hours = draw(st.sets(st.integers(0, 23), min_size=1, max_size=4))
    return f"{','.join(map(str, sorted(minutes)))} {','.join(map(str, sorted(hours)))} * * *"


@settings(max_examples=60, deadline=None)
@given(_dense_specs(), st.sampled_from(_DST_DAYS), st.integers(-2 * 86400, 86400),
       st.sampled_from([BERLIN, NEW_YORK]))
def test_next_time_is_the_first_matching_wall_minute_in_a_whole_hour_zone(spec: str, transition: int, delta: int,
                                                                          zone: Zone) -> None:
    """In zones whose clocks move by whole hours (Berlin, New York) robfig/cron's search is the
    minute-by-minute one: a skipped wall time never matches, a repeated one matches twice. Not so
    for a half-hour shift (`test_a_half_hour_shift_steps_over_an_existing_minute`)."""
    s = parse(spec)
    t = transition + delta
    assert next_time(s, t, zone) == _brute_next(s, t, zone)
