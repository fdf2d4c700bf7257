"""Field errors and the small checks every kind's validation shares.

`FieldError` mirrors upstream `field.Error` (`staging/src/k8s.io/apimachinery/pkg/util/validation/
field/errors.go`): a field path, an error type ("Invalid value", "Required value", ...), a detail
and the offending value, printed as `spec.replicas: Invalid value: -1: must be greater than or
equal to 0`. The helpers here are upstream's field-level checks (ValidateNonnegativeField,
IsValidPortNum, IsValidPortName, IsConfigMapKey, IsValidIP, ValidateLabels, ...) from
`staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`,
`staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go` and
`pkg/apis/core/validation/validation.go`.

Map keys in paths (`resources.limits[cpu]`, `data[key]`) are path parts written as `"[key]"`;
`render_path` prints them without a dot, as upstream's `field.Path.Key` does.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from kubeprop.model.api.codec import FieldPath, encode
from kubeprop.model.api.names import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    max_len_error,
    regex_error,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector, validate_label_selector

REQUIRED: Final = "Required value"
INVALID: Final = "Invalid value"
NOT_SUPPORTED: Final = "Unsupported value"
DUPLICATE: Final = "Duplicate value"
FORBIDDEN: Final = "Forbidden"
TOO_LONG: Final = "Too long"
TOO_MANY: Final = "Too many"
NOT_FOUND: Final = "Not found"
ERROR_TYPES: Final = (REQUIRED, INVALID, NOT_SUPPORTED, DUPLICATE, FORBIDDEN, TOO_LONG, TOO_MANY, NOT_FOUND)
_VALUELESS: Final = frozenset({REQUIRED, FORBIDDEN, TOO_LONG})

IS_NEGATIVE_MSG: Final = "must be greater than or equal to 0"
IS_NOT_POSITIVE_MSG: Final = "must be greater than zero"
IMMUTABLE_MSG: Final = "field is immutable"
PROTOCOLS: Final = ("SCTP", "TCP", "UDP")
IP_MSG: Final = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


class RawValue(str):
    """A bad value that is printed verbatim (e.g. `null`, or Go's `[]string{"a"}`)."""

    __slots__ = ()


NULL: Final = RawValue("null")


@attrs.frozen
class FieldError:
    """One validation error (upstream `field.Error`); `value` None means "not printed"."""

    path: FieldPath
    type: str
    detail: str
    value: Any = None

    def body(self) -> str:
        """The message without the field path (upstream `ErrorBody`)."""
        text = self.type
        if self.type not in _VALUELESS and self.value is not None:
            text = f"{self.type}: {render_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{render_path(self.path)}: {self.body()}"


ErrorList = list[FieldError]


def render_path(path: FieldPath) -> str:
    """`spec.containers[0].resources.limits[cpu]`; the empty path prints as ""."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("[") and part.endswith("]"):
            out += part
        else:
            out += ("." if out else "") + part
    return out


def render_value(value: Any) -> str:
    """A bad value as upstream prints it: numbers bare, strings quoted, structures as JSON."""
    if isinstance(value, RawValue):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Quantity):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(encode(value), separators=(",", ":"), ensure_ascii=False)


def key(name: str) -> str:
    """A map-key path part: `("data", key("a.txt"))` prints `data[a.txt]`."""
    return f"[{name}]"


# -- constructors (errors.go) -----------------------------------------------------------------


def required(path: FieldPath, detail: str = "") -> FieldError:
    """field.Required."""
    return FieldError(path, REQUIRED, detail)


def invalid(path: FieldPath, value: Any, detail: str) -> FieldError:
    """field.Invalid."""
    return FieldError(path, INVALID, detail, NULL if value is None else value)


def not_supported(path: FieldPath, value: Any, valid: Sequence[str]) -> FieldError:
    """field.NotSupported: `supported values: "A", "B"`."""
    detail = "supported values: " + ", ".join(json.dumps(v) for v in valid) if valid else ""
    return FieldError(path, NOT_SUPPORTED, detail, NULL if value is None else value)


def duplicate(path: FieldPath, value: Any) -> FieldError:
    """field.Duplicate."""
    return FieldError(path, DUPLICATE, "", NULL if value is None else value)


def forbidden(path: FieldPath, detail: str) -> FieldError:
    """field.Forbidden."""
    return FieldError(path, FORBIDDEN, detail)


def too_long(path: FieldPath, max_bytes: int) -> FieldError:
    """field.TooLong."""
    return FieldError(path, TOO_LONG, f"must have at most {max_bytes} bytes")


def too_many(path: FieldPath, actual: int, maximum: int) -> FieldError:
    """field.TooMany."""
    return FieldError(path, TOO_MANY, f"must have at most {maximum} items", actual)


def not_found(path: FieldPath, value: Any) -> FieldError:
    """field.NotFound."""
    return FieldError(path, NOT_FOUND, "", NULL if value is None else value)


def immutable(new: Any, old: Any, path: FieldPath) -> ErrorList:
    """apimachinery ValidateImmutableField."""
    return [] if new == old else [invalid(path, new, IMMUTABLE_MSG)]


# -- problems from selectors.py ---------------------------------------------------------------

_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_suffix(suffix: str) -> FieldPath:
    """"nodeSelectorTerms[0].matchFields[1]" -> ("nodeSelectorTerms", 0, "matchFields", 1)."""
    return tuple(int(m[2]) if m[2] is not None else m[1] for m in _PATH_TOKEN.finditer(suffix))


def from_problem(base: FieldPath, suffix: str, message: str) -> FieldError:
    """Turn a `(suffix, "Type: [value: ]detail")` problem into a FieldError under `base`."""
    path = base + parse_suffix(suffix)
    for type_ in ERROR_TYPES:
        if message == type_:
            return FieldError(path, type_, "")
        if not message.startswith(type_ + ": "):
            continue
        rest = message[len(type_) + 2:]
        if type_ in _VALUELESS:
            return FieldError(path, type_, rest)
        try:
            value, end = json.JSONDecoder().raw_decode(rest)
        except json.JSONDecodeError:
            return FieldError(path, type_, rest)
        return FieldError(path, type_, rest[end:].removeprefix(": "), NULL if value is None else value)
    return FieldError(path, INVALID, message)


def label_selector(selector: LabelSelector | None, path: FieldPath) -> ErrorList:
    """meta/v1 ValidateLabelSelector under `path`."""
    return [from_problem(path, suffix, msg) for suffix, msg in validate_label_selector(selector)]


# -- names, labels, annotations ---------------------------------------------------------------


def messages(value: str, path: FieldPath, msgs: Iterable[str]) -> ErrorList:
    """One Invalid error per message."""
    return [invalid(path, value, msg) for msg in msgs]


def dns1123_label(value: str, path: FieldPath) -> ErrorList:
    """core ValidateDNS1123Label."""
    return messages(value, path, is_dns1123_label(value))


def dns1123_subdomain(value: str, path: FieldPath) -> ErrorList:
    """core ValidateDNS1123Subdomain."""
    return messages(value, path, is_dns1123_subdomain(value))


def dns1035_label(value: str, path: FieldPath) -> ErrorList:
    """IsDNS1035Label messages as Invalid errors."""
    return messages(value, path, is_dns1035_label(value))


def label_name(name: str, path: FieldPath) -> ErrorList:
    """meta/v1 ValidateLabelName (a qualified name)."""
    return messages(name, path, is_qualified_name(name))


def validate_labels(values: Mapping[str, str], path: FieldPath) -> ErrorList:
    """meta/v1 ValidateLabels: keys are qualified names, values valid label values."""
    errs: ErrorList = []
    for name, value in sorted(values.items()):
        errs += label_name(name, path)
        errs += messages(value, path, is_valid_label_value(value))
    return errs


TOTAL_ANNOTATION_SIZE_LIMIT: Final = 256 * (1 << 10)


def validate_annotations(values: Mapping[str, str], path: FieldPath) -> ErrorList:
    """apimachinery ValidateAnnotations: case-insensitive qualified keys, total size <= 256 KiB."""
    errs: ErrorList = []
    for name in sorted(values):
        errs += messages(name, path, is_qualified_name(name.lower()))
    size = sum(len(k.encode()) + len(v.encode()) for k, v in values.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def nonnegative(value: int, path: FieldPath) -> ErrorList:
    """core ValidateNonnegativeField."""
    return [invalid(path, value, IS_NEGATIVE_MSG)] if value < 0 else []


def optional_nonnegative(value: int | None, path: FieldPath) -> ErrorList:
    """ValidateNonnegativeField for a pointer field (nil is fine)."""
    return [] if value is None else nonnegative(value, path)


# -- ports, keys, IPs (util/validation/validation.go) -----------------------------------------


def port_num_messages(port: int) -> list[str]:
    """IsValidPortNum."""
    return [] if 1 <= port <= 65535 else ["must be between 1 and 65535, inclusive"]


_PORT_NAME_CHARSET = re.compile(r"[-a-z0-9]+")
_PORT_NAME_LETTER = re.compile(r"[a-z]")


def port_name_messages(port: str) -> list[str]:
    """IsValidPortName (an IANA_SVC_NAME)."""
    errs: list[str] = []
    if len(port) > 15:
        errs.append(max_len_error(15))
    if not _PORT_NAME_CHARSET.fullmatch(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens (-)")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen (-)")
    return errs


def port_num_or_name(port: int | str, path: FieldPath) -> ErrorList:
    """core ValidatePortNumOrName (a Service targetPort)."""
    if isinstance(port, int):
        return [invalid(path, port, msg) for msg in port_num_messages(port)]
    return messages(port, path, port_name_messages(port))


def protocol(value: str, path: FieldPath) -> ErrorList:
    """A port protocol: required, one of SCTP/TCP/UDP."""
    if not value:
        return [required(path)]
    return [] if value in PROTOCOLS else [not_supported(path, value, PROTOCOLS)]


_CONFIG_KEY_FMT: Final = "[-._a-zA-Z0-9]+"
_CONFIG_KEY_RE: Final = re.compile(_CONFIG_KEY_FMT)
_CONFIG_KEY_MSG: Final = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"


def config_key_messages(value: str) -> list[str]:
    """IsConfigMapKey (ConfigMap and Secret keys)."""
    errs: list[str] = []
    if len(value.encode()) > 253:
        errs.append(max_len_error(253))
    if not _CONFIG_KEY_RE.fullmatch(value):
        errs.append(regex_error(_CONFIG_KEY_MSG, _CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """netutils.ParseIPSloppy, roughly: None if `value` is not an IP address."""
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def ip_address(value: str, path: FieldPath) -> ErrorList:
    """IsValidIPForLegacyField: a valid IPv4 or IPv6 address."""
    return [] if parse_ip(value) is not None else [invalid(path, value, IP_MSG)]


def non_special_ip(value: str, path: FieldPath) -> ErrorList:
    """core ValidateNonSpecialIP: not unspecified, loopback or link-local."""
    ip = parse_ip(value)
    if ip is None:
        return [invalid(path, value, "must be a valid IP address")]
    errs: ErrorList = []
    if ip.is_unspecified:
        errs.append(invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback:
        errs.append(invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if ip.is_link_local and not ip.is_multicast:
        errs.append(invalid(path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
    link_local_multicast = ipaddress.ip_network("224.0.0.0/24" if ip.version == 4 else "ff02::/16")
    if ip in link_local_multicast:
        errs.append(invalid(path, value, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
    return errs


_PERCENT_FMT: Final = "[0-9]+%"
_PERCENT_RE: Final = re.compile(_PERCENT_FMT)


def int_or_percent(value: int | str | None, path: FieldPath) -> ErrorList:
    """apps ValidatePositiveIntOrPercent: an int >= 0 or a string such as "25%"."""
    if value is None:
        return []
    if isinstance(value, int):
        return nonnegative(value, path)
    if _PERCENT_RE.fullmatch(value):
        return []
    msg = "a valid percent string must be a numeric string followed by an ending '%'"
    return [invalid(path, value, regex_error(msg, _PERCENT_FMT, "1%", "93%"))]


def percent_value(value: int | str | None) -> int | None:
    """getPercentValue: N for a valid "N%" string, else None."""
    return int(value[:-1]) if isinstance(value, str) and _PERCENT_RE.fullmatch(value) else None


def int_or_percent_value(value: int | str | None) -> int:
    """getIntOrPercentValue: the percentage, the int, or IntValue() of a string (0 if not a number)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    percent = percent_value(value)
    if percent is not None:
        return percent
    return int(value) if re.fullmatch(r"[+-]?[0-9]+", value) else 0


def not_more_than_100_percent(value: int | str | None, path: FieldPath) -> ErrorList:
    """apps IsNotMoreThan100Percent."""
    percent = percent_value(value)
    return [invalid(path, value, "must not be greater than 100%")] if percent is not None and percent > 100 else []
