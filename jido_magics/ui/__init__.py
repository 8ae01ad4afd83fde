"""The session widget (``%session ui``): pure HTML rendering, a throttle, and the view.

Importing this package is cheap; ``view`` imports ipywidgets and ``render`` markdown-it, each
only when used.
"""
