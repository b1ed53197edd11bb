"""The only Streamlit-aware helpers: cached resources, rendering and session state."""
