"""Object-name and label validation, and `generateName` suffixes.

The API server rejects objects whose names, label keys or label values are malformed, and
controllers create objects with `metadata.generateName`; the model applies the same rules so
that a counterexample never relies on an object a real API server would refuse.

Sources:

* `staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go` (IsDNS1123Label,
  IsDNS1123Subdomain, IsDNS1035Label) and
  `staging/src/k8s.io/apimachinery/pkg/api/validate/content/kube.go` + `errors.go`
  (IsLabelKey a.k.a. IsQualifiedName, IsLabelValue, MaxLenError, RegexError);
* `staging/src/k8s.io/apimachinery/pkg/api/validation/generic.go` (NameIsDNSSubdomain & co.,
  the `maskTrailingDash` rule for generateName prefixes);
* `staging/src/k8s.io/apiserver/pkg/storage/names/generate.go` (SimpleNameGenerator).

Each `is_*` function returns upstream's error strings (empty list = valid). Lengths are measured
in UTF-8 bytes like Go's `len`. Patterns are matched with `re.fullmatch` (Go's `^...$` does not
accept a trailing newline, Python's `$` would).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "DNS1035_LABEL_MAX_LENGTH",
    "DNS1123_LABEL_MAX_LENGTH",
    "DNS1123_SUBDOMAIN_MAX_LENGTH",
    "GENERATED_SUFFIX_ALPHABET",
    "LABEL_VALUE_MAX_LENGTH",
    "MAX_GENERATED_NAME_LENGTH",
    "QUALIFIED_NAME_MAX_LENGTH",
    "generate_name",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_qualified_name",
    "is_valid_label_value",
    "max_len_error",
    "name_is_dns1035_label",
    "name_is_dns_label",
    "name_is_dns_subdomain",
    "regex_error",
    "safe_encode_string",
]

DNS1123_LABEL_MAX_LENGTH: Final = 63
DNS1123_SUBDOMAIN_MAX_LENGTH: Final = 253
DNS1035_LABEL_MAX_LENGTH: Final = 63
QUALIFIED_NAME_MAX_LENGTH: Final = 63
LABEL_VALUE_MAX_LENGTH: Final = 63

_DNS1123_LABEL_FMT: Final = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG: Final = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT: Final = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_FMT: Final = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MSG: Final = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)
_LABEL_KEY_FMT: Final = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG: Final = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT: Final = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_VALUE_MSG: Final = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)

_DNS1123_LABEL_RE: Final = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE: Final = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL_RE: Final = re.compile(_DNS1035_LABEL_FMT)
_LABEL_KEY_RE: Final = re.compile(_LABEL_KEY_FMT)
_LABEL_VALUE_RE: Final = re.compile(_LABEL_VALUE_FMT)


def _byte_len(value: str) -> int:
    return len(value.encode("utf-8"))


def max_len_error(length: int) -> str:
    """Upstream `content.MaxLenError`."""
    return f"must be no more than {length} bytes"


def _max_len(value: str, length: int) -> list[str]:
    """`content.MaxLenError` when `value` is longer than `length` bytes."""
    return [max_len_error(length)] if _byte_len(value) > length else []


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Upstream `content.RegexError`: the message, examples and the regex used."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    quoted = " or ".join(f"'{example}', " for example in examples)
    return f"{msg} (e.g. {quoted}regex used for validation is '{fmt}')"


def is_dns1123_label(value: str) -> list[str]:
    """A lowercase RFC 1123 label, at most 63 bytes (e.g. Service and Namespace names)."""
    errs = _max_len(value, DNS1123_LABEL_MAX_LENGTH)
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """A lowercase RFC 1123 subdomain, at most 253 bytes (most object names)."""
    errs = _max_len(value, DNS1123_SUBDOMAIN_MAX_LENGTH)
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    """An RFC 1035 label: starts with a letter, at most 63 bytes (e.g. Service port names)."""
    errs = _max_len(value, DNS1035_LABEL_MAX_LENGTH)
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errs.append(regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    """A label/annotation key: optional DNS-subdomain prefix and '/', then a name of <= 63 bytes.

    Upstream `content.IsLabelKey` (exported as `validation.IsQualifiedName`).
    """
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a valid label key "
            + regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    if not name:
        errs.append("name part must be non-empty")
    elif _byte_len(name) > QUALIFIED_NAME_MAX_LENGTH:
        errs.append("name part " + max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if not _LABEL_KEY_RE.fullmatch(name):
        errs.append(
            "name part " + regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_valid_label_value(value: str) -> list[str]:
    """A label value: empty, or a name-like string of at most 63 bytes (`content.IsLabelValue`)."""
    errs = _max_len(value, LABEL_VALUE_MAX_LENGTH)
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def _mask_trailing_dash(name: str) -> str:
    """generic.go maskTrailingDash: a generateName prefix may end in '-'.

    Upstream replaces the last *two* bytes by "a" (`name[:len(name)-2] + "a"`), which is what
    we do too; the result is only ever validated, never stored.
    """
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def name_is_dns_subdomain(name: str, prefix: bool = False) -> list[str]:
    """generic.go NameIsDNSSubdomain: object names of most kinds; `prefix` for generateName."""
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool = False) -> list[str]:
    """generic.go NameIsDNSLabel: names that must be a single DNS label (e.g. Namespace)."""
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool = False) -> list[str]:
    """generic.go NameIsDNS1035Label: names that must start with a letter (e.g. Service)."""
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


# generate.go: maxNameLength = 63, randomLength = 5, MaxGeneratedNameLength = 58.
MAX_GENERATED_NAME_LENGTH: Final = 58
_RANDOM_LENGTH: Final = 5
# k8s.io/apimachinery/pkg/util/rand: consonants and digits, no vowels (no accidental words).
GENERATED_SUFFIX_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"
_SUFFIX_SPACE: Final = len(GENERATED_SUFFIX_ALPHABET) ** _RANDOM_LENGTH  # 27^5 = 14_348_907
# An affine bijection on Z/27^5 (multiplier coprime to 3) scrambles consecutive seeds.
_MIX_MULTIPLIER: Final = 5_030_761
_MIX_INCREMENT: Final = 1_234_577


def generate_name(base: str, suffix_seed: int) -> str:
    """`metadata.generateName` expansion (generate.go SimpleNameGenerator.GenerateName).

    The base is truncated to 58 characters and 5 suffix characters from
    "bcdfghjklmnpqrstvwxz2456789" are appended. Real Kubernetes draws the suffix at random;
    the model derives it from `suffix_seed` (a per-store counter) so that runs are reproducible:
    the seed is scrambled by a fixed affine bijection modulo 27^5 and written as 5 base-27
    digits, so seeds 0 .. 27^5-1 give pairwise distinct suffixes. (Upstream truncates by bytes;
    generateName prefixes are validated as DNS subdomains, i.e. ASCII, so this is the same.)
    """
    if len(base) > MAX_GENERATED_NAME_LENGTH:
        base = base[:MAX_GENERATED_NAME_LENGTH]
    mixed = (suffix_seed * _MIX_MULTIPLIER + _MIX_INCREMENT) % _SUFFIX_SPACE
    chars: list[str] = []
    for _ in range(_RANDOM_LENGTH):
        mixed, digit = divmod(mixed, len(GENERATED_SUFFIX_ALPHABET))
        chars.append(GENERATED_SUFFIX_ALPHABET[digit])
    return base + "".join(chars)


def safe_encode_string(text: str) -> str:
    """`rand.SafeEncodeString` (k8s.io/apimachinery/pkg/util/rand): each character c becomes
    alphabet[ord(c) % 27], so a hash printed in decimal reads as a generated name suffix."""
    return "".join(GENERATED_SUFFIX_ALPHABET[ord(c) % len(GENERATED_SUFFIX_ALPHABET)] for c in text)
