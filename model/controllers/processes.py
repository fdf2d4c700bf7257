"""Which process — and so which informer cache — each controller runs in.

Every built-in controller runs in kube-controller-manager and reads its one shared informer cache
(`cmd/kube-controller-manager/app/controllermanager.go`: one `SharedInformerFactory` for all
controllers). A user's operator usually does not: it is deployed as a process of its own (its own
Deployment), with its own client-go shared informer factory
(`staging/src/k8s.io/client-go/informers/factory.go`) or controller-runtime cache
(`sigs.k8s.io/controller-runtime/pkg/cache`), whose reflectors LIST and WATCH the API server on their
own: its cache lags the API server independently of the controller manager's, and it crashes and
restarts on its own. A controller whose cache is `own` runs as the component `operator/<name>` here:
its own `InformerState` (its `watches` only), its own `Deliver`/`Relist` actions, its own
`CrashComponent`/`RestartComponent`, its own armed request failure. One whose cache is `shared` is
one more controller of the controller manager (what every built-in one is).

The choice is per user controller: the scenario's `controllerCaches` (name → `own` or `shared`),
else the parameter `userControllerCache` (docs/controllers.md, "What the view is").
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.controllers.user_calls import built_in
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel

OPERATOR_PREFIX = "operator/"
"""The component name of a controller with a cache of its own: `operator/<controller name>`."""
CACHE_CHOICES = ("shared", "own")
"""The values of `userControllerCache` and of a `controllerCaches` entry."""


def operator(controller: str) -> str:
    """The component (process) name of a controller that runs with its own cache."""
    return f"{OPERATOR_PREFIX}{controller}"


class Processes:
    """A model's controllers by process, worked out once (`of`)."""

    __slots__ = ("by_controller", "groups", "own")

    def __init__(self, model: ClusterModel) -> None:
        default = str(model.parameter("userControllerCache"))
        chosen: FrozenMap[str, str] = getattr(model.scenario.spec, "controller_caches", FrozenMap())
        by_controller: dict[str, str] = {}
        groups: dict[str, list[Any]] = {CONTROLLER_MANAGER: []}
        for controller in model.controllers:
            own = not built_in(controller) and chosen.get(controller.name, default) == "own"
            process = operator(controller.name) if own else CONTROLLER_MANAGER
            by_controller[controller.name] = process
            groups.setdefault(process, []).append(controller)
        self.by_controller = by_controller
        """Controller name → its process: the controller manager or `operator/<name>`."""
        self.groups = {process: tuple(found) for process, found in groups.items()}
        """Process → its controllers, in `model.controllers`' order (the same tuple every time)."""
        self.own = tuple(sorted(p for p in groups if p != CONTROLLER_MANAGER))
        """The processes of controllers with their own caches, in name order."""


def of(model: ClusterModel) -> Processes:
    """The model's `Processes`, computed once (kept in `model.derived`)."""
    found = model.derived.get(__name__)
    if found is None:
        found = model.derived[__name__] = Processes(model)
    assert isinstance(found, Processes)
    return found


def process_of(model: ClusterModel, controller: str) -> str:
    """The process `controller` runs in (a name not among the model's controllers: the controller
    manager, where the memories kept beside the controllers — node lifecycle's, the HPA's — live)."""
    return of(model).by_controller.get(controller, CONTROLLER_MANAGER)


def own_processes(model: ClusterModel) -> tuple[str, ...]:
    """The components of the controllers that run with their own caches (none by default)."""
    return of(model).own


def controllers_in(model: ClusterModel, process: str) -> tuple[Any, ...]:
    """The controllers that run in `process`, in `model.controllers`' order (a tuple made once)."""
    return of(model).groups.get(process, ())


def is_operator(component: str) -> bool:
    """Whether `component` is an operator's own process (`operator/<name>`)."""
    return component.startswith(OPERATOR_PREFIX)
