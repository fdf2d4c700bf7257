"""API Priority and Fairness (APF): which priority level and flow a request belongs to, and the
queues a flow may use.

Upstream (`kubernetes/kubernetes` v1.33): the bootstrap configuration is
`staging/src/k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap/default.go` (mandatory `exempt` and
`catch-all`, suggested `system`, `node-high`, `leader-election`, `workload-high`, `workload-low`,
`global-default`, and their FlowSchemas); classification is
`staging/src/k8s.io/apiserver/pkg/util/flowcontrol/apf_controller.go` (the matching FlowSchema with
the lowest matchingPrecedence, then name; the flow is (schema, distinguisher) with the user name
or namespace as distinguisher, hashed by `hashFlowID` = the first 8 bytes of SHA-256, little
endian); a flow's queues are dealt by `staging/src/k8s.io/apiserver/pkg/util/shufflesharding`
(`Dealer.Deal`); a priority level's nominal concurrency is
`ceil(serverConcurrencyLimit × nominalConcurrencyShares / Σ shares)` with the server limit
`--max-requests-inflight + --max-mutating-requests-inflight` (400 + 200).

Left out: non-resource rules (/healthz …; the probes schema), lending and borrowing of seats
between levels (v1.26+), the work estimator's seat widths, and the APF configuration as API objects
(the bootstrap objects are fixed).
"""

from __future__ import annotations

import hashlib
import math

import attrs

from kubeprop.model.api.rbac_authn import UserInfo

__all__ = [
    "FLOW_SCHEMAS", "PRIORITY_LEVELS", "SERVER_CONCURRENCY_LIMIT", "Classification", "FlowSchema", "PriorityLevel",
    "Rule", "classify", "deal", "flow_hash", "hand", "nominal_concurrency", "request_verb_and_resource",
]

SERVER_CONCURRENCY_LIMIT = 600
"""`--max-requests-inflight` (400) + `--max-mutating-requests-inflight` (200), the defaults."""


@attrs.frozen
class PriorityLevel:
    """A PriorityLevelConfiguration: exempt, or limited with nominal shares and either queues
    (`queues`, `hand_size`, `queue_length_limit`) or, with `queues == 0`, rejection when busy."""

    name: str
    shares: int = 0
    exempt: bool = False
    queues: int = 0
    hand_size: int = 0
    queue_length_limit: int = 0


@attrs.frozen
class Rule:
    """A resource policy rule: verbs, API groups, resources and namespaces (`*` matches all;
    `cluster_scope` lets it match requests without a namespace)."""

    verbs: tuple[str, ...] = ("*",)
    groups: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    namespaces: tuple[str, ...] = ("*",)
    cluster_scope: bool = True

    def matches(self, verb: str, group: str, resource: str, namespace: str) -> bool:
        """`pkg/util/flowcontrol/rule.go` matchesResourceRule."""
        def has(values: tuple[str, ...], value: str) -> bool:
            return "*" in values or value in values

        if not (has(self.verbs, verb) and has(self.groups, group) and has(self.resources, resource)):
            return False
        return self.cluster_scope if not namespace else has(self.namespaces, namespace)


ALL = (Rule(),)


@attrs.frozen
class FlowSchema:
    """A FlowSchema: subjects (users, groups, service accounts as (namespace, name|*)), rules, the
    priority level it sends to, matching precedence, and the distinguisher ("ByUser",
    "ByNamespace" or "")."""

    name: str
    priority_level: str
    precedence: int
    distinguisher: str = ""
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    service_accounts: tuple[tuple[str, str], ...] = ()
    rules: tuple[Rule, ...] = ALL

    def matches(self, user: UserInfo, verb: str, group: str, resource: str, namespace: str) -> bool:
        """`rule.go` matchesPolicyRules: some subject matches and some rule matches."""
        if not self._subject(user):
            return False
        return any(rule.matches(verb, group, resource, namespace) for rule in self.rules)

    def _subject(self, user: UserInfo) -> bool:
        if user.name in self.users or any(g in self.groups for g in user.groups):
            return True
        prefix = "system:serviceaccount:"
        if not user.name.startswith(prefix):
            return False
        namespace, _, name = user.name[len(prefix):].partition(":")
        return any(ns == namespace and n in ("*", name) for ns, n in self.service_accounts)


PRIORITY_LEVELS: tuple[PriorityLevel, ...] = (
    PriorityLevel("exempt", exempt=True),
    PriorityLevel("catch-all", shares=5),
    PriorityLevel("system", shares=30, queues=64, hand_size=6, queue_length_limit=50),
    PriorityLevel("node-high", shares=40, queues=64, hand_size=6, queue_length_limit=50),
    PriorityLevel("leader-election", shares=10, queues=16, hand_size=4, queue_length_limit=50),
    PriorityLevel("workload-high", shares=40, queues=128, hand_size=6, queue_length_limit=50),
    PriorityLevel("workload-low", shares=100, queues=128, hand_size=6, queue_length_limit=50),
    PriorityLevel("global-default", shares=20, queues=128, hand_size=6, queue_length_limit=50),
)
"""The bootstrap priority levels (`bootstrap/default.go`, v1.33)."""

_LEADER_RULES = (Rule(("get", "create", "update"), ("",), ("endpoints", "configmaps"), ("kube-system",), False),
                 Rule(("get", "create", "update"), ("coordination.k8s.io",), ("leases",), ("*",), False))
_KUBE_SYSTEM_SA = (("kube-system", "*"),)

FLOW_SCHEMAS: tuple[FlowSchema, ...] = (
    FlowSchema("exempt", "exempt", 1, groups=("system:masters",)),
    FlowSchema("system-leader-election", "leader-election", 100, "ByUser",
               users=("system:kube-controller-manager", "system:kube-scheduler"), service_accounts=_KUBE_SYSTEM_SA,
               rules=_LEADER_RULES),
    FlowSchema("workload-leader-election", "leader-election", 200, "ByUser", service_accounts=_KUBE_SYSTEM_SA,
               rules=(Rule(("get", "create", "update"), ("",), ("endpoints", "configmaps"), ("*",), False),
                      _LEADER_RULES[1])),
    FlowSchema("system-node-high", "node-high", 400, "ByUser", groups=("system:nodes",),
               rules=(Rule(("*",), ("",), ("nodes", "nodes/status"), ("*",), True),
                      Rule(("*",), ("coordination.k8s.io",), ("leases",), ("*",), False))),
    FlowSchema("system-nodes", "system", 500, "ByUser", groups=("system:nodes",)),
    FlowSchema("kube-controller-manager", "workload-high", 800, "ByNamespace",
               users=("system:kube-controller-manager",)),
    FlowSchema("kube-scheduler", "workload-high", 800, "ByNamespace", users=("system:kube-scheduler",)),
    FlowSchema("kube-system-service-accounts", "workload-high", 900, "ByNamespace", service_accounts=_KUBE_SYSTEM_SA),
    FlowSchema("service-accounts", "workload-low", 9000, "ByUser", groups=("system:serviceaccounts",)),
    FlowSchema("global-default", "global-default", 9900, "ByUser",
               groups=("system:unauthenticated", "system:authenticated")),
    FlowSchema("catch-all", "catch-all", 10000, "ByUser", groups=("system:unauthenticated", "system:authenticated")),
)
"""The bootstrap FlowSchemas with resource rules (`bootstrap/default.go`, v1.33), by precedence."""


@attrs.frozen
class Classification:
    """Where a request goes: its FlowSchema, priority level and flow distinguisher."""

    flow_schema: str
    priority_level: str
    distinguisher: str

    @property
    def flow(self) -> tuple[str, str]:
        """The flow: (FlowSchema, distinguisher)."""
        return self.flow_schema, self.distinguisher


_SCALE_VERBS = {"get-scale": "get", "update-scale": "update", "patch-scale": "patch"}


def request_verb_and_resource(verb: str, resource: str) -> tuple[str, str, str]:
    """The model's verb and qualified resource as APF sees them: (verb, API group, resource),
    `update-status` being `update` of `<resource>/status` (`patch-status` a `patch` of it), `finalize` an
    `update` of `namespaces/finalize`, `bind` a `create` of `pods/binding`, and `get-scale`,
    `update-scale` and `patch-scale` a `get`, `update` and `patch` of `<resource>/scale`."""
    plain, _, group = resource.partition(".")
    if verb in _SCALE_VERBS:
        return _SCALE_VERBS[verb], group, f"{plain}/scale"
    if verb in ("update-status", "finalize"):
        return "update", group, f"{plain}/{'status' if verb == 'update-status' else 'finalize'}"
    if verb == "patch-status":
        return "patch", group, f"{plain}/status"
    if verb == "bind":
        return "create", group, f"{plain}/binding"
    return verb, group, plain


def classify(user: UserInfo, verb: str, resource: str, namespace: str) -> Classification:
    """The first FlowSchema (by precedence, then name) matching the request."""
    apf_verb, group, plain = request_verb_and_resource(verb, resource)
    for schema in sorted(FLOW_SCHEMAS, key=lambda s: (s.precedence, s.name)):
        if schema.matches(user, apf_verb, group, plain, namespace):
            distinguisher = {"ByUser": user.name, "ByNamespace": namespace}.get(schema.distinguisher, "")
            return Classification(schema.name, schema.priority_level, distinguisher)
    return Classification("catch-all", "catch-all", user.name)


def level(name: str) -> PriorityLevel:
    """The priority level of that name."""
    return next(p for p in PRIORITY_LEVELS if p.name == name)


def flow_hash(flow_schema: str, distinguisher: str) -> int:
    """`apf_controller.go` hashFlowID: SHA-256 of `schema NUL distinguisher`, first 8 bytes, little endian."""
    digest = hashlib.sha256(flow_schema.encode() + b"\x00" + distinguisher.encode()).digest()
    return int.from_bytes(digest[:8], "little")


def deal(hash_value: int, deck_size: int, hand_size: int) -> tuple[int, ...]:
    """`shufflesharding.Dealer.Deal`: `hand_size` distinct cards of `deck_size` from a 64-bit hash."""
    remainders = []
    for i in range(hand_size):
        hash_value, remainder = divmod(hash_value, deck_size - i)
        remainders.append(remainder)
    out = []
    for i in range(hand_size):
        card = remainders[i]
        for j in range(i, 0, -1):
            if card >= remainders[j - 1]:
                card += 1
        out.append(card)
    return tuple(out)


def hand(classification: Classification) -> tuple[int, ...]:
    """The queues of a request's flow at its priority level (empty without queues)."""
    pl = level(classification.priority_level)
    if not pl.queues:
        return ()
    return deal(flow_hash(*classification.flow), pl.queues, pl.hand_size)


def nominal_concurrency(server_limit: int = SERVER_CONCURRENCY_LIMIT) -> dict[str, int]:
    """Each limited level's nominal concurrency limit in seats (`apf_controller.go`:
    ceil(serverCL × NCS / Σ NCS))."""
    total = sum(p.shares for p in PRIORITY_LEVELS if not p.exempt)
    return {p.name: math.ceil(server_limit * p.shares / total) for p in PRIORITY_LEVELS if not p.exempt}
