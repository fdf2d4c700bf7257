"""kubeprop.counterexamples: violations as replayable trace files."""
