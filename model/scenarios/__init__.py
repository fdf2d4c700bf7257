"""Built-in scenarios shipped with kubeprop (data files; see `kubeprop.model.scenario`)."""
