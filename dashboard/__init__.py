"""The Streamlit dashboard: overview, alerts, reply queue, search, reports (Chinese UI)."""
