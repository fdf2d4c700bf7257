"""Hypothesis strategies for quantities, names, labels and selectors.

Property tests across the project (and users writing their own) need realistic, *valid* API
values (and some deliberately invalid ones). The shapes follow the upstream validators that
`kubeprop.model.api.names` and `kubeprop.model.api.quantity` transcribe
(`staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`,
`staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go`). Importable without pytest.

Installed kubeprop registers the strategies for its own value types with Hypothesis, as
Hypothesis' extension docs describe (an entry point in the `hypothesis` group, run when Hypothesis
is imported: `kubeprop.model.api.hypothesis_entry`): `st.from_type(Quantity)` and
`st.from_type(LabelSelector)` — and `@given` with a type-annotated argument, `st.builds` of a
class with such a field — draw valid values.
"""

from __future__ import annotations

from hypothesis import strategies as st

from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector, LabelSelectorRequirement
from kubeprop.model.frozen import FrozenMap

__all__ = [
    "dns1123_labels",
    "dns1123_subdomains",
    "invalid_dns1123_subdomains",
    "label_keys",
    "label_names",
    "label_selectors",
    "label_values",
    "labels",
    "quantities",
    "quantity_strings",
    "register_type_strategies",
]

_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_ALNUM = _LOWER_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SUFFIXES = ("", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


def _bounded_word(first: str, middle: str, last: str, max_size: int) -> st.SearchStrategy[str]:
    """Strings first-char + middle* + last-char (or a single first/last char), length <= max_size."""
    single = st.sampled_from(sorted(set(first) & set(last)))
    longer = st.builds(
        lambda a, mid, b: a + mid + b,
        st.sampled_from(first),
        st.text(alphabet=middle, max_size=max(max_size - 2, 0)),
        st.sampled_from(last),
    )
    return st.one_of(single, longer) if max_size >= 2 else single


def dns1123_labels(max_size: int = 63) -> st.SearchStrategy[str]:
    """Valid RFC 1123 labels ([a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63 chars)."""
    return _bounded_word(_LOWER_ALNUM, _LOWER_ALNUM + "-", _LOWER_ALNUM, max_size)


def dns1123_subdomains(max_labels: int = 4) -> st.SearchStrategy[str]:
    """Valid RFC 1123 subdomains: dot-joined labels, <= 253 chars."""
    parts = st.lists(dns1123_labels(max_size=20), min_size=1, max_size=max_labels)
    return parts.map(".".join).filter(lambda name: len(name) <= 253)


def invalid_dns1123_subdomains() -> st.SearchStrategy[str]:
    """Strings every RFC 1123 subdomain check must reject."""
    base = dns1123_subdomains(max_labels=3)
    bad_char = st.sampled_from("_A/ :*@Z\n")
    return st.one_of(
        st.just(""),
        base.map(lambda s: "-" + s),
        base.map(lambda s: s + "-"),
        base.map(lambda s: s + "."),
        base.map(lambda s: "." + s),
        st.tuples(base, base).map(lambda ab: ab[0] + ".." + ab[1]),
        st.tuples(base, bad_char, base).map("".join),
        st.integers(254, 300).map(lambda n: "a" * n),
    )


def label_names(max_size: int = 63) -> st.SearchStrategy[str]:
    """The name part of a label key: ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]."""
    return _bounded_word(_ALNUM, _ALNUM + "-_.", _ALNUM, max_size)


def label_keys() -> st.SearchStrategy[str]:
    """Valid label keys: an optional DNS subdomain prefix and '/', then a name."""
    prefixed = st.builds(lambda p, n: f"{p}/{n}", dns1123_subdomains(max_labels=3), label_names())
    return st.one_of(label_names(), prefixed)


def label_values() -> st.SearchStrategy[str]:
    """Valid label values (possibly empty)."""
    return st.one_of(st.just(""), label_names())


def labels(
    keys: st.SearchStrategy[str] | None = None,
    values: st.SearchStrategy[str] | None = None,
    max_size: int = 4,
) -> st.SearchStrategy[FrozenMap[str, str]]:
    """Label maps as FrozenMaps; pass small key/value pools to make selector matches likely."""
    key_s = label_keys() if keys is None else keys
    value_s = label_values() if values is None else values
    pairs = st.dictionaries(key_s, value_s, max_size=max_size)
    return pairs.map(FrozenMap)


def label_selectors(
    keys: st.SearchStrategy[str] | None = None,
    values: st.SearchStrategy[str] | None = None,
    max_size: int = 3,
) -> st.SearchStrategy[LabelSelector]:
    """Valid label selectors (every operator, values as validation requires)."""
    key_s = label_keys() if keys is None else keys
    value_s = label_values() if values is None else values
    set_req = st.builds(
        LabelSelectorRequirement,
        key_s,
        st.sampled_from(["In", "NotIn"]),
        st.lists(value_s, min_size=1, max_size=3, unique=True).map(tuple),
    )
    presence_req = st.builds(LabelSelectorRequirement, key_s, st.sampled_from(["Exists", "DoesNotExist"]))
    return st.builds(
        LabelSelector,
        labels(key_s, value_s, max_size=max_size),
        st.lists(st.one_of(set_req, presence_req), max_size=max_size).map(tuple),
    )


def quantity_strings() -> st.SearchStrategy[str]:
    """Quantity texts upstream accepts: sign, digits, optional fraction, any suffix or exponent."""
    exponent = st.builds(lambda e, n: f"{e}{n}", st.sampled_from(["e", "E"]), st.integers(-12, 12))
    fraction = st.one_of(
        st.just(""), st.text(alphabet="0123456789", min_size=1, max_size=12).map(lambda d: "." + d)
    )
    return st.builds(
        lambda sign, whole, frac, suffix: f"{sign}{whole}{frac}{suffix}",
        st.sampled_from(["", "", "-", "+"]),
        st.integers(0, 10**7).map(str),
        fraction,
        st.one_of(st.sampled_from(_SUFFIXES), exponent),
    )


def quantities() -> st.SearchStrategy[Quantity]:
    """Parsed quantities in every format, including values that round up to 1n."""
    return quantity_strings().map(Quantity.parse)


def register_type_strategies() -> None:
    """Register `quantities()` for `Quantity` and `label_selectors()` for `LabelSelector` with
    `st.register_type_strategy`, at once (the `hypothesis` entry point of kubeprop's pyproject.toml is
    `kubeprop.model.api.hypothesis_entry`, which registers the same strategies lazily)."""
    st.register_type_strategy(Quantity, quantities())
    st.register_type_strategy(LabelSelector, label_selectors())
