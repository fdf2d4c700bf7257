"""The CronJob schedule syntax of robfig/cron v3 (`kubeprop.model.api.cron_schedule`): what it
accepts and refuses with the library's messages, and the next activation, checked against a
brute-force search over the calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.cron_schedule import (
    CronSchedule,
    ScheduleError,
    next_time,
    parse,
    parse_go_duration,
    to_datetime,
    to_rfc3339,
)
from kubeprop.model.api.cron_zone import Zone

DAY = 86400


@pytest.mark.parametrize(("spec", "message"), [
    ("", "empty spec string"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("0 * * * * *", "expected exactly 5 fields, found 6: [0 * * * * *]"),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("* 24 * * *", "end of range (24) above maximum (23): 24"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("* * * 13 *", "end of range (13) above maximum (12): 13"),
    ("* * * * 7", "end of range (7) above maximum (6): 7"),
    ("5-3 * * * *", "beginning of range (5) beyond end of range (3): 5-3"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("*/2/3 * * * *", "too many slashes: */2/3"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("*/-1 * * * *", "negative number (-1) not allowed: -1"),
    ("* * * foo *", 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax'),
    ("@fortnightly", "unrecognized descriptor: @fortnightly"),
    ("@every", "unrecognized descriptor: @every"),
    ("@every 1x", 'failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"'),
    ("@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'),
    ("@every h", 'failed to parse duration @every h: time: invalid duration "h"'),
])
def test_refused_schedules_carry_the_library_message(spec: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse(spec)
    assert str(caught.value) == message


def test_descriptors_are_their_fields() -> None:
    for descriptor, fields in (("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
                               ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
                               ("@hourly", "0 * * * *")):
        assert parse(descriptor) == parse(fields)


def test_names_steps_and_question_marks() -> None:
    assert parse("0 9 ? JAN-mar Mon-Fri") == parse("0 9 * 1-3 1-5")
    assert parse("*/15 * * * *").minutes == frozenset({0, 15, 30, 45})
    assert parse("5/20 * * * *").minutes == frozenset({5, 25, 45})  # "N/step" is "N-max/step"
    assert parse("1,,3 * * * *").minutes == frozenset({1, 3})  # empty list items are skipped (FieldsFunc)
    assert parse("TZ=UTC 0 * * * *") == parse("0 * * * *")  # the parser cuts it; validation refuses it


def test_a_step_above_one_drops_the_star_mark() -> None:
    """`*/2` in day of month is no wildcard: day of month and day of week are then ORed (v3)."""
    assert parse("0 0 * * 1").dom_star and not parse("0 0 */2 * 1").dom_star
    monday_or_odd = parse("0 0 */2 * 1")
    # 1970-01-01 is a Thursday (day 1, odd): with OR it fires on the 3rd (odd) before Monday the 5th
    assert next_time(monday_or_odd, 0) == 2 * DAY
    assert next_time(parse("0 0 * * 1"), 0) == 4 * DAY  # with the mark: Mondays only


def test_next_time_examples() -> None:
    assert next_time(parse("* * * * *"), 0) == 60
    assert next_time(parse("* * * * *"), 59) == 60
    assert next_time(parse("* * * * *"), 60) == 120
    assert next_time(parse("0 9 * * mon-fri"), 0) == 9 * 3600  # Thursday 09:00
    assert next_time(parse("0 9 * * mon-fri"), 9 * 3600) == DAY + 9 * 3600  # Friday
    assert next_time(parse("0 9 * * mon-fri"), DAY + 9 * 3600) == 4 * DAY + 9 * 3600  # then Monday
    assert next_time(parse("0 0 29 2 *"), 0) == int((dt.datetime(1972, 2, 29) - dt.datetime(1970, 1, 1))
                                                    .total_seconds())
    assert next_time(parse("0 0 30 2 *"), 0) is None  # no activation within five years: the zero time
    assert next_time(parse("@every 90s"), 7) == 97
    assert next_time(parse("@every 10ms"), 7) == 8  # Every(): at least a second
    assert next_time(parse("0 0 * * *"), 0, Zone("Etc/GMT-1")) == DAY - 3600  # midnight at UTC+1


def test_rfc3339() -> None:
    assert to_rfc3339(0) == "1970-01-01T00:00:00Z"
    assert to_rfc3339(90061, Zone("Etc/GMT-1")) == "1970-01-02T02:01:01+01:00"
    assert to_rfc3339(0, Zone("America/New_York")) == "1969-12-31T19:00:00-05:00"
    assert to_rfc3339(0, Zone("Asia/Kolkata")) == "1970-01-01T05:30:00+05:30"
    assert to_rfc3339(0, Zone("Europe/London")) == "1970-01-01T01:00:00+01:00"  # British Standard Time, 1968-71
    assert to_rfc3339(10**9, Zone("Europe/London")) == "2001-09-09T02:46:40+01:00"  # summer time
    assert to_rfc3339(10**9 + 90 * DAY, Zone("Europe/London")) == "2001-12-08T01:46:40Z"  # offset 0: Z


@pytest.mark.parametrize(("text", "nanos"), [
    ("0", 0), ("1h30m", 5_400_000_000_000), ("1.5h", 5_400_000_000_000), ("90s", 90_000_000_000),
    ("-2m", -120_000_000_000), ("+3ms", 3_000_000), ("1us", 1_000), ("1µs", 1_000), (".5s", 500_000_000),
    ("1h1m1s1ms1us1ns", 3_661_001_001_001),
])
def test_go_durations(text: str, nanos: int) -> None:
    assert parse_go_duration(text) == nanos


@pytest.mark.parametrize("text", ["", "-", "1", "1 h", ".s", "1.h2", "9999999999999999999h", "1d"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"^time: "):
        parse_go_duration(text)


# --- generated schedules --------------------------------------------------------------------------

_FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


@st.composite
def _ranges(draw: st.DrawFn, low: int, high: int) -> tuple[str, frozenset[int], bool]:
    """One range expression with the values it denotes and whether it keeps the `*` mark."""
    kind = draw(st.sampled_from(("star", "value", "range", "start-step")))
    step = draw(st.integers(1, high - low + 1)) if draw(st.booleans()) else None
    suffix = "" if step is None else f"/{step}"
    if kind == "star":
        return "*" + suffix, frozenset(range(low, high + 1, step or 1)), (step or 1) == 1
    a = draw(st.integers(low, high))
    if kind == "value" and step is None:
        return str(a), frozenset({a}), False
    b = high if kind in ("value", "start-step") else draw(st.integers(a, high))
    text = f"{a}{suffix}" if kind in ("value", "start-step") and step is not None else f"{a}-{b}{suffix}"
    return text, frozenset(range(a, b + 1, step or 1)), False


@st.composite
def _fields(draw: st.DrawFn, low: int, high: int) -> tuple[str, frozenset[int], bool]:
    parts = draw(st.lists(_ranges(low, high), min_size=1, max_size=3))
    return ",".join(p[0] for p in parts), frozenset().union(*(p[1] for p in parts)), any(p[2] for p in parts)


@st.composite
def _specs(draw: st.DrawFn) -> tuple[str, list[tuple[frozenset[int], bool]]]:
    fields = [draw(_fields(low, high)) for low, high in _FIELDS]
    return " ".join(f[0] for f in fields), [(f[1], f[2]) for f in fields]


@settings(max_examples=150, deadline=None)
@given(_specs())
def test_generated_schedules_parse_to_their_values(drawn: tuple[str, list[tuple[frozenset[int], bool]]]) -> None:
    spec, expected = drawn
    parsed = parse(spec)
    assert (parsed.minutes, parsed.hours, parsed.dom, parsed.months, parsed.dow) == tuple(e[0] for e in expected)
    assert (parsed.dom_star, parsed.dow_star) == (expected[2][1], expected[4][1])


def _brute_next(s: CronSchedule, t: int) -> int | None:
    """The first minute after `t` that matches, searched day by day over five years (an oracle
    written apart from `next_time`)."""
    start = to_datetime(t)
    day = dt.datetime(start.year, start.month, start.day)
    for _ in range(5 * 366 + 2):
        weekday = (day.weekday() + 1) % 7
        dom, dow = day.day in s.dom, weekday in s.dow
        if day.month in s.months and ((dom and dow) if (s.dom_star or s.dow_star) else (dom or dow)):
            for hour in sorted(s.hours):
                for minute in sorted(s.minutes):
                    at = int((day.replace(hour=hour, minute=minute) - dt.datetime(1970, 1, 1)).total_seconds())
                    if at > t:
                        return at
        day += dt.timedelta(days=1)
    return None


@settings(max_examples=120, deadline=None)
@given(_specs(), st.integers(0, 3 * 366 * DAY))
def test_next_time_is_the_first_matching_minute(drawn: tuple[str, list[tuple[frozenset[int], bool]]],
                                                t: int) -> None:
    s = parse(drawn[0])
    found = next_time(s, t)
    expected = _brute_next(s, t)
    if found is None:  # only a schedule with no activation within upstream's five-year window
        assert expected is None or to_datetime(expected).year > to_datetime(t + 1).year + 5
    else:
        assert found == expected
