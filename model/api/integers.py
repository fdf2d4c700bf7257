"""The Go integer type of every integer field of the API, so decoding refuses what upstream cannot hold.

Upstream each integer field of an API object is an `int32` or an `int64` (`staging/src/k8s.io/api/
apps/v1/types.go` `DeploymentSpec.Replicas *int32`, `core/v1/types.go` `PodSpec.
TerminationGracePeriodSeconds *int64`, …), and the API server decodes a request body with
`sigs.k8s.io/json` (encoding/json's rules, `staging/src/k8s.io/apimachinery/pkg/runtime/serializer/json/
json.go`): a number its field's type cannot hold is `json: cannot unmarshal number 2147483648 into Go
struct field DeploymentSpec.spec.replicas of type int32`, and the whole request a 400 BadRequest (`…
cannot be handled as a Deployment`, `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go`),
before defaulting or validation see it. An IntOrString's number is an int32 too (`staging/src/k8s.io/
apimachinery/pkg/util/intstr/intstr.go` UnmarshalJSON: `json.Unmarshal(value, &intstr.IntVal)`).

A field declares its type as `Int32` or `Int64` (`typing.Annotated` ints: to attrs, mypy and the model
they are plain ints); `kubeprop.model.api.codec` checks the range while decoding. The model keeps
timestamps as whole seconds of its clock where upstream has `metav1.Time` strings: those are `Int64`,
Go's Unix seconds, so that no input value is unbounded.
"""

from __future__ import annotations

from typing import Annotated, Final

import attrs

from kubeprop.model.errors import describe_value


@attrs.frozen
class GoInt:
    """A Go integer type: its name and the values it holds."""

    name: str
    low: int
    high: int

    def problem(self, value: int) -> str | None:
        """Why `value` does not fit (None if it does), in the words of a range error."""
        if self.low <= value <= self.high:
            return None
        return (f"must be an {self.name}, between {self.low:,} and {self.high:,}, got {describe_value(value)} "
                f"(the API server cannot decode it: json: cannot unmarshal number into a field of type {self.name})")


INT32: Final = GoInt("int32", -(2**31), 2**31 - 1)
INT64: Final = GoInt("int64", -(2**63), 2**63 - 1)

Int32 = Annotated[int, INT32]
"""An `int32` field (or `*int32`, as `Int32 | None`)."""
Int64 = Annotated[int, INT64]
"""An `int64` field, or a timestamp the model keeps as seconds."""
IntOrString = Int32 | str
"""`intstr.IntOrString`: an int32 or a string (a percentage, a port name)."""
