"""Foundations every stage uses: configuration, typed errors, logging."""
