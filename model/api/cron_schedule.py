"""A CronJob's schedule: the syntax of `github.com/robfig/cron/v3` as the API server and the CronJob
controller parse it (`cron.ParseStandard`), and its next activation time (`SpecSchedule.Next`,
`ConstantDelaySchedule.Next`).

Hand-written, not a library: the Python cron libraries (croniter, cron-converter, …) each accept and
refuse other strings than robfig/cron v3 (seconds fields, `L`/`W`/`#`, day of week 7, Quartz
syntax) and compute the next time by other rules, while the model must refuse exactly what the API
server refuses and fire exactly when the controller fires. This follows robfig/cron v3.0.1
(`parser.go`, `spec.go`, `constantdelay.go`), the version kubernetes v1.33 vendors:

- `parse(spec)` = `standardParser.Parse`: an empty spec is refused; a `TZ=`/`CRON_TZ=` prefix is
  cut off (the API server refuses any schedule with `TZ` in it: `validation_cronjob`; the model
  does not load the named location); a spec starting with `@` is a descriptor (`@yearly`,
  `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`, or `@every <duration>` in
  Go's `time.ParseDuration` syntax, shorter than a second meaning a second); otherwise exactly 5
  whitespace-separated fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or
  `jan`-`dec`, day of week 0-6 or `sun`-`sat`; names case-insensitive), each a comma-separated
  list of ranges `*`, `?`, `N`, `N-M`, each optionally `/step` (`N/step` meaning `N-max/step`; a
  step above 1 drops the `*` mark). Errors carry robfig/cron's own messages.
- `next_time(schedule, t, zone)`: the first activation strictly after `t` (model seconds) on the
  wall clock of `zone` (`kubeprop.model.api.cron_zone`; UTC by default), or None when there is none
  within five years (`Next` returns the zero time: e.g. `0 0 30 2 *`). Day of month and day of
  week are ANDed when either is `*` (or `?`), ORed otherwise (`dayMatches`).

Time: model time 0 is the Unix epoch (1970-01-01T00:00:00Z, a Thursday). The controller asks
`sched.Next(t)` of a schedule parsed from `TZ=<spec.timeZone> <schedule>` (cronjob_controllerv2.go
formatSchedule; `pkg/controller/cronjob/utils.go` mostRecentScheduleTime and
nextScheduleTimeDuration), so `Next` converts `t` to that zone (spec.go line 78: `t.In(s.Location)`)
and searches there; without `timeZone` in the controller's local zone, UTC in its usual image.
`next_time` follows `Next` line by line (`_Search`), daylight saving time included:

- spring forward: a wall time the zone skips never matches — `0 2 * * *` and `30 2 * * *` in
  Europe/Berlin do not fire on 2026-03-29 (02:00 CET is followed by 03:00 CEST), and fire at 02:00
  and 02:30 of the next day. Not at 03:00 either: the hour loop adds hours to the instant (line
  143), and no instant of that day reads 02 on the wall clock.
- fall back: a wall time the zone repeats matches twice — `30 1 * * *` in America/New_York fires at
  01:30 EDT and again at 01:30 EST on 2026-11-01 (05:30 and 06:30 UTC): from 01:30:01 EDT the
  minute loop adds minutes until the minute is 0 again (line 157: 02:00 EDT is 01:00 EST), and the
  search starts over at 01:00 EST, whose hour matches.
- zones whose clocks move by other than a whole hour: the hour loop may step over the minute it
  wants — `0 3 * * *` in Australia/Lord_Howe (02:00 +10:30 becomes 02:30 +11 on the first Sunday of
  October) skips that day's 03:00, which exists: from 01:00 the hour loop reaches 02:30, then
  03:30, whose minute 30 sends the minute loop on to 04:00. A minute-by-minute search in the zone
  would fire at 03:00; the model fires where robfig/cron does.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Final

import attrs

from kubeprop.model.api.cron_zone import EPOCH, UTC, Zone

__all__ = ["CronSchedule", "ScheduleError", "next_time", "parse", "parse_go_duration", "to_datetime", "to_rfc3339"]

_MONTHS: Final = {n: i + 1 for i, n in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_DAYS: Final = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_BOUNDS: Final = ((0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTHS), (0, 6, _DAYS))
"""minutes, hours, dom, months, dow (robfig/cron `spec.go` bounds)."""

_DESCRIPTORS: Final = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
"""parseDescriptor's schedules, written as the fields they set (each `all(...)` keeps the `*` mark)."""

_NANOS: Final = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
                 "m": 60_000_000_000, "h": 3_600_000_000_000}
"""Go's time.ParseDuration unitMap."""

_MAX: Final = 1 << 63


class ScheduleError(ValueError):
    """A schedule robfig/cron refuses; the message is the library's."""


@attrs.frozen
class CronSchedule:
    """A parsed schedule: the allowed values of each field, and whether day of month and day of week
    carry the `*` mark; or, for `@every`, the constant delay in whole seconds."""

    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    dom: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    dow: frozenset[int] = frozenset()
    dom_star: bool = False
    dow_star: bool = False
    every: int | None = None


def _int(expr: str) -> int:
    """mustParseInt (Go's strconv.Atoi: an optional sign, then decimal digits)."""
    body = expr[1:] if expr[:1] in ("+", "-") else expr
    if not body or not body.isascii() or not body.isdigit():
        raise ScheduleError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax')
    num = int(expr)
    if num < 0:
        raise ScheduleError(f"negative number ({num}) not allowed: {expr}")
    return num


def _int_or_name(expr: str, names: dict[str, int] | None) -> int:
    if names is not None and expr.lower() in names:
        return names[expr.lower()]
    return _int(expr)


def _range(expr: str, low: int, high: int, names: dict[str, int] | None) -> tuple[frozenset[int], bool]:
    """getRange: the values of one range, and whether it keeps the `*` mark."""
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    star = False
    if low_and_high[0] in ("*", "?"):
        start, end, star = low, high, True
    else:
        start = _int_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], names)
        else:
            raise ScheduleError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if len(low_and_high) == 1:
            end = high  # "N/step" means "N-max/step"
        if step > 1:
            star = False
    else:
        raise ScheduleError(f"too many slashes: {expr}")
    if start < low:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise ScheduleError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expr}")
    return frozenset(range(start, end + 1, step)), star


def _field(field: str, low: int, high: int, names: dict[str, int] | None) -> tuple[frozenset[int], bool]:
    """getField: the union of the comma-separated ranges (empty ones skipped, as FieldsFunc does)."""
    values: set[int] = set()
    star = False
    for expr in (e for e in field.split(",") if e):
        got, marked = _range(expr, low, high, names)
        values |= got
        star = star or marked
    return frozenset(values), star


def _fields(spec: str) -> CronSchedule:
    fields = spec.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    parsed = [_field(f, *b) for f, b in zip(fields, _BOUNDS, strict=True)]
    return CronSchedule(minutes=parsed[0][0], hours=parsed[1][0], dom=parsed[2][0], months=parsed[3][0],
                        dow=parsed[4][0], dom_star=parsed[2][1], dow_star=parsed[4][1])


@lru_cache(maxsize=256)
def parse(spec: str) -> CronSchedule:
    """cron.ParseStandard(spec), or ScheduleError with robfig/cron's message (a pure function of
    the string, remembered: the controller's timer asks it of every CronJob at every clock query)."""
    if not spec:
        raise ScheduleError("empty spec string")
    if spec.startswith(("TZ=", "CRON_TZ=")):
        if " " not in spec:  # upstream slices spec[eq+1:-1] and panics: nothing follows the zone
            raise ScheduleError(f"provided bad location {spec[spec.index('=') + 1:]}: no schedule follows it")
        spec = spec[spec.index(" "):].strip()
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return _fields(_DESCRIPTORS[spec])
        if spec.startswith("@every "):
            try:
                nanos = parse_go_duration(spec[len("@every "):])
            except ValueError as err:
                raise ScheduleError(f"failed to parse duration {spec}: {err}") from None
            return CronSchedule(every=max(nanos, 1_000_000_000) // 1_000_000_000)  # Every(): at least 1 s
        raise ScheduleError(f"unrecognized descriptor: {spec}")
    return _fields(spec)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _leading_int(s: str) -> tuple[int, str]:
    """Go's leadingInt: the leading digits' value; ValueError on overflow."""
    i, x = 0, 0
    while i < len(s) and "0" <= s[i] <= "9":
        x = x * 10 + int(s[i])
        if x > _MAX:
            raise ValueError("overflow")
        i += 1
    return x, s[i:]


def _leading_fraction(s: str) -> tuple[int, float, str]:
    """Go's leadingFraction: digits after the point, with their scale (precision kept until it
    would overflow)."""
    i, x, scale, overflow = 0, 0, 1.0, False
    while i < len(s) and "0" <= s[i] <= "9":
        if not overflow:
            if x > (_MAX - 1) // 10:
                overflow = True
            else:
                x, scale = x * 10 + int(s[i]), scale * 10
        i += 1
    return x, scale, s[i:]


def parse_go_duration(text: str) -> int:
    """Go's `time.ParseDuration`, in nanoseconds; ValueError with Go's message."""
    orig, s, neg = text, text, False
    if s[:1] in ("-", "+"):
        neg, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {_quote(orig)}")
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise ValueError(f"time: invalid duration {_quote(orig)}")
        before = len(s)
        try:
            v, s = _leading_int(s)
        except ValueError:
            raise ValueError(f"time: invalid duration {_quote(orig)}") from None
        pre, post, f, scale = before != len(s), False, 0, 1.0
        if s[:1] == ".":
            s = s[1:]
            before = len(s)
            f, scale, s = _leading_fraction(s)
            post = before != len(s)
        if not pre and not post:
            raise ValueError(f"time: invalid duration {_quote(orig)}")
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise ValueError(f"time: missing unit in duration {_quote(orig)}")
        unit_name, s = s[:i], s[i:]
        if unit_name not in _NANOS:
            raise ValueError(f"time: unknown unit {_quote(unit_name)} in duration {_quote(orig)}")
        unit = _NANOS[unit_name]
        if v > _MAX // unit:
            raise ValueError(f"time: invalid duration {_quote(orig)}")
        v *= unit
        if f > 0:
            v += int(float(f) * (float(unit) / scale))
            if v > _MAX:
                raise ValueError(f"time: invalid duration {_quote(orig)}")
        total += v
        if total > _MAX:
            raise ValueError(f"time: invalid duration {_quote(orig)}")
    if neg:
        return -total
    if total > _MAX - 1:
        raise ValueError(f"time: invalid duration {_quote(orig)}")
    return total


def to_datetime(t: int, offset_seconds: int = 0) -> dt.datetime:
    """Model time `t` as a naive wall-clock datetime at the given offset from UTC."""
    return EPOCH + dt.timedelta(seconds=t + offset_seconds)


def to_rfc3339(t: int, zone: Zone = UTC) -> str:
    """`t.In(zone).Format(time.RFC3339)`: the wall clock and the offset the zone has at `t` (`Z`
    where that offset is 0, as Go writes it for any zone)."""
    offset = zone.offset(t)
    wall = to_datetime(t, offset).strftime("%Y-%m-%dT%H:%M:%S")
    if offset == 0:
        return wall + "Z"
    sign = "+" if offset > 0 else "-"
    hours, rest = divmod(abs(offset), 3600)
    return f"{wall}{sign}{hours:02d}:{rest // 60:02d}"


def _day_matches(s: CronSchedule, t: dt.datetime) -> bool:
    """dayMatches: both must match when either field has the `*` mark, else either."""
    dom_match = t.day in s.dom
    dow_match = (t.weekday() + 1) % 7 in s.dow  # Go's Weekday: Sunday is 0
    if s.dom_star or s.dow_star:
        return dom_match and dow_match
    return dom_match or dow_match


@lru_cache(maxsize=4096)
def next_time(s: CronSchedule, t: int, zone: Zone = UTC) -> int | None:
    """The schedule's first activation strictly after model time `t` on `zone`'s wall clock, or
    None if none comes within five years (SpecSchedule.Next's zero time). Remembered: a pure
    function, asked again at every sync and timer query of the CronJob."""
    if s.every is not None:
        return t + s.every  # ConstantDelaySchedule.Next (whole seconds: no nanoseconds to drop)
    return _Search(s, zone, t + 1).run()  # "the upcoming second" (model times are whole seconds)


@attrs.define
class _Search:
    """SpecSchedule.Next (robfig/cron v3.0.1 `spec.go` lines 58-175) in `zone`, step by step on the
    instant `t` as Go moves it: `time.Date` resets (`Zone.date`), `AddDate` for months and days,
    `Add` of hours, minutes and seconds on the instant (so an hour the zone skips is never matched,
    an hour it repeats can match twice), the fields read on the zone's wall clock after each move."""

    s: CronSchedule
    zone: Zone
    t: int
    added: bool = False

    def wall(self) -> dt.datetime:
        return self.zone.wall(self.t)

    def run(self) -> int | None:
        year_limit = self.wall().year + 5  # line 88
        while True:  # WRAP (line 90)
            if self.wall().year > year_limit:
                return None
            if self._month() or self._day() or self._hour() or self._minute() or self._second():
                continue  # goto WRAP
            return self.t

    def _month(self) -> bool:
        """Lines 97-110; True where it wrapped."""
        while (w := self.wall()).month not in self.s.months:
            if not self.added:
                self.added, self.t = True, self.zone.date(w.year, w.month, 1, 0, 0, 0)
            self.t = self.zone.add_date(self.t, months=1)
            if self.wall().month == 1:
                return True
        return False

    def _day(self) -> bool:
        """Lines 117-136: a day on, then back to midnight where daylight saving time moved it (an
        hour on from 13:00-23:00, back from 01:00-12:00)."""
        while not _day_matches(self.s, (w := self.wall())):
            if not self.added:
                self.added, self.t = True, self.zone.date(w.year, w.month, w.day, 0, 0, 0)
            self.t = self.zone.add_date(self.t, days=1)
            hour = self.wall().hour
            if hour != 0:
                self.t += (24 - hour) * 3600 if hour > 12 else -hour * 3600
            if self.wall().day == 1:
                return True
        return False

    def _hour(self) -> bool:
        """Lines 138-148."""
        while (w := self.wall()).hour not in self.s.hours:
            if not self.added:
                self.added, self.t = True, self.zone.date(w.year, w.month, w.day, w.hour, 0, 0)
            self.t += 3600
            if self.wall().hour == 0:
                return True
        return False

    def _minute(self) -> bool:
        """Lines 150-160 (Truncate works on the instant: whole minutes of UTC)."""
        while self.wall().minute not in self.s.minutes:
            if not self.added:
                self.added, self.t = True, self.t - self.t % 60
            self.t += 60
            if self.wall().minute == 0:
                return True
        return False

    def _second(self) -> bool:
        """Lines 162-172: the standard parser's seconds field is "0"."""
        while self.wall().second != 0:
            self.added = True  # (Truncate(time.Second): model times are whole seconds)
            self.t += 1
            if self.wall().second == 0:
                return True
        return False
