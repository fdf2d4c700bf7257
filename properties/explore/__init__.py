"""Exploration engines over the cluster model: breadth-first search (and, later, random walks and
Hypothesis stateful testing). Engines are pure functions of (model, config) → Report."""
