"""Replication pipeline for Task Relation Attention Networks (Ma and Tan) and its baselines."""

__version__ = "0.1.0"
