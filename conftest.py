"""Keep every test, notebook kernel included, away from the user's real key, data and cache
folders."""

from __future__ import annotations

import os
import tempfile

_state_dir = tempfile.mkdtemp(prefix="jido-test-state-")
os.environ["JIDO_MAGICS_KEY_FILE"] = os.path.join(_state_dir, "session_key")
os.environ["JUPYTER_DATA_DIR"] = os.path.join(_state_dir, "jupyter-data")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # LiteLLM fetches prices at import otherwise
os.environ["JIDO_MAGICS_CACHE_DIR"] = os.path.join(_state_dir, "cache")
for _name in ("JIDO_MAGICS_PROVIDER", "JIDO_MAGICS_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_name, None)
