"""The Streamlit dashboard: overview, alerts, reply queue, search, reports (Chinese UI)."""

import yuqing  # noqa: F401  (its loopback guard, when the tests ask for it)
