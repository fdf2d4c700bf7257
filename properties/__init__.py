"""kubeprop.properties: what must hold of the control plane, how it is checked, and the CLI."""
