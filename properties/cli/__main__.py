"""`python -m kubeprop.properties.cli`: the `kubeprop` command without the console script.

(`kubeprop` is a namespace package, which cannot hold a `__main__` of its own.)"""

from kubeprop.properties.cli.main import entry

entry()
