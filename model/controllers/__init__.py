"""Controllers of kube-controller-manager, and the `Controller` protocol for users' own."""
