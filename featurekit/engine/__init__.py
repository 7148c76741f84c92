"""The engine: compiles Feature definitions into polars plans (being built on branch main)."""
