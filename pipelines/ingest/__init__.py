"""Ingest: mirror the platform tables into the warehouse's ``raw`` schema, incrementally."""
