"""The IPython interface: the ``%session`` and ``%%chat`` magics and extension load/unload."""
