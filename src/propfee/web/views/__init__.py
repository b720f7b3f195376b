"""Staff UI views, one module per section. Views are thin: they read through selectors, write
through services, and render."""
