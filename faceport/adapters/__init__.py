"""Adapters: the ports implemented for one shape (local or aws)."""
