"""CustomResourceDefinitions and the custom objects they define.

`apiextensions.k8s.io/v1` (`staging/src/k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/types.go`).
A custom object is unstructured: its metadata is typed, everything else is kept as immutable JSON.
OpenAPI schemas are kept as data here and enforced by `kubeprop.model.api.crd_schema` (docs/objects.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from kubeprop.model.api.meta import Condition, KindInfo, ObjectMeta
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map


@attrs.frozen
class CustomResourceDefinitionNames:
    """plural / singular / kind / listKind / shortNames / categories."""

    plural: str = ""
    singular: str = ""
    kind: str = ""
    list_kind: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@attrs.frozen
class CustomResourceDefinitionVersion:
    """One served version; `subresources.status` enables the status subresource."""

    name: str = ""
    served: bool = False
    storage: bool = False
    schema: Any = None
    subresources: Any = None
    additional_printer_columns: tuple[Any, ...] = ()
    deprecated: bool | None = None
    deprecation_warning: str | None = None
    selectable_fields: tuple[Any, ...] = ()


@attrs.frozen
class CustomResourceDefinitionSpec:
    """group, names, scope (Namespaced or Cluster) and versions."""

    group: str = ""
    names: CustomResourceDefinitionNames = CustomResourceDefinitionNames()
    scope: str = ""
    versions: tuple[CustomResourceDefinitionVersion, ...] = ()
    conversion: Any = None
    preserve_unknown_fields: bool | None = None


@attrs.frozen
class CustomResourceDefinitionStatus:
    """Accepted names and conditions (kept as data)."""

    conditions: tuple[Condition, ...] = ()
    accepted_names: Any = None
    stored_versions: tuple[str, ...] = ()


@attrs.frozen(cache_hash=True)
class CustomResourceDefinition:
    """Defines a custom kind; objects of that kind become `CustomObject`s."""

    INFO: ClassVar[KindInfo] = KindInfo(
        "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced=False
    )

    metadata: ObjectMeta = ObjectMeta()
    spec: CustomResourceDefinitionSpec = CustomResourceDefinitionSpec()
    status: CustomResourceDefinitionStatus = CustomResourceDefinitionStatus()

    def kind_infos(self) -> tuple[KindInfo, ...]:
        """One KindInfo per served version of the defined kind."""
        names = self.spec.names
        has_status = {
            v.name: isinstance(v.subresources, FrozenMap) and "status" in v.subresources for v in self.spec.versions
        }
        return tuple(
            KindInfo(
                self.spec.group, v.name, names.kind, names.plural,
                namespaced=self.spec.scope != "Cluster", status_subresource=has_status[v.name],
            )
            for v in self.spec.versions
            if v.served
        )


@attrs.frozen(cache_hash=True)
class CustomObject:
    """An object of a CRD-defined kind: typed metadata, the rest (spec, status, …) as JSON data."""

    info: KindInfo
    metadata: ObjectMeta = ObjectMeta()
    content: FrozenMap[str, Any] = attrs.field(default=EMPTY, converter=frozen_map)

    @property
    def spec(self) -> Any:
        """The `spec` field (None if absent)."""
        return self.content.get("spec")

    @property
    def status(self) -> Any:
        """The `status` field (None if absent)."""
        return self.content.get("status")
