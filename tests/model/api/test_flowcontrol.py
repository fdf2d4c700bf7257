"""API Priority and Fairness configuration (`kubeprop.model.api.flowcontrol`): classification of the
cluster's clients, shuffle sharding, nominal concurrency."""

from __future__ import annotations

from kubeprop.model.api.flowcontrol import (
    PRIORITY_LEVELS,
    classify,
    deal,
    flow_hash,
    hand,
    nominal_concurrency,
    request_verb_and_resource,
)
from kubeprop.model.api.rbac_authn import UserInfo

NODE = UserInfo("system:node:worker-1", ("system:nodes", "system:authenticated"))
KCM = UserInfo("system:kube-controller-manager", ("system:authenticated",))
SCHEDULER = UserInfo("system:kube-scheduler", ("system:authenticated",))
BATCH = UserInfo("system:serviceaccount:default:batch",
                 ("system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"))


def where(user: UserInfo, verb: str, resource: str, namespace: str = "") -> tuple[str, str, str]:
    c = classify(user, verb, resource, namespace)
    return c.flow_schema, c.priority_level, c.distinguisher


def test_node_heartbeats_go_to_node_high_and_other_kubelet_writes_to_system() -> None:
    assert where(NODE, "update", "leases.coordination.k8s.io", "kube-node-lease") == (
        "system-node-high", "node-high", "system:node:worker-1")
    assert where(NODE, "update-status", "nodes") == ("system-node-high", "node-high", "system:node:worker-1")
    assert where(NODE, "update-status", "pods", "default") == ("system-nodes", "system", "system:node:worker-1")


def test_control_plane_clients() -> None:
    assert where(KCM, "update", "leases.coordination.k8s.io", "kube-system")[:2] == (
        "system-leader-election", "leader-election")
    assert where(KCM, "create", "pods", "default") == ("kube-controller-manager", "workload-high", "default")
    assert where(SCHEDULER, "bind", "pods", "default") == ("kube-scheduler", "workload-high", "default")
    assert request_verb_and_resource("bind", "pods") == ("create", "", "pods/binding")


def test_users_service_accounts_and_masters() -> None:
    assert where(BATCH, "list", "pods", "default")[:2] == ("service-accounts", "workload-low")
    admin = UserInfo("admin", ("system:authenticated",))
    assert where(admin, "patch", "deployments.apps", "default") == ("global-default", "global-default", "admin")
    root = UserInfo("system:admin", ("system:masters", "system:authenticated"))
    assert where(root, "delete", "nodes")[:2] == ("exempt", "exempt")
    anonymous = UserInfo("system:anonymous", ("system:unauthenticated",))
    assert where(anonymous, "get", "pods", "default")[:2] == ("global-default", "global-default")


def test_shuffle_sharding_deals_like_upstream() -> None:
    """`shufflesharding.Dealer.Deal` with hash 10, deck 4, hand 2: remainders 2 (10 mod 4) and 2
    (2 mod 3); the second card skips the first: (2, 3)."""
    assert deal(10, 4, 2) == (2, 3)
    cards = deal(flow_hash("service-accounts", "system:serviceaccount:default:batch"), 128, 6)
    assert len(set(cards)) == 6 and all(0 <= c < 128 for c in cards)
    assert flow_hash("a", "b") == flow_hash("a", "b") != flow_hash("a", "c")
    assert hand(classify(BATCH, "list", "pods", "default")) == cards


def test_nominal_concurrency_shares_the_server_limit() -> None:
    seats = nominal_concurrency()
    total = sum(p.shares for p in PRIORITY_LEVELS if not p.exempt)
    assert total == 245 and "exempt" not in seats
    assert seats["workload-low"] == 245 and seats["node-high"] == 98 and seats["catch-all"] == 13
